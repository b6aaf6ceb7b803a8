#!/usr/bin/env bash
# SSE fan-out benchmark (see bench/sse_fanout.py): 200 clients, 1000 events/s by default.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product plexus
exec python3 bench/sse_fanout.py "$(swift build -c release --show-bin-path)" "$@"
