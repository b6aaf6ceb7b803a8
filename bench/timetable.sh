#!/usr/bin/env bash
# Builds the timetable benchmark in release and runs it over the 21 ITC2007 Track 3 instances.
# Usage: bench/timetable.sh [SECONDS_PER_INSTANCE=60] [extra timetable-bench flags, e.g. --only comp01,comp02]
# Prints a Markdown table (instance, hard violations, soft cost, best-known, ratio) and the geometric mean.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_INSTANCE="${1:-60}"
shift || true
DATA="${TIMETABLE_DATA:-$(pwd)/../shared/datasets/itc2007-cbctt}"
[ -d "$DATA" ] || DATA=/work/shared/datasets/itc2007-cbctt
swift build -c release --product timetable-bench
BIN="$(swift build -c release --show-bin-path)/timetable-bench"
exec "$BIN" --dir "$DATA" --seconds "$SECONDS_PER_INSTANCE" --threads 1 "$@"
