# lanchat: `make run` builds what is missing and starts the app; `make test` runs everything CI checks.
SHELL := /bin/bash
export PATH := $(HOME)/go/bin:/usr/local/go/bin:$(PATH)
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test test-go test-burst bench-crowd bench-cluster bench-files lint deps bench bench-history serve frontend test-frontend test-e2e build build-windows test-desktop \
	test-socketio bench-socketio vendor-socketio

## System packages, pinned tools and Node modules: installed only when missing.
deps:
	@scripts/deps.sh
	@$(GO) mod download

serve:
	$(GO) run . serve

## Web UI (frontend/): npm ci only when node_modules is missing or older than the lock file,
## vite build only when a source changed. Go embeds frontend/dist, so Go targets need it.
FRONTEND_SRC := $(shell find frontend/src frontend/public -type f -not -name '*.test.ts' 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/svelte.config.js frontend/tsconfig.json frontend/package.json
NODE_STAMP := frontend/node_modules/.installed

$(NODE_STAMP): frontend/package-lock.json frontend/package.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

frontend/dist/index.html: $(NODE_STAMP) $(FRONTEND_SRC)
	cd frontend && npx --no-install vite build --logLevel warn
	@touch $@

frontend: frontend/dist/index.html

test-frontend: $(NODE_STAMP)
	cd frontend && npx --no-install svelte-check --tsconfig ./tsconfig.json --fail-on-warnings --output human
	cd frontend && npx --no-install vitest run

## Browser end-to-end tests: a real `lanchat serve` and Debian's Chromium in a network namespace.
test-e2e: frontend
	frontend/e2e/run.sh

## Desktop app (Wails): the Linux binary with the UI embedded, stripped and version stamped,
## with its .desktop file and icon beside it; the Windows one cross-built with icon and manifest.
DESKTOP_TAGS := desktop,production,webkit2_41
WAILS := $(shell $(GO) env GOPATH)/bin/wails

build: deps frontend
	$(GO) build -tags $(DESKTOP_TAGS) -trimpath -ldflags "-w -s -X main.version=$(VERSION)" -o build/bin/lanchat .
	install -m 644 build/linux/lanchat.desktop build/bin/lanchat.desktop
	install -m 644 build/appicon.png build/bin/lanchat.png

build-windows: deps frontend
	$(WAILS) build -platform windows/amd64 -s -m -nosyncgomod -skipbindings -skipembedcreate -trimpath \
		-ldflags "-X main.version=$(VERSION)" -o lanchat.exe

run: build
	./build/bin/lanchat

## The real window: build/bin/lanchat on Xvfb in a network namespace; screenshots in test-output/.
test-desktop: build
	LANCHAT_BIN=$(CURDIR)/build/bin/lanchat $(GO) test -race -count=1 -v -tags desktoptest ./app/desktoptest/

## staticcheck, pinned: built into GOPATH/bin beside wails (scripts/deps.sh) the first time lint needs it;
## the version in the file name builds the new one when the pin changes.
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck-$(STATICCHECK_VERSION)

$(STATICCHECK):
	@echo "installing: staticcheck $(STATICCHECK_VERSION)"
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && \
		GOBIN="$$dir" $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) && \
		mkdir -p $(@D) && mv "$$dir/staticcheck" $@

lint: frontend $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) mod tidy -diff

test-go: frontend
	$(GO) test -race -count=1 ./...

test: deps lint test-go test-burst test-frontend test-e2e test-desktop test-socketio

## A lecture hall at full size: 1,000 native clients join one room at once, then lose their
## connections together and resume (the race detector, in test-go, runs them with 100).
test-burst: frontend
	set -o pipefail; $(GO) test -count=1 -run 'TestJoinBurst1000|TestReconnectStorm1000' -v ./backend/server | grep -vE '^=== '

## A cluster of three boxes on loopback (real processes): acknowledged messages/s and deliveries/s with
## 6 members spread over the boxes, against one box without a cluster; the longest pause in acks when a
## box is killed with SIGKILL.
bench-cluster:
	$(GO) test -run '^$$' -bench 'Cluster' -benchtime 1x ./backend/host

bench: bench-socketio bench-crowd
	$(GO) test -run '^$$' -bench . -benchmem ./backend/...

## Durable history alone: acknowledged messages/s with SQLite (full and process durability, with and
## without group commit) against the memory store, and the resume of 1,000 missed messages (target <= 50 ms).
## LANCHAT_BENCH_DIR=/some/disk measures on another disk.
bench-files:
	$(GO) test -run '^$$' -bench 'FilesHandout' -benchtime 3x ./backend/host

bench-history:
	$(GO) test -run '^$$' -bench 'AckedMessages' -benchtime 3000x ./backend/store
	$(GO) test -run '^$$' -bench 'Resume1000|Since1000' -benchtime 200x ./backend/store

## Socket.IO endpoint: the official npm socket.io-client (both transports) and the course page in
## Chromium against a real `lanchat serve` on 127.0.0.1 (tests/socketio, npm ci only when stale).
SIO_DIR := tests/socketio
SIO_STAMP := $(SIO_DIR)/node_modules/.installed

$(SIO_STAMP): $(SIO_DIR)/package-lock.json $(SIO_DIR)/package.json
	cd $(SIO_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

test-socketio: $(SIO_STAMP) frontend
	@dir=$$(mktemp -d) && trap 'rm -rf "$$dir"' EXIT && $(GO) build -o "$$dir/lanchat" . && \
		cd $(SIO_DIR) && LANCHAT_BIN="$$dir/lanchat" node --test --test-concurrency=1 --test-timeout=120000 socketio.test.mjs course.test.mjs burst.test.mjs

## The official client's browser bundle served at /course/, refreshed from the pinned npm package.
vendor-socketio: $(SIO_STAMP)
	cp $(SIO_DIR)/node_modules/socket.io-client/dist/socket.io.min.js backend/socketio/course/socket.io.min.js
	cp $(SIO_DIR)/node_modules/socket.io-client/LICENSE backend/socketio/course/socket.io-client.LICENSE

## A lecture hall on one `lanchat serve`: join bursts (100, 500, 1,000), a 1,000-member reconnect
## storm, and IDLE_MEMBERS idle members (memory per member 10 s after they joined and after IDLE_SIT,
## join latency while they sit).
IDLE_MEMBERS ?= 10000
IDLE_SIT ?= 150s
bench-crowd: frontend
	tools/crowd/bench.sh $(IDLE_MEMBERS) $(IDLE_SIT)

## Native protocol against Socket.IO on the same host: N members in one room on 127.0.0.1, the server
## pinned to one core and the load generator to the other; deliveries/s, latency, bytes per delivery.
BENCH_MEMBERS ?= 500
BENCH_SIZE ?= 100
bench-socketio: frontend
	tools/loadgen/bench.sh $(BENCH_MEMBERS) $(BENCH_SIZE)
