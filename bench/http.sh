#!/usr/bin/env bash
# Benchmarks plexus's HTTP path against Node and nginx in one run (see bench/http.py).
# BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 64,256) tune it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
swift build -c release --product plexus
swift build -c release --product PlexusHello
exec python3 bench/http.py "$(swift build -c release --show-bin-path)"
