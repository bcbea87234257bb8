#!/usr/bin/env bash
# A lecture hall against one `lanchat serve` on 127.0.0.1 (discovery off): join bursts of
# 100, 500 and 1,000 members, a 1,000-member reconnect storm, and IDLE_MEMBERS idle members
# (resident memory per member, join latency while they sit). The host runs pinned to core 0,
# the crowd to core 1 (when the machine has two). Usage: bench.sh [IDLE_MEMBERS [IDLE_SIT]]
# IDLE_SIT (default 150s): how long the idle members sit before the host's memory is read again,
# past the runtime's two-minute periodic garbage collection.
set -euo pipefail
idle=${1:-10000}
sit=${2:-150s}
source "$(dirname "$0")/../benchlib.sh"
go build -o "$dir/crowd" ./tools/crowd
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
start() { # extra flags for serve
  rm -rf "$dir/data"
  "${pin_server[@]}" "$dir/lanchat" serve "$@" --addr "127.0.0.1:$port" --data-dir "$dir/data" --name bench \
    --no-discovery --allow-create --max-members $((idle + 2000)) \
    --rooms general,burst100,burst500,burst1000,storm1000 2>"$dir/serve.log" &
  server=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/api/info" >/dev/null 2>&1 && break; sleep 0.1; done
}
stop() { kill "$server"; wait "$server" || true; server=""; }
results=()
# Bursts and the storm check whole member lists: rooms stay small (the crowd plus its senders).
start --full-list 3000
results+=("$("${pin_load[@]}" "$dir/crowd" -addr "127.0.0.1:$port" -mode burst -n 100,500,1000 | grep '^RESULT')")
stop; start --full-list 3000
results+=("$("${pin_load[@]}" "$dir/crowd" -addr "127.0.0.1:$port" -mode storm -n 1000 | grep '^RESULT')")
stop; start
results+=("$("${pin_load[@]}" "$dir/crowd" -addr "127.0.0.1:$port" -mode idle -n "$idle" -pid "$server" -sit "$sit" | grep '^RESULT')")
stop
echo
echo "A lecture hall (one host, loopback):"
printf '%s\n' "${results[@]}" | sed 's/^RESULT /  /'
