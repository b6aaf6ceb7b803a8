#!/usr/bin/env bash
# Durable-publish benchmark: Redis XADD (AOF, appendfsync everysec) vs PlexusEventLog
# (SQLite WAL, group commit, acknowledged after COMMIT).
#
#   bench/eventlog.sh            # 50 clients/publishers, 200,000 events
#   EVENTS=20000 bench/eventlog.sh
#
# Environment: EVENTS (200000), CLIENTS (50), REDIS_PORT (6399), DURABILITY (full|normal,
# default full), EVENTLOG_BENCH (path of the eventlog-bench binary; default: PLEXUS_BIN_DIR's, or
# built with `swift build -c release --product eventlog-bench` into .build/release).
# No target: the figures compare durability models. Exit 1, with no summary, when a run did not
# happen (redis did not start, a run printed no rate or a rate of zero).
# Redis traffic goes to 127.0.0.1 only; Redis runs in a temporary data dir and is stopped at
# the end.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EVENTS="${EVENTS:-200000}"
CLIENTS="${CLIENTS:-50}"
PORT="${REDIS_PORT:-6399}"
DURABILITY="${DURABILITY:-full}"

command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || "$ROOT/scripts/install-deps.sh" --bench

fail() { echo "eventlog.sh: $*" >&2; exit 1; }
# positive NAME VALUE: VALUE must be a number above zero.
positive() { awk -v v="$2" 'BEGIN { exit !(v + 0 > 0) }' || fail "$1 printed no rate (got '$2')"; }

if [ -n "${PLEXUS_BIN_DIR:-}" ]; then DEFAULT_BENCH="$PLEXUS_BIN_DIR/eventlog-bench"; else DEFAULT_BENCH="$ROOT/.build/release/eventlog-bench"; fi
BENCH="${EVENTLOG_BENCH:-$DEFAULT_BENCH}"
if [ ! -x "$BENCH" ]; then
    echo "== building eventlog-bench (release)"
    (cd "$ROOT" && swift build -c release --product eventlog-bench)
fi

WORK="$(mktemp -d /tmp/eventlog-bench.XXXXXX)"
REDIS_PID=
cleanup() {
    if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
        redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') on 127.0.0.1:$PORT (appendonly yes, appendfsync everysec)"
mkdir -p "$WORK/redis"
redis-server --bind 127.0.0.1 --port "$PORT" --dir "$WORK/redis" --appendonly yes --appendfsync everysec \
    --save '' --daemonize no --logfile "$WORK/redis/redis.log" &
REDIS_PID=$!
for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -h 127.0.0.1 -p "$PORT" ping >/dev/null 2>&1 || fail "redis-server did not start on 127.0.0.1:$PORT: $(tail -5 "$WORK/redis/redis.log" 2>/dev/null)"

# redis-benchmark has no xadd test: use the custom-command form. --csv prints
# "test","rps","avg","min","p50","p95","p99","max".
redis_run() {
    local pipeline="$1"
    redis-cli -h 127.0.0.1 -p "$PORT" del bench >/dev/null
    redis-benchmark -h 127.0.0.1 -p "$PORT" -c "$CLIENTS" -n "$EVENTS" -P "$pipeline" --csv XADD bench '*' f v \
        | tail -n 1 | tr -d '"' | awk -F, '{ printf "%s %s\n", $2, $7 }'
}
read -r REDIS_RPS_P1 REDIS_P99_P1 < <(redis_run 1)
positive "redis-benchmark -P 1" "$REDIS_RPS_P1"
echo "redis XADD -P 1 : ${REDIS_RPS_P1} events/s, p99 ${REDIS_P99_P1} ms"
read -r REDIS_RPS_P16 REDIS_P99_P16 < <(redis_run 16)
positive "redis-benchmark -P 16" "$REDIS_RPS_P16"
echo "redis XADD -P 16: ${REDIS_RPS_P16} events/s, p99 ${REDIS_P99_P16} ms"
redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true
REDIS_PID=

echo "== eventlog-bench: $CLIENTS publisher threads, each appending and waiting for the acknowledgement (durability $DURABILITY)"
LINE="$("$BENCH" bench --publishers "$CLIENTS" --events "$EVENTS" --durability "$DURABILITY" --db "$WORK/eventlog.sqlite")"
echo "$LINE"
EL_RPS="$(sed -nE 's/.*events_per_sec=([0-9.]+).*/\1/p' <<<"$LINE")"
EL_P99="$(sed -nE 's/.*p99_ms=([0-9.]+).*/\1/p' <<<"$LINE")"
positive eventlog-bench "$EL_RPS"

echo "== summary"
printf 'redis  XADD -P 1  : %10.0f events/s  p99 %s ms  (fsync every second: not durable per write)\n' "$REDIS_RPS_P1" "$REDIS_P99_P1"
printf 'redis  XADD -P 16 : %10.0f events/s  p99 %s ms\n' "$REDIS_RPS_P16" "$REDIS_P99_P16"
printf 'eventlog (%s)   : %10.0f events/s  p99 %s ms  (acknowledged after COMMIT)\n' "$DURABILITY" "$EL_RPS" "$EL_P99"
awk -v e="$EL_RPS" -v r1="$REDIS_RPS_P1" -v r16="$REDIS_RPS_P16" \
    'BEGIN { printf "ratio eventlog/redis: %.2f (vs -P 1), %.2f (vs -P 16)\n", e / r1, e / r16 }'
