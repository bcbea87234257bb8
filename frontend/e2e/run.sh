#!/usr/bin/env bash
# Browser end-to-end tests. Builds lanchat (with the web UI embedded), then
# runs the tests inside a network namespace made for this run: the host
# listens on 127.0.0.1 there, and nothing reaches the machine's real network.
# The namespace is deleted afterwards, also on failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
out=$root/test-output/e2e
mkdir -p "$out"
rm -f "$out"/*.png "$out"/server.log

work=$(mktemp -d)
ns="e2e-$$"
made=""
cleanup() {
  if [ -n "$made" ]; then
    # stop what the tests left running in the namespace, then remove it
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# LANCHAT_BIN may name a binary built elsewhere; by default this tree is built.
bin=${LANCHAT_BIN:-}
if [ -z "$bin" ]; then
  bin=$work/lanchat
  go build -o "$bin" .
fi

if ! ip netns add "$ns" 2>"$work/ns.err"; then
  cat "$work/ns.err" >&2
  if [ "${CI:-}" = true ]; then
    echo "e2e: cannot create a network namespace (root needed); failing because CI=true" >&2
    exit 1
  fi
  echo "e2e: SKIPPED: cannot create a network namespace (run as root)" >&2
  exit 0
fi
made=1
ip -n "$ns" link set lo up
# A LAN of the namespace's own (a veth pair with both ends inside it) for the hosts that listen
# on every address: their join links and QR codes name 10.99.0.1.
ip -n "$ns" link add lan0 type veth peer name lan1
ip -n "$ns" addr add 10.99.0.1/24 dev lan0
ip -n "$ns" link set lan0 up
ip -n "$ns" link set lan1 up
# The tests' hosts listen on fixed ports (47xxx); keep the namespace's outgoing
# connections from taking one of them as their local port.
ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="50000 60999"

ip netns exec "$ns" env LANCHAT_BIN="$bin" E2E_OUT="$out" E2E_TMP="$work" \
  node --test --test-concurrency=1 --test-reporter=spec frontend/e2e/chat.test.mjs frontend/e2e/controls.test.mjs frontend/e2e/course.test.mjs frontend/e2e/members.test.mjs frontend/e2e/failover.test.mjs frontend/e2e/https.test.mjs frontend/e2e/links.test.mjs frontend/e2e/firstrun.test.mjs frontend/e2e/numbers.test.mjs frontend/e2e/roster.test.mjs frontend/e2e/scrolling.test.mjs frontend/e2e/phone.test.mjs frontend/e2e/textsize.test.mjs frontend/e2e/files.test.mjs frontend/e2e/search.test.mjs frontend/e2e/announce.test.mjs frontend/e2e/keyboard.test.mjs frontend/e2e/conversations.test.mjs
