#!/usr/bin/env bash
# Runs the timetable benchmark over the 21 ITC2007 Track 3 instances (or those named with --only).
# Usage: bench/timetable.sh [SECONDS_PER_INSTANCE=60] [extra timetable-bench flags, e.g. --only comp01,comp02]
# Prints a Markdown table (instance, hard violations, soft cost, best-known, ratio) and the geometric
# mean of the ratios. Target: no hard violation on any instance (exit 3 otherwise); exit 1 when an
# instance could not be read or solved.
# Environment: TIMETABLE_DATA (the folder of the .ctt files; default ../shared/datasets/itc2007-cbctt
# beside the checkout), PLEXUS_BIN_DIR (an already built directory holding timetable-bench; default: a
# release build of this checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_INSTANCE="${1:-60}"
shift || true
DATA="${TIMETABLE_DATA:-$(pwd)/../shared/datasets/itc2007-cbctt}"
[ -d "$DATA" ] || { echo "timetable.sh: no data set at $DATA (set TIMETABLE_DATA)" >&2; exit 1; }
if [ -n "${PLEXUS_BIN_DIR:-}" ]; then
    BIN="$PLEXUS_BIN_DIR/timetable-bench"
else
    swift build -c release --product timetable-bench
    BIN="$(swift build -c release --show-bin-path)/timetable-bench"
fi
[ -x "$BIN" ] || { echo "timetable.sh: $BIN is missing" >&2; exit 1; }
exec "$BIN" --dir "$DATA" --seconds "$SECONDS_PER_INSTANCE" --threads 1 "$@"
