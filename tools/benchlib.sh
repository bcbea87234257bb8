# Shared by the benchmark scripts (sourced): a temporary dir, the lanchat binary built into it,
# cleanup of the host on exit, and the cores for host and load (core 0 and core 1 when the
# machine has two). Sets: dir, server (the host's pid, "" when none), pin_server, pin_load.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
go build -o "$dir/lanchat" .
pin_server=(); pin_load=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin_server=(taskset -c 0); pin_load=(taskset -c 1); fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
