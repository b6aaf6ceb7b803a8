#!/usr/bin/env bash
# SSE fan-out: 200 clients (default) on one topic, 1000 events/s published over HTTP, latency
# from publish to receipt for every delivery. Server pinned to CPU 0, the C client to CPU 1.
# Every request carries the installation's admin key (<data>/admin.key): the event API answers
# verified callers only.
# Usage: bench/sse-fanout.sh [CLIENTS] [RATE] [SECONDS]
# Exit status: 0 target met (p99 < 10 ms); 1 the work did not happen (the server did not start, a
# stream or a publish was refused, a delivery is missing): no figures; 3 the target was missed.
# PLEXUS_BIN_DIR: an already built directory holding plexus (default: a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PLEXUS_BIN_DIR:-}" ]]; then
    scripts/install-deps.sh
    swift build -c release --product plexus
    PLEXUS_BIN_DIR="$(swift build -c release --show-bin-path)"
fi
bin="$PLEXUS_BIN_DIR"
work="$(mktemp -d)"
server=""
trap '[[ -n "$server" ]] && { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; }; rm -rf "$work"' EXIT
cc -O2 -pthread bench/sse_fanout_client.c -o "$work/sse-client"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/plugins.d"
taskset -c 0 "$bin/plexus" serve --plugins "$work/plugins.d" --data "$work/data" --listen "127.0.0.1:$port" --no-access-log --log-level warning \
    2> "$work/plexus.log" &
server=$!
ready=""
for _ in $(seq 200); do
    if [[ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port/health" || true)" == 200 && -s "$work/data/admin.key" ]]; then ready=1; break; fi
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
done
if [[ -z "$ready" ]]; then
    cat "$work/plexus.log" >&2
    echo "sse-fanout: FAILED: plexus did not start on 127.0.0.1:$port" >&2
    exit 1
fi
key="$(tr -d '[:space:]' < "$work/data/admin.key")"
status=0
taskset -c 1 "$work/sse-client" "$port" "${1:-200}" "${2:-1000}" "${3:-5}" "$key" || status=$?
exit "$status"
