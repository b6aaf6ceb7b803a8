#!/usr/bin/env bash
# Scaffolds a plugin package with `plexus plugin new`, then builds it and runs its own test
# (which starts the real plexus over the new plugin). Usage: check-scaffold.sh [PLEXUS_BIN_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-$(swift build --show-bin-path)}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$bin/plexus" plugin new scaffold-check --output "$work/scaffold-check" --plexus-path "$PWD"
cd "$work/scaffold-check"
swift build
PLEXUS_BINARY="$bin/plexus" swift test
