#!/usr/bin/env bash
# Benchmarks `plexus serve --supervise` (see bench/supervisor.py): crash-to-serving time, plugins.d
# change-to-new-generation time, failed requests during reloads under load, and the requests/s cost
# of supervision (wrk pinned as in bench/http.py). BENCH_SECONDS (default 10) tunes the wrk runs;
# CRASH_RUNS, CHANGE_RUNS, RELOADS and BENCH_ROUNDS the counts. PLEXUS_BIN_DIR: an already built
# directory holding `plexus` (default: a release build, SCRATCH (default .build) its scratch path).
# Exit 3: a reload failed requests under load; exit 1: the work did not happen.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${SCRATCH:-.build}"
command -v wrk >/dev/null || scripts/install-deps.sh --bench
if [ -n "${PLEXUS_BIN_DIR:-}" ]; then
    bin="$PLEXUS_BIN_DIR"
else
    swift build -c release --scratch-path "$SCRATCH" --product plexus
    bin="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
fi
[ -x "$bin/plexus" ] || { echo "supervisor.sh: $bin/plexus is missing" >&2; exit 1; }
fixtures="$(mktemp -d /tmp/plexus-sup-fixtures-XXXXXX)"
trap 'rm -rf "$fixtures"' EXIT
bash Tests/Fixtures/CPlugins/build.sh "$fixtures" >/dev/null
python3 bench/supervisor.py "$bin" "$fixtures"
