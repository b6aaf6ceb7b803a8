#!/bin/bash
# User-space instructions per request of a release plexus (unsupervised, access log off unless
# ACCESS_LOG=1: then combined to a file, and nginx's `combined buffer=64k`), counted by callgrind
# over N sequential keep-alive requests after a warm-up of 200:
#   scripts/callgrind-request.sh [public|authenticated|bearer|apikey] [requests]
# (after: swift build -c release --product plexus --product PlexusHello). `authenticated` puts
# GET /api/v1/hello behind an HS256 JWT and a rate limit that never refuses (as bench/gateway.sh);
# `bearer` behind the JWT alone (as bench/http.py's authenticated run); `apikey` behind the API key
# the runtime creates at its first start (data/admin.key, sent as `Authorization: Bearer plx_…`).
# valgrind 3.19 cannot read Swift's DWARF5, so the binary and the plugin are stripped of debug
# info into a temporary directory first. Prints "instructions per request: N"; keeps the
# callgrind output (callgrind_annotate --inclusive=yes FILE) where KEEP names, if set.
# NGINX=1 measures nginx `return 200 "hello\n"` on the same client instead (daemon off, one process).
# SUPERVISE=1 runs plexus supervised, as bench/http.sh does, and counts the worker's instructions
# (the supervised path adds the crash-blame record, the shared counters and the handover state).
# Exit 1 when the requests were not answered with 200.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PLEXUS_BIN_DIR:-$ROOT/.build/release}
MODE=${1:-public}
N=${2:-2000}
W=$(mktemp -d /tmp/plexus-callgrind.XXXX)
PID=
trap 'if [ -n "$PID" ]; then kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; fi; rm -rf "$W"' EXIT
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SECRET="callgrind-hs256-secret-0123456789abcdef"
TOKEN=$(python3 -c 'import base64,hashlib,hmac,json,sys,time
b = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
head = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b(json.dumps({"sub": "bench", "tenant": "bench", "roles": ["reader"], "exp": int(time.time()) + 365 * 86400}).encode())
print(head + "." + body + "." + b(hmac.new(sys.argv[1].encode(), (head + "." + body).encode(), hashlib.sha256).digest()))' "$SECRET")
if [ "${NGINX:-0}" = 1 ]; then
    mkdir -p "$W/nginx"
    cat > "$W/nginx/nginx.conf" <<EOF
daemon off; master_process off; worker_processes 1; error_log $W/nginx/error.log; pid $W/nginx/nginx.pid;
events { worker_connections 1024; }
http { $( [ "${ACCESS_LOG:-0}" = 1 ] && echo "access_log $W/nginx/access.log combined buffer=64k;" || echo "access_log off;" ) client_body_temp_path $W/nginx; proxy_temp_path $W/nginx; fastcgi_temp_path $W/nginx;
       uwsgi_temp_path $W/nginx; scgi_temp_path $W/nginx;
       server { listen 127.0.0.1:$PORT; location / { default_type text/plain; return 200 "hello\n"; } } }
EOF
    valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$W/callgrind.out" \
        "$(command -v nginx || echo /usr/sbin/nginx)" -p "$W/nginx" -c "$W/nginx/nginx.conf" 2> "$W/valgrind.log" &
    PID=$!
else
    mkdir -p "$W/plugins.d" "$W/data"
    objcopy --strip-debug "$BIN/plexus" "$W/plexus"
    objcopy --strip-debug "$BIN/libPlexusHello.so" "$W/plugins.d/libPlexusHello.so"
    {
        printf '[server]\nlisten = "127.0.0.1:%s"\n[plugins]\ndir = "%s/plugins.d"\n[data]\ndir = "%s/data"\n' "$PORT" "$W" "$W"
        if [ "${ACCESS_LOG:-0}" = 1 ]; then
            # The log as bench/http.sh runs it: combined, to a file.
            printf '[access_log]\ndestination = "file"\npath = "%s/access.log"\nformat = "combined"\n' "$W"
        fi
        if [ "$MODE" != public ]; then
            printf 'access = "authenticated"\n' > "$W/plugins.d/hello.toml"
            printf '[auth]\njwt_hs256_secret = "%s"\n' "$SECRET"
        fi
        if [ "$MODE" = authenticated ]; then
            printf '[rate_limits.bench]\nrequests = 1000000000\nwindow_s = 1\nburst = 1000000000\napplies_to = "plugin:hello"\nkey = "client"\n'
        fi
    } > "$W/plexus.toml"
    LOGFLAG=--no-access-log
    [ "${ACCESS_LOG:-0}" = 1 ] && LOGFLAG=
    SUPERVISION=--no-supervise
    [ "${SUPERVISE:-0}" = 1 ] && SUPERVISION="--supervise"
    valgrind --tool=callgrind --instr-atstart=no --trace-children=yes --callgrind-out-file="$W/callgrind.out.%p" \
        "$W/plexus" serve $SUPERVISION --config "$W/plexus.toml" $LOGFLAG --log-level error 2> "$W/valgrind.log" > /dev/null &
    PID=$!
fi
python3 - "$PORT" "$N" "$MODE" "$TOKEN" "$PID" "$W" <<'PY'
import http.client, os, subprocess, sys, time
port, n, mode, token, pid, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
headers = {"Host": "t"}
if mode in ("authenticated", "bearer"): headers["Authorization"] = "Bearer " + token
if mode == "apikey":
    key_file = os.path.join(work, "data", "admin.key")
    for _ in range(600):
        if os.path.exists(key_file) and os.path.getsize(key_file) > 0: break
        time.sleep(0.1)
    headers["Authorization"] = "Bearer " + open(key_file).read().strip()
for _ in range(600):
    try:
        probe = http.client.HTTPConnection("127.0.0.1", port); probe.request("GET", "/api/v1/hello", headers=headers)
        if probe.getresponse().status == 200: break
    except OSError: pass
    time.sleep(0.1)
client = http.client.HTTPConnection("127.0.0.1", port)
def run(count):
    for _ in range(count):
        client.request("GET", "/api/v1/hello", headers=headers); response = client.getresponse(); body = response.read()
        if response.status != 200 or body != b"hello\n": sys.exit("unexpected answer %d %r" % (response.status, body))
run(200)
if os.environ.get("SUPERVISE") == "1":
    # The worker answers: the master's only child.
    pid = subprocess.run(["pgrep", "-P", pid], capture_output=True, text=True).stdout.split()[0]
open(os.path.join(work, "measured.pid"), "w").write(pid)
subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
run(n)
subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
subprocess.run(["callgrind_control", "-d", pid], check=True, capture_output=True)
PY
sleep 1
MEASURED=$(cat "$W/measured.pid" 2>/dev/null || echo none)
# The dump callgrind_control asked for (the NGINX run writes callgrind.out.1).
OUT="$W/callgrind.out.$MEASURED.1"
[ -f "$OUT" ] || OUT="$W/callgrind.out.1"
total=$(awk '/^totals:/ { print $2; exit }' "$OUT" 2>/dev/null || true)
[ -n "$total" ] && [ "$total" -gt 0 ] || { echo "no callgrind dump with a total" >&2; cat "$W/valgrind.log" >&2; exit 1; }
[ -n "${KEEP:-}" ] && cp "$OUT" "$KEEP"
echo "instructions per request: $((total / N)) ($MODE, $N requests, total $total)"
