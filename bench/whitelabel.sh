#!/usr/bin/env bash
# White-label flags: local evaluation through the flag helper's table (target >= 5,000,000
# evaluations/s for a flag with a 3-condition constraint and a percentage), the 25% rollout over
# 100,000 user ids (25% within 0.5 points; raising it to 50% keeps every user who had it), and
# GET /api/v1/flags over HTTP beside the Hello route in the same plexus (CPU per request within
# 1.3x). Exit 1 when the work did not happen or the distribution property fails, 3 when a target
# is missed.
#
# Environment: PLEXUS_BIN_DIR (an already built directory with plexus, the two plugins and
# whitelabel-bench; default: a release build), EVALUATIONS (default 5000000), ROUNDS, SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -n "${PLEXUS_BIN_DIR:-}" ]]; then
    bin="$PLEXUS_BIN_DIR"
else
    for product in plexus PlexusWhiteLabel PlexusHello whitelabel-bench; do
        swift build -c release --product "$product" >&2 || { echo "the release build of $product failed" >&2; exit 1; }
    done
    bin="$(swift build -c release --show-bin-path)"
fi
evaluations="${EVALUATIONS:-5000000}"
missed=0
out="$("$bin/whitelabel-bench" "$evaluations")" || { echo "$out"; echo "whitelabel-bench failed" >&2; exit 1; }
echo "$out"
rate="$(sed -n 's/.*per_second=\([0-9]*\).*/\1/p' <<<"$out")"
[[ -n "$rate" ]] || { echo "whitelabel-bench printed no rate" >&2; exit 1; }
if (( rate < 5000000 )); then echo "TARGET MISSED: $rate evaluations/s < 5,000,000"; missed=1; fi
status=0
python3 bench/whitelabel.py "$bin" || status=$?
if (( status == 1 )); then exit 1; fi
if (( status == 3 || missed )); then exit 3; fi
if (( status != 0 )); then exit 1; fi
