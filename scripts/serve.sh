#!/usr/bin/env bash
# Sets up, builds (release), installs the built-in plugins into plugins.d, and serves.
# Extra arguments go to `plexus serve` (e.g. --listen 127.0.0.1:9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release
scripts/install-plugins.sh "$(swift build -c release --show-bin-path)" plugins.d
exec "$(swift build -c release --show-bin-path)/plexus" serve --plugins plugins.d "$@"
