#!/usr/bin/env bash
# Installs what lanchat's build and tests need, skipping what is there.
# avahi-daemon, avahi-utils and dbus are an independent mDNS stack for the
# discovery interop test, which runs them only inside network namespaces it
# creates; nftables blocks multicast on the test's own bridge.
set -euo pipefail
pkgs=(build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev iproute2
  avahi-daemon avahi-utils dbus nftables)
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
