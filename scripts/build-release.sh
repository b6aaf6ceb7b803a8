#!/usr/bin/env bash
# Builds the plexus host for deployment: release mode, the Swift standard library and
# Foundation linked in statically (-static-stdlib), so the binary runs on a Debian machine
# where no Swift toolchain is installed. It serves plugins that do not need the shared Swift
# runtime (C plugins); it refuses Swift plugins (see README "Deployment").
#
# Usage: scripts/build-release.sh [OUTPUT_DIR]      (default: dist)
# Output: OUTPUT_DIR/bin/plexus, OUTPUT_DIR/plexus.service, OUTPUT_DIR/LIBRARIES (the system
# libraries the binary needs, from ldd: install them with the Debian packages in
# scripts/install-deps.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/dist}"
scratch="$root/.build/static-release"
build=(swift build -c release --product plexus --static-swift-stdlib --scratch-path "$scratch")
(cd "$root" && "${build[@]}")
bin="$(cd "$root" && "${build[@]}" --show-bin-path)"
mkdir -p "$out/bin"
cp "$bin/plexus" "$out/bin/plexus"
cp "$root/deploy/plexus.service" "$out/plexus.service"
# The point of the build: no shared Swift runtime library may be needed.
if ldd "$out/bin/plexus" | grep -E 'libswift|libFoundation|libdispatch|libBlocksRuntime|_FoundationICU'; then
    echo "error: $out/bin/plexus still needs the shared Swift runtime (above); the static build failed" >&2
    exit 1
fi
ldd "$out/bin/plexus" | awk '/=>/ { print $1 }' | sort > "$out/LIBRARIES"
echo "built $out/bin/plexus ($(du -h "$out/bin/plexus" | cut -f1)); system libraries it needs: $(tr '\n' ' ' < "$out/LIBRARIES")"
