#!/usr/bin/env bash
# .docx read time: DocDiff's reader (libzip + libxml2) against the one it replaced (ZIPFoundation +
# FoundationXML, bench/docx-bench/PreviousReader.swift) on the same generated .docx, in one run.
# Usage: bench/docx.sh [PARAGRAPHS=20000] [ROUNDS=5]
#   env: DOCX_BIN (or PLEXUS_BIN_DIR): use docx-bench from this directory instead of building a release one
# Prints best and median CPU seconds of each, MB/s of XML, the ratio new/previous, and whether both read
# the same paragraphs. Exit: 0 target met (new not slower), 3 missed, 1 the work did not happen.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${DOCX_BIN:-${PLEXUS_BIN_DIR:-}}"
if [[ -z "$bin" ]]; then
    nice -n 5 swift build -c release --product docx-bench >&2
    bin="$(swift build -c release --show-bin-path)"
fi
[[ -x "$bin/docx-bench" ]] || { echo "docx.sh: $bin/docx-bench is missing" >&2; exit 1; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
exec "$bin/docx-bench" "${1:-20000}" "${2:-5}"
