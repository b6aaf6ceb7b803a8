#!/usr/bin/env bash
# Benchmarks `plexus serve --supervise` (see bench/supervisor.py): crash-to-serving time, plugins.d
# change-to-new-generation time, failed requests during reloads under load, and the requests/s cost
# of supervision (wrk pinned as in bench/http.py). BENCH_SECONDS (default 10) tunes the wrk runs;
# SCRATCH (default .build) is the SwiftPM scratch path.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${SCRATCH:-.build}"
command -v wrk >/dev/null || scripts/install-deps.sh --bench
swift build -c release --scratch-path "$SCRATCH" --product plexus
bin="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
fixtures="$(mktemp -d /tmp/plexus-sup-fixtures-XXXXXX)"
trap 'rm -rf "$fixtures"' EXIT
bash Tests/Fixtures/CPlugins/build.sh "$fixtures" >/dev/null
python3 bench/supervisor.py "$bin" "$fixtures"
