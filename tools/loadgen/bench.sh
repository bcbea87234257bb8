#!/usr/bin/env bash
# Native protocol against Socket.IO on one lanchat host: N members in one room
# on 127.0.0.1, the same message size. The server runs pinned to core 0, the
# load generator to core 1 (when the machine has two). Usage: bench.sh N SIZE
set -euo pipefail
n=${1:-500}
size=${2:-100}
source "$(dirname "$0")/../benchlib.sh"
go build -o "$dir/loadgen" ./tools/loadgen
results=()
# Native at both durabilities (full, the default, syncs every commit; group commit
# amortises it), Socket.IO at process.
for run in native:full native:process socketio:process; do
  mode=${run%%:*} durability=${run##*:}
  rm -rf "$dir/data"
  "${pin_server[@]}" "$dir/lanchat" serve --addr "127.0.0.1:$port" --data-dir "$dir/data" --name bench \
    --no-discovery --durability "$durability" --rooms general 2>"$dir/serve.log" &
  server=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/api/info" >/dev/null 2>&1 && break; sleep 0.1; done
  out=$("${pin_load[@]}" "$dir/loadgen" -addr "127.0.0.1:$port" -mode "$mode" -n "$n" -size "$size" -pid "$server")
  echo "$out" | grep -v '^RESULT'
  results+=("$(echo "$out" | grep '^RESULT') durability=$durability")
  kill "$server"; wait "$server" || true; server=""
done
echo
echo "Native (protocol v1) against Socket.IO (WebSocket transport), $n members, $size-byte texts:"
printf '%-9s %-10s %14s %9s %12s %12s %12s %12s %14s\n' mode durability deliveries/s host-cpu idle-p50 sat-p50 sat-p90 sat-p99 bytes/delivery
for r in "${results[@]}"; do
  eval "$(echo "$r" | sed 's/^RESULT //')"
  printf '%-9s %-10s %14s %8s%% %10sus %10sus %10sus %10sus %14s\n' "$mode" "$durability" "$deliveries_per_s" "$host_cpu" "$light_p50_us" "$sat_p50_us" "$sat_p90_us" "$sat_p99_us" "$bytes_per_delivery"
done
