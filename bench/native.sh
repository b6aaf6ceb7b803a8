#!/usr/bin/env bash
# Native plugins (libffi) against a hand-written Swift plugin: crc32 over 64 bytes through a route
# (CPU per request side by side, target <= 1.1x) and bus service calls per second (bench/native.py).
# Exit 1: the work did not happen; 3: the target was missed. BENCH_ROUNDS, BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_CALLS
# tune it; PLEXUS_BIN_DIR: an already built directory with plexus and libPlexusFixtureCRC.so.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
if [[ -z "${PLEXUS_BIN_DIR:-}" ]]; then
    swift build -c release --product plexus
    swift build -c release --product PlexusFixtureCRC
    PLEXUS_BIN_DIR="$(swift build -c release --show-bin-path)"
fi
exec python3 bench/native.py "$PLEXUS_BIN_DIR"
