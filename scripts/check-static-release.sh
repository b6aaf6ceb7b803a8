#!/usr/bin/env bash
# Tests the static release build (scripts/build-release.sh) the way a machine without a Swift
# toolchain sees it: the toolchain's runtime library directory is hidden under an empty tmpfs in
# a private mount namespace (unshare -m, needs root), then the binary must
#   - print its version, where the debug build (shared Swift runtime) must fail to start,
#   - serve a C plugin (supervised: master and worker), answer /ready and /metrics,
#   - refuse a Swift plugin with the reason, and keep serving;
# and, with the toolchain visible, still refuse the Swift plugin (two Swift runtimes in one process).
# Usage: scripts/check-static-release.sh DEBUG_BIN_DIR
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
debug_bin="${1:?usage: check-static-release.sh DEBUG_BIN_DIR}"
work="$(mktemp -d)"
pid=""
cleanup() { [[ -n "$pid" ]] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f "$work/serve.log" ]] && tail -40 "$work/serve.log" >&2; exit 1; }

"$root/scripts/build-release.sh" "$work/dist" >/dev/null
static="$work/dist/bin/plexus"
swift_libs="$(dirname "$(readlink -f "$(command -v swift)")")/../lib/swift/linux"
swift_libs="$(readlink -f "$swift_libs")"
[[ -f "$swift_libs/libswiftCore.so" ]] || fail "no libswiftCore.so in $swift_libs"
# Runs a command with the toolchain's runtime libraries hidden.
hidden() { unshare -m --propagation private sh -c 'mount -t tmpfs none "$0" && exec "$@"' "$swift_libs" "$@"; }

if hidden "$debug_bin/plexus" --version >/dev/null 2>&1; then fail "the debug build started with $swift_libs hidden: the hiding does not work"; fi
version="$(hidden "$static" --version)" || fail "the static build does not start without $swift_libs"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || fail "unexpected version output: $version"

bash "$root/Tests/Fixtures/CPlugins/build.sh" "$work/c" >/dev/null
mkdir -p "$work/plugins.d"
cp "$work/c/hello-c.so" "$debug_bin/libPlexusHello.so" "$work/plugins.d/"
cat > "$work/plexus.toml" <<TOML
[server]
listen = "127.0.0.1:0"
[plugins]
dir = "plugins.d"
[data]
dir = "data"
TOML
# Not through the function: $! must be the plexus master itself (unshare and sh exec into it).
unshare -m --propagation private sh -c 'mount -t tmpfs none "$0" && exec "$@"' "$swift_libs" \
    "$static" serve --config "$work/plexus.toml" 2> "$work/serve.log" &
pid=$!
port=""
for _ in $(seq 1 200); do
    port="$(grep -oE 'address=127\.0\.0\.1:[0-9]+' "$work/serve.log" | head -1 | cut -d: -f2 || true)"
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || fail "the static build exited while starting"
    sleep 0.1
done
[[ -n "$port" ]] || fail "the static build did not become ready"
key="$(cat "$work/data/admin.key")"
[[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/v1/c/hello" -H "Authorization: Bearer $key")" == 200 ]] || fail "the C plugin is not served"
[[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/ready")" == 200 ]] || fail "/ready is not 200"
# Read whole first: with pipefail, grep -q leaving early can fail curl's write (SIGPIPE) after a match.
metrics="$(curl -s "http://127.0.0.1:$port/metrics" -H "Authorization: Bearer $key")"
grep -q '^plexus_build_info{' <<< "$metrics" || fail "/metrics has no plexus_build_info"
plugins="$(curl -s "http://127.0.0.1:$port/admin/plugins" -H "Authorization: Bearer $key")"
grep -q 'needs the shared Swift runtime (libswiftCore.so)' <<< "$plugins" || fail "the Swift plugin was not refused with its reason"
kill -TERM "$pid"; wait "$pid" || fail "the static build did not exit 0 on SIGTERM"; pid=""
# With the toolchain visible the Swift plugin would load: the static host must refuse it all the same.
inspect="$("$static" plugin inspect "$debug_bin/libPlexusHello.so" 2>&1 || true)"
grep -q 'needs the shared Swift runtime' <<< "$inspect" || fail "with the toolchain visible the static host did not refuse the Swift plugin: $inspect"
# The unit file as shipped, pointing at this binary: systemd must take every line of it.
if command -v systemd-analyze >/dev/null; then
    sed "s|/usr/local/bin/plexus|$static|g" "$work/dist/plexus.service" > "$work/plexus.service"
    complaints="$(systemd-analyze verify "$work/plexus.service" 2>&1 || true)"
    [[ -z "$complaints" ]] || fail "systemd-analyze verify: $complaints"
fi
echo "static release: runs without the Swift toolchain ($version), serves C plugins, refuses Swift plugins"
