#!/usr/bin/env bash
# Cluster mode on Redis (issue 20): durable publish throughput and p99 through 1 and through 3
# plexus instances sharing one redis-server (50 concurrent HTTP publishers, wrk), side by side in
# the same run with redis-benchmark XADD at the same concurrency (the bound: plexus adds HTTP,
# auth, the envelope and the pub/sub fan-out on top); then live fan-out latency from a publish on
# instance A to SSE clients on instance C (p50, p99) at 1,000 events/s, split into publish -> ack,
# publish -> Redis pub/sub delivery and Redis delivery -> SSE client, live and durable.
# Usage: bench/cluster.sh
# Environment: SECONDS_PER_RUN (5), CONNECTIONS (50), REQUESTS (XADD count, 100000), SSE_CLIENTS (20),
# SSE_RATE (1000), SSE_SECONDS (5), PLEXUS_BIN_DIR (an already built directory holding plexus; default:
# a release build).
# Targets: plexus through one instance >= 0.5x raw XADD; three instances > one instance; live
# publish-to-receive p99 < 10 ms across instances. Exit 0 all met, 3 one missed, 1 the work did not
# happen (an instance or redis did not start, a publish was refused, a delivery is missing): no summary.
# Redis runs with AOF on (appendfsync everysec) in a temporary directory on 127.0.0.1, stopped at the end.
# The machine's cores are shared by redis, the instances and the load generators: figures are noisy.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${SECONDS_PER_RUN:-5}"
CONNECTIONS="${CONNECTIONS:-50}"
REQUESTS="${REQUESTS:-100000}"
SSE_CLIENTS="${SSE_CLIENTS:-20}"
SSE_RATE="${SSE_RATE:-1000}"
SSE_SECONDS="${SSE_SECONDS:-5}"
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null && command -v wrk >/dev/null || scripts/install-deps.sh --bench
if [[ -z "${PLEXUS_BIN_DIR:-}" ]]; then
    scripts/install-deps.sh
    swift build -c release --product plexus
    PLEXUS_BIN_DIR="$(swift build -c release --show-bin-path)"
fi
bin="$PLEXUS_BIN_DIR"
[[ -x "$bin/plexus" ]] || { echo "cluster.sh: FAILED: no plexus in $bin" >&2; exit 1; }

work="$(mktemp -d /tmp/cluster-bench.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "cluster.sh: FAILED: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port="$(free_port)"
mkdir -p "$work/redis"
redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work/redis" --appendonly yes --appendfsync everysec \
    --save '' --daemonize no --logfile "$work/redis/redis.log" --latency-monitor-threshold 5 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$redis_port" ping >/dev/null 2>&1 || fail "redis-server did not start: $(tail -3 "$work/redis/redis.log")"

# The peer: raw XADD at the same concurrency (--csv: "test","rps","avg","min","p50","p95","p99","max").
read -r xadd_rps xadd_p99 < <(redis-benchmark -p "$redis_port" -c "$CONNECTIONS" -n "$REQUESTS" --csv XADD benchstream '*' f v \
    | tail -n 1 | tr -d '"' | awk -F, '{ printf "%s %s\n", $2, $7 }')
awk -v v="$xadd_rps" 'BEGIN { exit !(v + 0 > 0) }' || fail "redis-benchmark printed no rate"
redis-cli -p "$redis_port" del benchstream >/dev/null

ports=()
for n in 0 1 2; do
    port="$(free_port)"
    mkdir -p "$work/i$n/plugins.d"
    cat > "$work/i$n/plexus.toml" <<TOML
[server]
listen = "127.0.0.1:$port"
access_log = false
[plugins]
dir = "plugins.d"
[data]
dir = "data"
[log]
level = "warning"
[supervisor]
enabled = false
[cluster]
redis = "redis://127.0.0.1:$redis_port/0"
redis_prefix = "bench:"
TOML
    "$bin/plexus" serve --config "$work/i$n/plexus.toml" 2> "$work/i$n/plexus.log" &
    pids+=($!)
    ready=""
    for _ in $(seq 300); do
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port/health" || true)" == 200 && -s "$work/i$n/data/admin.key" ]]; then ready=1; break; fi
        sleep 0.05
    done
    [[ -n "$ready" ]] || { cat "$work/i$n/plexus.log" >&2; fail "instance $n did not start on 127.0.0.1:$port"; }
    ports+=("$port")
done
key="$(tr -d '[:space:]' < "$work/i0/data/admin.key")"
for n in 1 2; do
    [[ "$(tr -d '[:space:]' < "$work/i$n/data/admin.key")" == "$key" ]] || fail "instance $n has another admin key than instance 0"
done

cat > "$work/publish.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"topic":"bench.cluster","payload":{"n":1},"durable":true}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("PLEXUS_KEY")
LUA
export PLEXUS_KEY="$key"

# run_wrk PORT CONNECTIONS OUT: a durable publish run; "RATE P99_MS" into OUT (fails on any non-2xx answer).
run_wrk() {
    local out
    out="$(wrk -t1 -c"$2" -d"${SECONDS_PER_RUN}s" --latency -s "$work/publish.lua" "http://127.0.0.1:$1/api/v1/events")"
    if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; return 1; fi
    local rate p99
    rate="$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")"
    p99="$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }' <<<"$out")"
    echo "$rate $p99" > "$3"
}

wrk -t1 -c8 -d1s -s "$work/publish.lua" "http://127.0.0.1:${ports[0]}/api/v1/events" >/dev/null  # warm-up
run_wrk "${ports[0]}" "$CONNECTIONS" "$work/one" || fail "a publish through one instance was refused"
read -r one_rps one_p99 < "$work/one"
per=$(( (CONNECTIONS + 2) / 3 ))
runs=()
for n in 0 1 2; do run_wrk "${ports[$n]}" "$per" "$work/three$n" & runs+=($!); done
three_ok=1
for run in "${runs[@]}"; do wait "$run" || three_ok=0; done
[[ $three_ok -eq 1 && -s "$work/three0" && -s "$work/three1" && -s "$work/three2" ]] || fail "a publish through three instances was refused"
three_rps=$(cat "$work/three0" "$work/three1" "$work/three2" | awk '{ s += $1 } END { printf "%.0f", s }')
three_p99=$(cat "$work/three0" "$work/three1" "$work/three2" | awk '{ if ($2 > m) m = $2 } END { printf "%.2f", m }')
stored="$(redis-cli -p "$redis_port" xlen bench:events)"
[[ "$stored" -gt 0 ]] || fail "no durable event reached the stream"

cc -O2 -pthread bench/sse_fanout_client.c -o "$work/sse-client"
# Each live run also has a raw Redis subscriber on the topic's channel, so the latency splits into
# publish -> ack (A's answer), publish -> Redis pub/sub delivery (A and Redis), and Redis delivery ->
# SSE client (the receiving instance's share).
export REDIS_PORT="$redis_port" REDIS_CHANNEL="bench:ev.fanout.tick"
# live_run NAME STREAM_PORT [DURABLE]: publishes on instance A, streams on STREAM_PORT; output in $work/NAME.out.
live_run() {
    local status=0
    PUBLISH_PORT="${ports[0]}" DURABLE="${3:-0}" "$work/sse-client" "$2" "$SSE_CLIENTS" "$SSE_RATE" "$SSE_SECONDS" "$key" > "$work/$1.out" || status=$?
    echo "--- $1"; cat "$work/$1.out"
    [[ $status -eq 0 || $status -eq 3 ]] || fail "live fan-out run $1 did not complete (exit $status)"
    return 0
}
p50_of() { sed -nE 's/^publish-to-receive.* p50 ([0-9.]+).*/\1/p' "$work/$1.out"; }
p99_of() { sed -nE 's/^publish-to-receive.* p99 ([0-9.]+).*/\1/p' "$work/$1.out"; }
load_before="$(cut -d' ' -f1 /proc/loadavg)"
# For comparison: the same load published and streamed on one instance (no Redis hop for delivery).
live_run same "${ports[0]}"
live_run cross "${ports[2]}"
# The durable variant: the answer waits for Redis's XADD reply, then the event goes out on pub/sub.
# Redis's own latency monitor (events over 5 ms: AOF writes and fsyncs, commands) is reset before
# it and printed after it, so a tail in Redis shows as such.
redis-cli -p "$redis_port" latency reset >/dev/null
live_run durable "${ports[2]}" 1
echo "--- Redis's own latency events over 5 ms during the durable run:"
redis-cli -p "$redis_port" --csv latency latest | tr -d '"' | awk -F, 'NF >= 4 { n++; printf "  %s: last %s ms, max %s ms\n", $1, $3, $4 } END { if (!n) print "  none" }'
load_after="$(cut -d' ' -f1 /proc/loadavg)"
same_p50="$(p50_of same)"; same_p99="$(p99_of same)"
sse_p50="$(p50_of cross)"; sse_p99="$(p99_of cross)"
durable_p50="$(p50_of durable)"; durable_p99="$(p99_of durable)"
sse_missed=0
awk -v v="$sse_p99" 'BEGIN { exit !(v + 0 >= 10) }' && sse_missed=1

echo
echo "durable publish, $CONNECTIONS concurrent publishers, AOF everysec, $(nproc) cores shared by everything:"
printf "  redis-benchmark XADD -c %s          : %10.0f events/s  p99 %6s ms\n" "$CONNECTIONS" "$xadd_rps" "$xadd_p99"
printf "  plexus, 1 instance (HTTP+auth+fan-out): %10.0f events/s  p99 %6s ms\n" "$one_rps" "$one_p99"
printf "  plexus, 3 instances                   : %10.0f events/s  p99 %6s ms (highest of the three)\n" "$three_rps" "$three_p99"
ratio_one=$(awk -v a="$one_rps" -v b="$xadd_rps" 'BEGIN { printf "%.3f", a / b }')
ratio_three=$(awk -v a="$three_rps" -v b="$one_rps" 'BEGIN { printf "%.3f", a / b }')
echo "ratio one instance / raw XADD: ${ratio_one}x (target >= 0.5)"
echo "ratio three instances / one: ${ratio_three}x (target > 1)"
echo "live fan-out A -> SSE on A at ${SSE_RATE}/s: p50 ${same_p50} ms, p99 ${same_p99} ms (same instance, for comparison)"
echo "live fan-out A -> SSE on C at ${SSE_RATE}/s: p50 ${sse_p50} ms, p99 ${sse_p99} ms (target p99 < 10)"
echo "durable fan-out A -> SSE on C at ${SSE_RATE}/s: p50 ${durable_p50} ms, p99 ${durable_p99} ms (acknowledged after XADD)"
echo "load average during the live runs: ${load_before} before, ${load_after} after ($(nproc) cores)"
missed=0
awk -v r="$ratio_one" 'BEGIN { exit !(r < 0.5) }' && { echo "cluster.sh: TARGET MISSED: one instance below 0.5x raw XADD"; missed=1; }
awk -v r="$ratio_three" 'BEGIN { exit !(r <= 1) }' && { echo "cluster.sh: TARGET MISSED: three instances do not beat one"; missed=1; }
[[ $sse_missed -eq 1 ]] && { echo "cluster.sh: TARGET MISSED: live p99 not under 10 ms"; missed=1; }
[[ $missed -eq 0 ]] || exit 3
