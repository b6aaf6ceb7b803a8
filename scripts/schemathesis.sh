#!/usr/bin/env bash
# Fuzzes the HTTP API against its own OpenAPI document with schemathesis: starts the built plexus
# on loopback over the shipped plugins (Hello, DocCompare, Timetable) with a throwaway config and
# data directory, runs `schemathesis run` bounded in examples and time as the admin identity,
# stops the server, and exits non-zero when schemathesis found a failure.
#
# Usage: scripts/schemathesis.sh [BIN_DIR]      (default: `swift build --show-bin-path`)
# SCHEMATHESIS_MAX_EXAMPLES (default 20) and SCHEMATHESIS_TIMEOUT_S (default 300) tune it;
# SCHEMATHESIS_CHECKS (default below) picks the checks that fail the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-$(swift build --show-bin-path)}"
version="4.32.5"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-20}"
time_limit="${SCHEMATHESIS_TIMEOUT_S:-300}"
checks="${SCHEMATHESIS_CHECKS:-not_a_server_error,response_schema_conformance,content_type_conformance}"

if ! python3 -m pip show schemathesis 2>/dev/null | grep -qx "Version: $version"; then
    # (A Debian system Python refuses installs outside a virtualenv unless told otherwise.)
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "schemathesis==$version" >/dev/null 2>&1 ||
        python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --break-system-packages "schemathesis==$version" >/dev/null
fi

work="$(mktemp -d)"
server=""
cleanup() {
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/plugins.d"
for plugin in libPlexusHello.so libPlexusDocCompare.so libPlexusTimetable.so; do
    cp "$bin/$plugin" "$work/plugins.d/"
done
cat > "$work/plexus.toml" <<'EOF'
[server]
listen = "127.0.0.1:0"
[plugins]
dir = "plugins.d"
[data]
dir = "data"
EOF

# Unsupervised: a crash ends the run (and fails it) instead of being contained and restarted.
"$bin/plexus" serve --no-supervise --config "$work/plexus.toml" 2> "$work/plexus.log" &
server=$!
port=""
for _ in $(seq 1 300); do
    port="$(grep -oE 'address=127\.0\.0\.1:[0-9]+' "$work/plexus.log" | head -1 | cut -d: -f2 || true)"
    [[ -n "$port" && -s "$work/data/admin.key" ]] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/plexus.log" >&2; echo "schemathesis: plexus exited before it was ready" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$port" ]] || { cat "$work/plexus.log" >&2; echo "schemathesis: plexus did not become ready" >&2; exit 1; }
admin_key="$(tr -d '[:space:]' < "$work/data/admin.key")"
# Fuzz as the admin identity (no tenant); the tenant-scoped routes as an admin of tenant "fuzz"
# with every {tenant} path parameter set to it, so they are exercised past the gateway instead of
# answering 403 throughout.
fuzz_key="$(curl -sf -X POST "http://127.0.0.1:$port/admin/api-keys" -H "Authorization: Bearer $admin_key" \
    -H 'Content-Type: application/json' -d '{"name": "schemathesis", "tenant": "fuzz", "roles": ["admin"]}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["key"])')"
cat > "$work/schemathesis.toml" <<EOF
headers = { Authorization = "Bearer $admin_key" }

[parameters]
"path.tenant" = "fuzz"

[[operations]]
include-path-regex = "^/api/v1/documents/[{]tenant[}]/"
headers = { Authorization = "Bearer $fuzz_key" }
EOF

status=0
# Run from the scratch directory: schemathesis and hypothesis write their caches into the
# working directory.
(cd "$work" && timeout "$time_limit" python3 -m schemathesis.cli --config-file "$work/schemathesis.toml" run "http://127.0.0.1:$port/openapi.json" \
    --checks "$checks" \
    --max-examples "$max_examples" \
    --seed 20240601 \
    --workers 1 \
    --request-timeout 10 \
    --no-color \
    --output-sanitize true \
    --generation-database none) \
    || status=$?
if ! kill -0 "$server" 2>/dev/null; then
    echo "schemathesis: plexus died during the run; its log:" >&2
    tail -50 "$work/plexus.log" >&2
    status=1
fi
if [[ $status -eq 124 ]]; then echo "schemathesis: timed out after ${time_limit} s" >&2; fi
if [[ $status -eq 0 ]]; then echo "schemathesis: passed"; else echo "schemathesis: FAILED (exit $status)"; fi
exit "$status"
