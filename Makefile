# lanchat: `make run` builds what is missing and starts the app; `make test` runs everything CI checks.
SHELL := /bin/bash
export PATH := $(HOME)/go/bin:/usr/local/go/bin:$(PATH)
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test test-go lint deps deps-go bench serve

## System packages, pinned tools and Node modules: installed only when missing.
deps: deps-go
	@scripts/deps.sh

deps-go:
	@$(GO) mod download

serve:
	$(GO) run . serve

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test -race -count=1 ./...

test: deps lint test-go

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./backend/...
