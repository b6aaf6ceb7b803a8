#!/usr/bin/env bash
# The API gateway's cost on a plugin route, in one run: GET /api/v1/hello served public (no
# credentials, no policy) against the same route authenticated (a bearer HS256 JWT verified by
# the gateway) and rate-limited (a policy large enough never to refuse). Same binary (release),
# same plugin, same wrk duration and connections; wrk pinned to one core, plexus to the other.
# Prints req/s and server CPU per request of both and the ratio (target: authenticated ≥ 0.85 ×
# public).
#
# BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 64) tune it; PLEXUS_SCRATCH_PATH builds
# in another scratch directory than .build; PLEXUS_BIN_DIR uses an already built directory (plexus
# and libPlexusHello.so) instead.
# Exit status: 0 target met; 1 the work did not happen (plexus did not start, a non-2xx answer,
# the authenticated route answered without a token): no figures; 3 the target was missed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --bench
seconds="${BENCH_SECONDS:-8}"
connections="${BENCH_CONNECTIONS:-64}"
scratch=()
[[ -n "${PLEXUS_SCRATCH_PATH:-}" ]] && scratch=(--scratch-path "$PLEXUS_SCRATCH_PATH")
if [[ -n "${PLEXUS_BIN_DIR:-}" ]]; then
    bin="$PLEXUS_BIN_DIR"
else
    swift build -c release "${scratch[@]}" --product plexus
    swift build -c release "${scratch[@]}" --product PlexusHello
    bin="$(swift build -c release "${scratch[@]}" --show-bin-path)"
fi
server_cpu=0 client_cpu=1
ticks="$(getconf CLK_TCK)"

secret="bench-gateway-hs256-secret-0123456789abcdef"
# An HS256 JWT that expires in a year: python3's hmac, hashlib and base64, nothing else.
token="$(python3 -c 'import base64,hashlib,hmac,json,sys,time
b = lambda data: base64.urlsafe_b64encode(data).rstrip(b"=").decode()
head = b(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
body = b(json.dumps({"sub": "bench", "tenant": "bench", "roles": ["reader"], "exp": int(time.time()) + 365 * 86400}).encode())
print(head + "." + body + "." + b(hmac.new(sys.argv[1].encode(), (head + "." + body).encode(), hashlib.sha256).digest()))' "$secret")"

work="$(mktemp -d)"
server=""
stop_server() {
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    server=""
}
trap 'stop_server; rm -rf "$work"' EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# CPU seconds (user + system) of a process and its children (the supervisor's worker).
cpu_seconds() {
    local total=0 pid
    for pid in "$1" $(pgrep -P "$1" || true); do
        total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat")))
    done
    echo "$total"
}

# run MODE: starts plexus for MODE (public | authenticated), measures, prints "rps cpu_us_per_req non2xx".
run() {
    local mode="$1" dir="$work/$1" port header=()
    mkdir -p "$dir/plugins.d"
    cp "$bin/libPlexusHello.so" "$dir/plugins.d/"
    printf 'access = "%s"\n' "$mode" > "$dir/plugins.d/hello.toml"
    port="$(free_port)"
    {
        printf '[server]\nlisten = "127.0.0.1:%s"\n[plugins]\ndir = "plugins.d"\n[data]\ndir = "data"\n' "$port"
        if [[ "$mode" == authenticated ]]; then
            printf '[auth]\njwt_hs256_secret = "%s"\n' "$secret"
            printf '[rate_limits.bench]\nrequests = 1000000000\nwindow_s = 1\nburst = 1000000000\napplies_to = "plugin:hello"\nkey = "client"\n'
        fi
    } > "$dir/plexus.toml"
    [[ "$mode" == authenticated ]] && header=(-H "Authorization: Bearer $token")
    taskset -c "$server_cpu" "$bin/plexus" serve --config "$dir/plexus.toml" --no-access-log --log-level warning 2> "$dir/plexus.log" &
    server=$!
    local url="http://127.0.0.1:$port/api/v1/hello" ready=""
    for _ in $(seq 1 200); do
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "${header[@]}" "$url" 2>/dev/null || true)" == 200 ]]; then ready=1; break; fi
        sleep 0.05
    done
    [[ -n "$ready" ]] || { cat "$dir/plexus.log" >&2; echo "gateway bench: FAILED: plexus ($mode) did not answer 200 on $url" >&2; exit 1; }
    if [[ "$mode" == authenticated ]]; then
        # The same route without the token must be refused, or the run measures nothing.
        local anonymous
        anonymous="$(curl -s -o /dev/null -w '%{http_code}' "$url")"
        [[ "$anonymous" == 401 ]] || { echo "gateway bench: FAILED: authenticated mode answered $anonymous without a token" >&2; exit 1; }
    fi
    taskset -c "$client_cpu" wrk -t1 -c16 -d1s "${header[@]}" "$url" > /dev/null  # warm-up
    local before after out rps total non2xx
    before="$(cpu_seconds "$server")"
    out="$(taskset -c "$client_cpu" wrk -t1 -c"$connections" -d"${seconds}s" "${header[@]}" "$url")"
    after="$(cpu_seconds "$server")"
    stop_server
    rps="$(sed -nE 's/^Requests\/sec:[[:space:]]+([0-9.]+).*/\1/p' <<< "$out")"
    total="$(sed -nE 's/^[[:space:]]*([0-9]+) requests in.*/\1/p' <<< "$out")"
    non2xx="$(sed -nE 's/.*Non-2xx or 3xx responses: ([0-9]+).*/\1/p' <<< "$out")"
    if [[ -z "$total" || "$total" == 0 ]]; then echo "gateway bench: FAILED: wrk completed no request ($mode)" >&2; exit 1; fi
    if [[ -n "$non2xx" && "$non2xx" != 0 ]]; then
        echo "gateway bench: FAILED: $non2xx of $total answers were not 2xx ($mode): the numbers would not measure the route" >&2
        exit 1
    fi
    echo "$rps $(awk -v t="$((after - before))" -v hz="$ticks" -v n="$total" 'BEGIN { printf "%.2f", t / hz / n * 1e6 }') ${non2xx:-0}"
}

run public > "$work/public.result"
run authenticated > "$work/authenticated.result"
read -r public_rps public_cpu public_bad < "$work/public.result"
read -r auth_rps auth_cpu auth_bad < "$work/authenticated.result"

echo
echo "GET /api/v1/hello, wrk -t1 -c$connections -d${seconds}s, plexus (release, supervised) on CPU $server_cpu, wrk on CPU $client_cpu"
printf '%-40s %10s %12s %8s\n' "mode" "req/s" "CPU us/req" "non-2xx"
printf '%-40s %10.0f %12s %8s\n' "public (no credentials, no policy)" "$public_rps" "$public_cpu" "$public_bad"
printf '%-40s %10.0f %12s %8s\n' "authenticated (HS256 JWT) + rate limit" "$auth_rps" "$auth_cpu" "$auth_bad"
ratio="$(awk -v a="$auth_rps" -v p="$public_rps" 'BEGIN { printf "%.3f", a / p }')"
verdict="$(awk -v r="$ratio" 'BEGIN { print (r >= 0.85 ? "meets" : "BELOW") }')"
echo "authenticated / public req/s = $ratio ($verdict the 0.85 target)"
if [[ "$verdict" != meets ]]; then
    echo "gateway bench: TARGET MISSED: authenticated / public req/s = $ratio, under 0.85"
    exit 3
fi
