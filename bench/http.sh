#!/usr/bin/env bash
# Benchmarks plexus's HTTP path against nginx and Node in one run, access log off and on
# (see bench/http.py; exit 1: the work did not happen, 3: a target missed).
# BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 64,256) and BENCH_STARTS tune it;
# PLEXUS_BIN_DIR: an already built directory with plexus and libPlexusHello.so (default: a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
if [[ -z "${PLEXUS_BIN_DIR:-}" ]]; then
    swift build -c release --product plexus
    swift build -c release --product PlexusHello
    PLEXUS_BIN_DIR="$(swift build -c release --show-bin-path)"
fi
exec python3 bench/http.py "$PLEXUS_BIN_DIR"
