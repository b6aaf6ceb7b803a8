#!/usr/bin/env bash
# Failed requests per worker crash under wrk -c256 (see bench/crash-connections.py).
# BIN_DIR or PLEXUS_BIN_DIR: an already built directory holding `plexus` (default: a release build of
# this checkout); BENCH_SECONDS, CRASHES, BENCH_CONNECTIONS, BENCH_TIMEOUT tune the run.
# Exit 3: requests failed around a crash; exit 1: the work did not happen.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || scripts/install-deps.sh --bench
BIN_DIR="${BIN_DIR:-${PLEXUS_BIN_DIR:-}}"
if [ -z "$BIN_DIR" ]; then
    swift build -c release --product plexus
    BIN_DIR="$(swift build -c release --show-bin-path)"
fi
[ -x "$BIN_DIR/plexus" ] || { echo "crash-connections.sh: $BIN_DIR/plexus is missing" >&2; exit 1; }
fixtures="$(mktemp -d /tmp/plexus-crash-fixtures-XXXXXX)"
trap 'rm -rf "$fixtures"' EXIT
bash Tests/Fixtures/CPlugins/build.sh "$fixtures" >/dev/null
python3 bench/crash-connections.py "$BIN_DIR" "$fixtures"
