#!/usr/bin/env bash
# SSE fan-out: 200 clients (default) on one topic, 1000 events/s published over HTTP, latency
# from publish to receipt for every delivery. Server pinned to CPU 0, the C client to CPU 1.
# Usage: bench/sse-fanout.sh [CLIENTS] [RATE] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product plexus
bin="$(swift build -c release --show-bin-path)"
work="$(mktemp -d)"
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
cc -O2 -pthread bench/sse_fanout_client.c -o "$work/sse-client"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/plugins.d"
taskset -c 0 "$bin/plexus" serve --plugins "$work/plugins.d" --data "$work/data" --listen "127.0.0.1:$port" --no-access-log --log-level warning &
server=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
taskset -c 1 "$work/sse-client" "$port" "${1:-200}" "${2:-1000}" "${3:-5}"
