#!/usr/bin/env bash
# Soak test: the runtime with every shipped plugin under a mixed load at half its measured capacity
# for MINUTES (default 30), sampling RSS, descriptors, loop lag, p99 and errors every 10 s
# (bench/soak.py says what the load is and the targets).
#   bench/soak.sh [MINUTES]
# PLEXUS_BIN_DIR: an already built directory with plexus and the plugin libraries (default: a release
# build of this checkout). SOAK_CHECK=leaks checks only for gross leaks (scripts/test.sh's 2 minutes).
# Exit: 0 targets met; 1 the work did not happen; 3 a target was missed.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
[[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "soak: MINUTES must be a number, not '$minutes'" >&2; exit 2; }
bin="${PLEXUS_BIN_DIR:-}"
if [[ -z "$bin" ]]; then
    for product in plexus PlexusHello PlexusDocCompare PlexusTimetable PlexusCompliance PlexusVoice PlexusVisualization PlexusWorkflows PlexusWhiteLabel; do
        swift build -c release --product "$product" >&2
    done
    bin="$(swift build -c release --show-bin-path)"
fi
[[ -x "$bin/plexus" ]] || { echo "soak: $bin/plexus is missing" >&2; exit 1; }
fixtures="$(mktemp -d /tmp/plexus-soak-fixtures-XXXXXX)"
trap 'rm -rf "$fixtures"' EXIT
bash Tests/Fixtures/CPlugins/build.sh "$fixtures" >/dev/null
python3 bench/soak.py "$bin" "$fixtures" "$minutes"
