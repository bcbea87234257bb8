#!/usr/bin/env bash
# Installs what lanchat's build and tests need, skipping what is there.
set -euo pipefail
pkgs=(build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev iproute2)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
