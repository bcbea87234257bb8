#!/usr/bin/env bash
# Installs what lanchat's build and tests need, skipping what is there.
# avahi-daemon, avahi-utils and dbus are an independent mDNS stack for the
# discovery interop test, which runs them only inside network namespaces it
# creates; nftables blocks multicast on the test's own bridge.
# xvfb, xauth, imagemagick, xdotool and the emoji font are for the desktop
# window test (a virtual screen, screenshots, finding and driving the window).
set -euo pipefail

# Go comes with the machine (go.mod names the version); say so plainly if not.
if ! command -v go >/dev/null 2>&1; then
  echo "deps: Go is not on PATH; install Go $(sed -n 's/^go //p' go.mod) or newer and run make again" >&2
  exit 1
fi
pkgs=(build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev iproute2
  avahi-daemon avahi-utils dbus nftables
  xvfb xauth imagemagick xdotool fonts-noto-color-emoji
  chromium)
# chromium is Debian's browser for the web UI's end-to-end tests (frontend/e2e).
# Node.js builds and tests the web UI; the machine's own is used when it has one.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  # Installing avahi-daemon must not start it on the machine's real network:
  # keep package scripts from starting services, and mask avahi's units.
  policy=/usr/sbin/policy-rc.d
  ours=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    ours=1
  fi
  trap '[ -n "$ours" ] && $sudo rm -f "$policy"' EXIT
  if [ -d /run/systemd/system ]; then
    $sudo systemctl mask avahi-daemon.service avahi-daemon.socket >/dev/null 2>&1 || true
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Vite needs Node.js 20.19 or newer.
node_ok=$(node -e 'const [a,b]=process.versions.node.split(".").map(Number); console.log(a>20||(a===20&&b>=19)?1:0)' 2>/dev/null || echo 0)
if [ "$node_ok" != 1 ]; then
  echo "deps: the web UI needs Node.js 20.19 or newer; found $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi

# The Wails CLI, pinned (make build-windows uses it).
wails_version=v2.16.0
wails="$(go env GOPATH)/bin/wails"
have=""
[ -x "$wails" ] && have="$("$wails" version 2>/dev/null || true)"
if [ "${have%%$'\n'*}" != "$wails_version" ]; then
  echo "installing: wails $wails_version"
  go install "github.com/wailsapp/wails/v2/cmd/wails@$wails_version"
fi
