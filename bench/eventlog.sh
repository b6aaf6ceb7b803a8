#!/usr/bin/env bash
# Durable-publish benchmark: Redis XADD (AOF, appendfsync everysec) vs PlexusEventLog
# (SQLite WAL, group commit, acknowledged after COMMIT).
#
#   bench/eventlog.sh            # 50 clients/publishers, 200,000 events
#   EVENTS=20000 bench/eventlog.sh
#
# Environment: EVENTS (200000), CLIENTS (50), REDIS_PORT (6399), DURABILITY (full|normal,
# default full), EVENTLOG_BENCH (path of the eventlog-bench binary; default: built with
# `swift build -c release --product eventlog-bench` into .build/release).
# Redis traffic goes to 127.0.0.1 only; Redis runs in a temporary data dir and is stopped at
# the end.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EVENTS="${EVENTS:-200000}"
CLIENTS="${CLIENTS:-50}"
PORT="${REDIS_PORT:-6399}"
DURABILITY="${DURABILITY:-full}"

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
    echo "== installing redis-server (Debian package)"
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi

BENCH="${EVENTLOG_BENCH:-$ROOT/.build/release/eventlog-bench}"
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

# redis-benchmark has no xadd test: use the custom-command form. --csv prints
# "test","rps","avg","min","p50","p95","p99","max".
redis_run() {
    local pipeline="$1"
    redis-cli -h 127.0.0.1 -p "$PORT" del bench >/dev/null
    redis-benchmark -h 127.0.0.1 -p "$PORT" -c "$CLIENTS" -n "$EVENTS" -P "$pipeline" --csv XADD bench '*' f v \
        | tail -n 1 | tr -d '"' | awk -F, '{ printf "%s %s\n", $2, $7 }'
}
read -r REDIS_RPS_P1 REDIS_P99_P1 < <(redis_run 1)
echo "redis XADD -P 1 : ${REDIS_RPS_P1} events/s, p99 ${REDIS_P99_P1} ms"
read -r REDIS_RPS_P16 REDIS_P99_P16 < <(redis_run 16)
echo "redis XADD -P 16: ${REDIS_RPS_P16} events/s, p99 ${REDIS_P99_P16} ms"
redis-cli -h 127.0.0.1 -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true
REDIS_PID=

echo "== eventlog-bench: $CLIENTS publisher threads, each appending and waiting for the acknowledgement (durability $DURABILITY)"
LINE="$("$BENCH" bench --publishers "$CLIENTS" --events "$EVENTS" --durability "$DURABILITY" --db "$WORK/eventlog.sqlite")"
echo "$LINE"
EL_RPS="$(sed -E 's/.*events_per_sec=([0-9.]+).*/\1/' <<<"$LINE")"
EL_P99="$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$LINE")"

echo "== summary"
printf 'redis  XADD -P 1  : %10.0f events/s  p99 %s ms  (fsync every second: not durable per write)\n' "$REDIS_RPS_P1" "$REDIS_P99_P1"
printf 'redis  XADD -P 16 : %10.0f events/s  p99 %s ms\n' "$REDIS_RPS_P16" "$REDIS_P99_P16"
printf 'eventlog (%s)   : %10.0f events/s  p99 %s ms  (acknowledged after COMMIT)\n' "$DURABILITY" "$EL_RPS" "$EL_P99"
awk -v e="$EL_RPS" -v r1="$REDIS_RPS_P1" -v r16="$REDIS_RPS_P16" \
    'BEGIN { printf "ratio eventlog/redis: %.2f (vs -P 1), %.2f (vs -P 16)\n", e / r1, e / r16 }'
