#!/usr/bin/env bash
# Copies the built-in plugins from a build directory into a plugins directory.
# Usage: install-plugins.sh BIN_DIR PLUGINS_DIR
set -euo pipefail
bin="$1"
target="$2"
mkdir -p "$target"
for product in PlexusHello PlexusDocCompare PlexusTimetable PlexusCompliance PlexusVoice PlexusVisualization PlexusWorkflows PlexusWhiteLabel; do
    if [ -f "$bin/lib$product.so" ]; then
        install -m 0644 "$bin/lib$product.so" "$target/lib$product.so"
        echo "installed $target/lib$product.so" >&2
    fi
done
# The compliance plugin's rule packs go beside the plugins (plugins.d/compliance/*.json).
packs="$(cd "$(dirname "$0")/.." && pwd)/plugins.d/compliance"
if [ -d "$packs" ] && [ "$(cd "$target" && pwd)/compliance" != "$packs" ]; then
    mkdir -p "$target/compliance"
    install -m 0644 "$packs"/*.json "$target/compliance/"
    echo "installed $target/compliance/*.json" >&2
fi
# The workflows plugin's shipped definitions go beside the plugins too (plugins.d/workflows/*.json).
definitions="$(cd "$(dirname "$0")/.." && pwd)/plugins.d/workflows"
if [ -d "$definitions" ] && [ "$(cd "$target" && pwd)/workflows" != "$definitions" ]; then
    mkdir -p "$target/workflows"
    install -m 0644 "$definitions"/*.json "$target/workflows/"
    echo "installed $target/workflows/*.json" >&2
fi
# The white-label plugin starts only where the operator grants it the tenant directory:
# `[tenants] directory_plugins = "whitelabel"` in the runtime's config (see Plugins/WhiteLabel/README.md).
