#!/usr/bin/env bash
# The workflows plugin's durable execution and its routing rules, each beside a hand-written peer in
# the same run.
#
# 1. Durable steps through the real binary (supervised plexus, the workflows plugin and the wfprobe
#    fixture's no-op service `wfprobe.noop`): a 5-step workflow of no-op calls; every transition in
#    the instance's history in the plugin's SQLite storage (WAL, synchronous=NORMAL: the runtime's
#    storage setting, durable across a process kill, not across power loss) before it is acted on.
#    Run twice: N instances started by 16 client threads, then 1,000 instances started at once.
#    Prints instances/s, durable steps/s (over the server's own record of the run: the first
#    instance's start to the last one's completion, from the history entry times) and per-step time
#    p50/p99 (ms: a step's completion minus the previous step's). The client polls /metrics every 0.2 s. The peer, in the same server: the
#    wfprobe fixture's POST /api/v1/wfprobe/raw does the same steps by hand (append a row, call
#    wfprobe.noop over the bus, append a row; all instances at once; no engine, one transaction per row).
# 2. workflows-bench router: a 1,000-event batching rule over pre-parsed payloads vs the same batching
#    written by hand; µs per event.
# Targets: >= 2,000 durable steps/s (both runs); the batching rule under 5 µs per event. Exit 3 when
# missed, 1 when the work did not happen (no figures then).
# Usage: bench/workflows.sh [N]   (default N=1000; BENCH_AT_ONCE sets the second run's size, default 1000). PLEXUS_BIN_DIR: a built directory (plexus,
# libPlexusWorkflows.so, libPlexusFixtureWorkflowProbe.so, workflows-bench); default: a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-1000}"
at_once="${BENCH_AT_ONCE:-1000}"   # the second run's size (bench/smoke.sh makes it small)
if [[ -n "${PLEXUS_BIN_DIR:-}" ]]; then
    bin="$(cd "$PLEXUS_BIN_DIR" && pwd)"
else
    for product in plexus PlexusWorkflows PlexusFixtureWorkflowProbe workflows-bench; do swift build -c release --product "$product" >&2; done
    bin="$(swift build -c release --show-bin-path)"
fi
for file in plexus libPlexusWorkflows.so libPlexusFixtureWorkflowProbe.so workflows-bench; do
    [[ -e "$bin/$file" ]] || { echo "workflows.sh: $bin/$file is missing" >&2; exit 1; }
done
work="$(mktemp -d)"
server=""
trap '[[ -n "$server" ]] && kill -TERM "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/plugins.d"
cp "$bin/libPlexusWorkflows.so" "$bin/libPlexusFixtureWorkflowProbe.so" "$work/plugins.d/"
printf 'definitions_dir = "%s/none"\n' "$work" > "$work/plugins.d/workflows.toml"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
printf '[server]\nlisten = "127.0.0.1:%s"\n[plugins]\ndir = "plugins.d"\n[data]\ndir = "data"\n' "$port" > "$work/plexus.toml"
(cd "$work" && exec "$bin/plexus" serve --config plexus.toml --no-access-log --log-level warning 2> plexus.log) &
server=$!
for _ in $(seq 1 300); do [[ -s "$work/data/admin.key" ]] && curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.1; done
[[ -s "$work/data/admin.key" ]] || { cat "$work/plexus.log" >&2; echo "workflows.sh: plexus did not start" >&2; exit 1; }

python3 - "$port" "$(cat "$work/data/admin.key")" "$count" "$at_once" > "$work/live.txt" <<'PY' || { cat "$work/live.txt" "$work/plexus.log" >&2; exit 1; }
import http.client, json, sys, threading, time
port, key, count, at_once = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
head = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
local = threading.local()
def call(method, path, body=None):
    if not hasattr(local, "c"): local.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    local.c.request(method, path, body=json.dumps(body) if body is not None else None, headers=head)
    r = local.c.getresponse(); data = r.read()
    return r.status, json.loads(data) if data else None
steps = [{"id": f"s{i}", "type": "call", "service": "wfprobe.noop", "output": f"r{i}"} for i in range(1, 6)]
status, _ = call("POST", "/api/v1/workflows/definitions", {"name": "bench5", "steps": steps})
assert status in (200, 201), status
def completed():
    _, text = None, None
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60); c.request("GET", "/metrics", headers=head)
    for line in c.getresponse().read().decode().splitlines():
        if line.startswith('workflows_instances_completed_total{workflow="bench5"}'): return int(float(line.split()[-1]))
    return 0
def run(n, threads):
    before = completed(); ids = []; lock = threading.Lock()
    def worker(k):
        mine = []
        for i in range(k, n, threads):
            s, body = call("POST", "/api/v1/workflows/bench5/start", {})
            assert s == 201, (s, body); mine.append(body["id"])
        with lock: ids.extend(mine)
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    [t.start() for t in ts]; [t.join() for t in ts]
    deadline = time.monotonic() + 600
    while completed() < before + n:
        if time.monotonic() > deadline: sys.exit(f"only {completed() - before} of {n} instances completed")
        time.sleep(0.2)
    # The run's time as the server recorded it: first start to last completion (history entry times, ms).
    gaps = []; first = None; last_done = None
    for i in ids:
        s, body = call("GET", f"/api/v1/workflows/instances/{i}")
        hist = body["history"]; last = hist[0]["time"]
        first = last if first is None else min(first, last)
        for e in hist:
            if e["kind"] == "step.completed": gaps.append(e["time"] - last); last = e["time"]
            if e["kind"] == "completed": last_done = e["time"] if last_done is None else max(last_done, e["time"])
    seconds = max(0.001, (last_done - first) / 1000)
    gaps.sort()
    pct = lambda p: gaps[min(len(gaps) - 1, int(p * len(gaps)))]
    return n / seconds, n * 5 / seconds, pct(0.5), pct(0.99)
a = run(count, 16)
b = run(at_once, at_once)
s, peer = call("POST", f"/api/v1/wfprobe/raw?instances={count}&steps=5")
assert s == 200, (s, peer)
print(f"engine_n {count} {a[0]:.1f} {a[1]:.1f} {a[2]} {a[3]}")
print(f"engine_1000 {at_once} {b[0]:.1f} {b[1]:.1f} {b[2]} {b[3]}")
print(f"peer {count} {peer['instances'] / peer['seconds']:.1f} {peer['steps'] / peer['seconds']:.1f}")
PY
kill -TERM "$server"; wait "$server" 2>/dev/null || true; server=""
router="$("$bin/workflows-bench" router 200000)" || { echo "workflows.sh: workflows-bench router failed" >&2; exit 1; }
read -r _ n1 ips1 sps1 p50a p99a < <(grep '^engine_n ' "$work/live.txt")
read -r _ n2 ips2 sps2 p50b p99b < <(grep '^engine_1000 ' "$work/live.txt")
read -r _ np ipsp spsp < <(grep '^peer ' "$work/live.txt")
rule_us="$(sed -nE 's/.* rule=([0-9.]+) us\/event.*/\1/p' <<< "$router")"
echo
echo "5-step workflow of no-op bus services, durable history (plugin SQLite, WAL, synchronous=NORMAL); build: $(basename "$bin")"
printf '%-52s %10s %12s %14s %14s\n' "run" "inst/s" "steps/s" "step p50 ms" "step p99 ms"
printf '%-52s %10s %12s %14s %14s\n' "workflows engine, $n1 instances, 16 starters" "$ips1" "$sps1" "$p50a" "$p99a"
printf '%-52s %10s %12s %14s %14s\n' "workflows engine, $n2 instances at once" "$ips2" "$sps2" "$p50b" "$p99b"
printf '%-52s %10s %12s %14s %14s\n' "peer: same steps by hand (rows + bus calls), $np at once" "$ipsp" "$spsp" "-" "-"
echo "engine / peer steps/s = $(awk -v a="$sps1" -v b="$spsp" 'BEGIN { printf "%.2f", a / b }') (16 starters), $(awk -v a="$sps2" -v b="$spsp" 'BEGIN { printf "%.2f", a / b }') ($n2 at once)"
echo "$router"
missed=0
awk -v s="$sps1" 'BEGIN { exit !(s < 2000) }' && { echo "TARGET MISSED: $sps1 durable steps/s < 2000 ($n1 instances)"; missed=1; }
awk -v s="$sps2" 'BEGIN { exit !(s < 2000) }' && { echo "TARGET MISSED: $sps2 durable steps/s < 2000 ($n2 at once)"; missed=1; }
awk -v u="$rule_us" 'BEGIN { exit !(u >= 5) }' && { echo "TARGET MISSED: the batching rule costs $rule_us us per event (>= 5)"; missed=1; }
[[ $missed == 0 ]] && echo "targets met: >= 2000 durable steps/s, batching rule < 5 us/event"
exit $((missed * 3))
