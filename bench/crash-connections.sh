#!/usr/bin/env bash
# Failed requests per worker crash under wrk -c256 (see bench/crash-connections.py).
# BIN_DIR: an already built directory holding `plexus` (default: a release build of this checkout);
# BENCH_SECONDS, CRASHES, BENCH_CONNECTIONS, BENCH_TIMEOUT tune the run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || scripts/install-deps.sh --bench
if [ -z "${BIN_DIR:-}" ]; then
    swift build -c release --product plexus
    BIN_DIR="$(swift build -c release --show-bin-path)"
fi
fixtures="$(mktemp -d /tmp/plexus-crash-fixtures-XXXXXX)"
trap 'rm -rf "$fixtures"' EXIT
bash Tests/Fixtures/CPlugins/build.sh "$fixtures" >/dev/null
python3 bench/crash-connections.py "$BIN_DIR" "$fixtures"
