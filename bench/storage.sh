#!/usr/bin/env bash
# Plugin storage on both backends (issue 21): key-value put and get (one at a time and 64 in
# flight) through LoopStorage on a libuv loop thread (what a plugin's kv calls reach) and a
# 3-table SQL workload through StorageEngine, side by side in the same run with the same
# operations done directly: raw SQLite (C API) and raw libpq (prepared statements; 64 in flight
# as pgbench does it, one connection per pool slot). The engine's own one-at-a-time calls from
# the loop (loop -> worker -> loop, the path before LoopStorage) are printed after, not a target,
# and so is the PostgreSQL SQL workload while the engine listens to its changes (what a subscriber costs:
# the change log runs only while someone listens; the SQL row checks the log stayed empty).
#
#   bench/storage.sh            # 20,000 key-value operations, 2,000 orders, 5 rounds
#   bench/storage.sh 200        # tiny (bench/smoke.sh)
#   BENCH_ROUNDS=9 bench/storage.sh
#
# Engine and raw alternate chunk by chunk (20 chunks of a workload, raw first in every other pair),
# so a burst of load on this shared machine falls on both sides; a round's ratio is the engine's
# summed time over the raw summed time. BENCH_ROUNDS (5): that many rounds, each on fresh tables;
# each rate is the median of its rounds, each ratio the median of the rounds' ratios, printed with
# its spread (lowest-highest). One row at 5,000 operations, run whole, lasted under a second and
# moved by more than the target's margin between runs.
# The engine's key-value chunk is timed on the loop thread, from its first call to its last
# completion (a plugin's call is made and completed there); the raw chunk on the thread that runs
# it. Timed from the thread that hands the chunk to the loop (as before), each engine chunk also paid
# two thread wake-ups (the loop woken for the chunk, that thread woken at its end; with the cores
# busy each may wait for a time slice) that no plugin call pays: the get rows, whose chunks last
# about 5 ms, moved between rounds by more than the target's margin (0.75x-1.64x in one run). Both
# sides still do the same operations, chunk by chunk, side by side.
#
# Environment: STORAGE_BENCH (path of the storage-bench binary; default: PLEXUS_BIN_DIR's, or built
# with `swift build -c release --product storage-bench` into .build/release).
# PostgreSQL: a throw-away cluster (initdb, pg_ctl; as the postgres user when run as root) in a
# temp directory on a free loopback port, fsync off for both sides alike, stopped at the end.
# Target: every median ratio (engine time / raw time) within 1.3x; exit 3 when one is missed, 1 when
# the work did not happen.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OPERATIONS="${1:-20000}"
export BENCH_ROUNDS="${BENCH_ROUNDS:-5}"
fail() { echo "storage.sh: $*" >&2; exit 1; }

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PG_BIN/initdb" ] || "$ROOT/scripts/install-deps.sh"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PG_BIN/initdb" ] || fail "no PostgreSQL server binaries under /usr/lib/postgresql"

if [ -n "${PLEXUS_BIN_DIR:-}" ]; then DEFAULT_BENCH="$PLEXUS_BIN_DIR/storage-bench"; else DEFAULT_BENCH="$ROOT/.build/release/storage-bench"; fi
BENCH="${STORAGE_BENCH:-$DEFAULT_BENCH}"
if [ ! -x "$BENCH" ]; then
    echo "== building storage-bench (release)"
    (cd "$ROOT" && swift build -c release --product storage-bench)
    BENCH="$ROOT/.build/release/storage-bench"
fi

WORK="$(mktemp -d /tmp/storage-bench.XXXXXX)"
AS=()
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$WORK"
    AS=(runuser -u postgres --)
fi
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
STARTED=
cleanup() {
    if [ -n "$STARTED" ]; then "${AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (throw-away cluster, fsync off)"
"${AS[@]}" "$PG_BIN/initdb" -D "$WORK/data" -A trust -U postgres --no-sync -E UTF8 --locale=C >/dev/null || fail "initdb failed"
"${AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/log" -w -t 60 \
    -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null || fail "pg_ctl start failed: $(tail -5 "$WORK/log")"
STARTED=1
echo "== machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) (wall-clock figures on a shared machine are noisy)"
status=0
"$BENCH" "$OPERATIONS" "postgresql://postgres@127.0.0.1:$PORT/postgres" || status=$?
exit "$status"
