#!/usr/bin/env bash
# DocCompare benchmark, in one run:
#  1. the line diff: the DocDiff engine as a library call, the plexus route, GNU diff, `diff --minimal`
#     and git diff on two ~20 MB generated text files (bench/doccompare-gen.py);
#  2. the route worker's resident memory before, during and after comparing them;
#  3. clause mode on generated contract pairs with labelled ground truth
#     (bench/doccompare-gen.py --contracts, scored by bench/doccompare-score.py).
#
# Usage: bench/doccompare.sh [REPEAT=3]
#   env: DOCCOMPARE_SCRATCH    release scratch path (default .build)
#        DOCCOMPARE_SIZE_MB    size of each file (default 20)
#        DOCCOMPARE_CONTRACTS  number of contract pairs (default 200)
#        DOCCOMPARE_TINY=1     1 MB files, 20 contract pairs, one run (for bench/smoke.sh)
#        DOCCOMPARE_BIN        use the products in this directory instead of building release ones
#                              (PLEXUS_BIN_DIR, as bench/smoke.sh sets it, works too)
#        KEEP=1                keep the temporary directory (data, outputs, server log)
# Prints, per tool: median wall seconds over REPEAT runs, CPU seconds, peak RSS (/usr/bin/time, KiB -> MB),
# the changed-line count each tool reports, and the ratios against GNU diff; then the worker's RSS and
# the clause-mode precision and recall per category.
# Targets: changed lines equal to `diff --minimal`; docdiff-bench CPU time at most GNU diff's; worker
# peak RSS at most 2x GNU diff's and back within 32 MB of its resting size after the calls; 100% recall
# of unchanged and renumbered clauses, 99% precision of changed ones, every moved block one move.
# Exit status: 0 all targets met, 3 a target missed, 1 the work did not happen (no figures), 2 a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
REPEAT="${1:-3}"
SCRATCH="${DOCCOMPARE_SCRATCH:-$ROOT/.build}"
SIZE_MB="${DOCCOMPARE_SIZE_MB:-20}"
CONTRACTS="${DOCCOMPARE_CONTRACTS:-200}"
if [ "${DOCCOMPARE_TINY:-0}" = 1 ]; then SIZE_MB=1; CONTRACTS=20; REPEAT=1; fi
BIN="${DOCCOMPARE_BIN:-${PLEXUS_BIN_DIR:-}}"
MISSED=()
WORK="$(mktemp -d /tmp/doccompare-bench.XXXXXX)"
TIME_PID=""

cleanup() {
    if [ -n "${PLEXUS_PID:-}" ] && kill -0 "$PLEXUS_PID" 2>/dev/null; then kill -TERM "$PLEXUS_PID" 2>/dev/null || true; fi
    if [ -n "$TIME_PID" ]; then wait "$TIME_PID" 2>/dev/null || true; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

for tool in python3 curl diff git /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "doccompare.sh: '$tool' is required" >&2; exit 2; }
done

echo "== generating two ~${SIZE_MB} MB files and $CONTRACTS contract pairs" >&2
python3 bench/doccompare-gen.py "$WORK/data" --size-mb "$SIZE_MB" >&2
python3 bench/doccompare-gen.py "$WORK/contracts" --contracts "$CONTRACTS" >&2
A="$WORK/data/a.txt"; B="$WORK/data/b.txt"

if [ -z "$BIN" ]; then
    echo "== building release products in $SCRATCH" >&2
    for product in plexus PlexusDocCompare docdiff-bench; do
        swift build -c release --scratch-path "$SCRATCH" --product "$product" >&2
    done
    BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
fi
for product in plexus libPlexusDocCompare.so docdiff-bench; do
    [ -e "$BIN/$product" ] || { echo "doccompare.sh: $BIN/$product is missing" >&2; exit 1; }
done

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run_timed LABEL OUTFILE CMD...: REPEAT runs of CMD under /usr/bin/time; records median seconds, median
# CPU seconds (user + system) and max RSS.
declare -A SECONDS_OF CPU_OF RSS_OF CHANGED_OF
run_timed() {
    local label="$1" out="$2"; shift 2
    local times=() cpus=() rss=0 start end status
    for _ in $(seq "$REPEAT"); do
        start="$(now)"
        set +e
        /usr/bin/time -f "%M %U %S" -o "$WORK/time.txt" "$@" > "$out"
        status=$?
        set -e
        end="$(now)"
        # diff and git diff exit 1 when the files differ; anything above is a failure.
        if [ "$status" -gt 1 ]; then echo "$label failed with status $status" >&2; exit 1; fi
        times+=("$(echo "$end - $start" | bc -l)")
        local r u sy; read -r r u sy < <(tail -n 1 "$WORK/time.txt")
        cpus+=("$(echo "$u + $sy" | bc -l)")
        [ "$r" -gt "$rss" ] && rss="$r"
    done
    SECONDS_OF[$label]="$(printf '%s\n' "${times[@]}" | median)"
    CPU_OF[$label]="$(printf '%s\n' "${cpus[@]}" | median)"
    RSS_OF[$label]="$rss"
}

command -v bc >/dev/null || { echo "doccompare.sh: 'bc' is required" >&2; exit 2; }

echo "== docdiff-bench (library call)" >&2
run_timed docdiff-bench "$WORK/bench.out" "$BIN/docdiff-bench" "$A" "$B"
CHANGED_OF[docdiff-bench]="$(awk '/changed lines/ { print $3 }' "$WORK/bench.out")"

echo "== GNU diff" >&2
run_timed "GNU diff" "$WORK/diff.out" diff "$A" "$B"
CHANGED_OF["GNU diff"]="$(grep -c '^[<>]' "$WORK/diff.out" || true)"

echo "== GNU diff --minimal" >&2
run_timed "diff --minimal" "$WORK/diffmin.out" diff --minimal "$A" "$B"
CHANGED_OF["diff --minimal"]="$(grep -c '^[<>]' "$WORK/diffmin.out" || true)"

echo "== git diff --no-index --histogram" >&2
run_timed "git diff --histogram" "$WORK/git.out" git -c core.pager=cat diff --no-index --histogram --no-color "$A" "$B"
# every +/- line but the two file headers (--- a/..., +++ b/...)
CHANGED_OF["git diff --histogram"]="$(( $(grep -c '^[-+]' "$WORK/git.out" || true) - 2 ))"

echo "== plexus route (POST /api/v1/documents/compare, multipart, format=json)" >&2
mkdir -p "$WORK/serve/plugins.d"
cp "$BIN/libPlexusDocCompare.so" "$WORK/serve/plugins.d/"
printf 'max_input_bytes = %d\n' $((64 << 20)) > "$WORK/serve/plugins.d/doccompare.toml"
cat > "$WORK/serve/plexus.toml" <<TOML
[server]
listen = "127.0.0.1:0"
[plugins]
dir = "plugins.d"
[data]
dir = "data"
TOML
(cd "$WORK/serve" && exec /usr/bin/time -f "%M" -o "$WORK/serve.time" "$BIN/plexus" serve --config plexus.toml 2> "$WORK/serve.log") &
TIME_PID=$!
PORT=""
for _ in $(seq 300); do
    PORT="$(grep -o 'address=127\.0\.0\.1:[0-9]*' "$WORK/serve.log" 2>/dev/null | head -n 1 | cut -d: -f2 || true)"
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { echo "plexus did not start:" >&2; cat "$WORK/serve.log" >&2; exit 1; }
PLEXUS_PID="$(pgrep -P "$TIME_PID" -x plexus || true)"
# The worker process that runs the plugins (a child of the supervising master), or the master itself.
WORKER_PID=""
for _ in $(seq 100); do
    WORKER_PID="$(pgrep -P "$PLEXUS_PID" -x plexus | head -n 1 || true)"
    [ -n "$WORKER_PID" ] && break
    sleep 0.1
done
[ -n "$WORKER_PID" ] || WORKER_PID="$PLEXUS_PID"
# The runtime writes an admin API key at its first start; the compare route needs credentials.
for _ in $(seq 100); do [ -s "$WORK/serve/data/admin.key" ] && break; sleep 0.1; done
[ -s "$WORK/serve/data/admin.key" ] || { echo "plexus wrote no data/admin.key" >&2; exit 1; }
AUTH="Authorization: Bearer $(tr -d '[:space:]' < "$WORK/serve/data/admin.key")"
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$WORKER_PID/status"; }
curl -sS -o /dev/null "http://127.0.0.1:$PORT/health" || true
sleep 0.5
RSS_BEFORE="$(rss_kib)"
# Sample the worker's RSS every 20 ms while the calls run.
( peak=0; while kill -0 "$WORKER_PID" 2>/dev/null && [ ! -e "$WORK/calls.done" ]; do
      r="$(awk '/^VmRSS:/ { print $2 }' "/proc/$WORKER_PID/status" 2>/dev/null || echo 0)"
      [ "${r:-0}" -gt "$peak" ] && peak="$r" && echo "$peak" > "$WORK/rss.peak"
      sleep 0.02
  done ) &
SAMPLER_PID=$!
route_times=()
for _ in $(seq "$REPEAT"); do
    code_time="$(curl -sS -o "$WORK/route.json" -w '%{http_code} %{time_total}' -H "$AUTH" \
        -F "old=@$A;type=text/plain" -F "new=@$B;type=text/plain" -F format=json \
        "http://127.0.0.1:$PORT/api/v1/documents/compare")"
    [ "${code_time%% *}" = 200 ] || { echo "route answered ${code_time%% *}: $(head -c 500 "$WORK/route.json")" >&2; exit 1; }
    route_times+=("${code_time#* }")
done
touch "$WORK/calls.done"
wait "$SAMPLER_PID" || true
sleep 1
RSS_AFTER="$(rss_kib)"
RSS_PEAK="$(cat "$WORK/rss.peak" 2>/dev/null || echo 0)"
RSS_HWM="$(awk '/^VmHWM:/ { print $2 }' "/proc/$WORKER_PID/status")"
kill -TERM "$PLEXUS_PID"
wait "$TIME_PID" || true
TIME_PID=""
SECONDS_OF["plexus route"]="$(printf '%s\n' "${route_times[@]}" | median)"
RSS_OF["plexus route"]="$(tail -n 1 "$WORK/serve.time")"
CHANGED_OF["plexus route"]="$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
ops = r["edit_script"]["operations"]
print(sum(o["old_tokens"][1] - o["old_tokens"][0] for o in ops if o["kind"] == "delete")
      + sum(o["new_tokens"][1] - o["new_tokens"][0] for o in ops if o["kind"] == "insert"))
' "$WORK/route.json")"
ROUTE_MOVES="$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["moves"]))' "$WORK/route.json")"
ROUTE_BYTES="$(stat -c %s "$WORK/route.json")"

echo "== clause mode on $CONTRACTS contract pairs" >&2
pairs=()
for f in "$WORK"/contracts/*.old.txt; do pairs+=("$f" "${f%.old.txt}.new.txt"); done
"$BIN/docdiff-bench" clauses "${pairs[@]}" > "$WORK/clauses.jsonl" || { echo "docdiff-bench clauses failed" >&2; exit 1; }

echo
printf 'Files: %s (%s bytes) vs %s (%s bytes); %s runs each, median wall and CPU time; peak RSS from /usr/bin/time -f %%M\n' \
    a.txt "$(stat -c %s "$A")" b.txt "$(stat -c %s "$B")" "$REPEAT"
printf '%s\n' "| tool | seconds | CPU seconds | peak RSS (MB) | changed lines | time / GNU diff | RSS / GNU diff |"
printf '%s\n' "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
base_s="${SECONDS_OF[GNU diff]}"; base_m="${RSS_OF[GNU diff]}"
for label in "docdiff-bench" "plexus route" "GNU diff" "diff --minimal" "git diff --histogram"; do
    s="${SECONDS_OF[$label]}"; m="${RSS_OF[$label]}"; c="${CPU_OF[$label]:-}"
    printf '| %s | %.3f | %s | %.1f | %s | %.2fx | %.2fx |\n' "$label" "$s" "${c:--}" "$(echo "$m / 1024" | bc -l)" "${CHANGED_OF[$label]}" \
        "$(echo "$s / $base_s" | bc -l)" "$(echo "$m / $base_m" | bc -l)"
done
echo
echo "plexus route: curl time_total (upload of both files, multipart parse, UTF-8 check, diff with move detection, JSON of $ROUTE_BYTES bytes); the route's RSS column is the supervising master's (/usr/bin/time); $ROUTE_MOVES moves reported."
printf 'route worker (pid %s) RSS: before %.1f MB, peak during the calls %.1f MB (sampled every 20 ms; VmHWM %.1f MB), after %.1f MB; peak / GNU diff peak = %.2fx\n' \
    "$WORKER_PID" "$(echo "$RSS_BEFORE / 1024" | bc -l)" "$(echo "$RSS_PEAK / 1024" | bc -l)" "$(echo "$RSS_HWM / 1024" | bc -l)" \
    "$(echo "$RSS_AFTER / 1024" | bc -l)" "$(echo "$RSS_HWM / $base_m" | bc -l)"
echo
set +e
python3 bench/doccompare-score.py "$WORK/contracts" "$WORK/clauses.jsonl" 2> "$WORK/score.err"
score=$?
set -e
[ "$score" = 1 ] && { cat "$WORK/score.err" >&2; exit 1; }
[ "$score" = 3 ] && { MISSED+=("clause mode (see above)"); cat "$WORK/score.err" >&2; }

# Targets.
[ "${CHANGED_OF[docdiff-bench]}" = "${CHANGED_OF[diff --minimal]}" ] \
    || MISSED+=("docdiff-bench reports ${CHANGED_OF[docdiff-bench]} changed lines, diff --minimal ${CHANGED_OF[diff --minimal]}")
[ "${CHANGED_OF[plexus route]}" -le "$(( ${CHANGED_OF[diff --minimal]} + 2 * ROUTE_MOVES ))" ] \
    || MISSED+=("the route's edit script changes ${CHANGED_OF[plexus route]} lines, more than diff --minimal's ${CHANGED_OF[diff --minimal]} plus two separators per move")
[ "$(echo "${CPU_OF[docdiff-bench]} <= ${CPU_OF[GNU diff]}" | bc -l)" = 1 ] \
    || MISSED+=("docdiff-bench takes ${CPU_OF[docdiff-bench]} CPU seconds, GNU diff ${CPU_OF[GNU diff]}")
[ "$RSS_HWM" -le "$(( 2 * base_m ))" ] \
    || MISSED+=("the worker's peak RSS ($((RSS_HWM / 1024)) MB) is over twice GNU diff's ($((base_m / 1024)) MB)")
[ "$RSS_AFTER" -le "$(( RSS_BEFORE + 32 * 1024 ))" ] \
    || MISSED+=("the worker keeps $(( (RSS_AFTER - RSS_BEFORE) / 1024 )) MB more after the calls than before")
if [ "${#MISSED[@]}" -gt 0 ]; then
    for m in "${MISSED[@]}"; do echo "TARGET MISSED: $m"; done
    exit 3
fi
echo "all targets met"
