#!/usr/bin/env bash
# DocCompare benchmark: the DocDiff engine as a library call, the plexus route, GNU diff and git diff,
# on two ~20 MB generated text files (bench/doccompare-gen.py), in one run.
#
# Usage: bench/doccompare.sh [REPEAT=3]
#   env: DOCCOMPARE_SCRATCH  release scratch path (default .build)
#        DOCCOMPARE_SIZE_MB  size of each file (default 20)
#        KEEP=1              keep the temporary directory (data, outputs, server log)
# Prints, per tool: median wall seconds over REPEAT runs, peak RSS (/usr/bin/time -f %M, KiB -> MB),
# the changed-line count each tool reports, and the ratios against GNU diff.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
REPEAT="${1:-3}"
SCRATCH="${DOCCOMPARE_SCRATCH:-$ROOT/.build}"
SIZE_MB="${DOCCOMPARE_SIZE_MB:-20}"
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

echo "== generating two ~${SIZE_MB} MB files" >&2
python3 bench/doccompare-gen.py "$WORK/data" --size-mb "$SIZE_MB" >&2
A="$WORK/data/a.txt"; B="$WORK/data/b.txt"

echo "== building release products in $SCRATCH" >&2
for product in plexus PlexusDocCompare docdiff-bench; do
    swift build -c release --scratch-path "$SCRATCH" --product "$product" >&2
done
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run_timed LABEL OUTFILE CMD...: REPEAT runs of CMD under /usr/bin/time; records median seconds and max RSS.
declare -A SECONDS_OF RSS_OF CHANGED_OF
run_timed() {
    local label="$1" out="$2"; shift 2
    local times=() rss=0 start end status
    for _ in $(seq "$REPEAT"); do
        start="$(now)"
        set +e
        /usr/bin/time -f "%M" -o "$WORK/time.txt" "$@" > "$out"
        status=$?
        set -e
        end="$(now)"
        # diff and git diff exit 1 when the files differ; anything above is a failure.
        if [ "$status" -gt 1 ]; then echo "$label failed with status $status" >&2; exit 1; fi
        times+=("$(echo "$end - $start" | bc -l)")
        local r; r="$(tail -n 1 "$WORK/time.txt")"
        [ "$r" -gt "$rss" ] && rss="$r"
    done
    SECONDS_OF[$label]="$(printf '%s\n' "${times[@]}" | median)"
    RSS_OF[$label]="$rss"
}

command -v bc >/dev/null || { echo "doccompare.sh: 'bc' is required" >&2; exit 2; }

echo "== docdiff-bench (library call)" >&2
run_timed docdiff-bench "$WORK/bench.out" "$BIN/docdiff-bench" "$A" "$B"
CHANGED_OF[docdiff-bench]="$(awk '/changed lines/ { print $3 }' "$WORK/bench.out")"

echo "== GNU diff" >&2
run_timed "GNU diff" "$WORK/diff.out" diff "$A" "$B"
CHANGED_OF["GNU diff"]="$(grep -c '^[<>]' "$WORK/diff.out" || true)"

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
route_times=()
for _ in $(seq "$REPEAT"); do
    code_time="$(curl -sS -o "$WORK/route.json" -w '%{http_code} %{time_total}' \
        -F "old=@$A;type=text/plain" -F "new=@$B;type=text/plain" -F format=json \
        "http://127.0.0.1:$PORT/api/v1/documents/compare")"
    [ "${code_time%% *}" = 200 ] || { echo "route answered ${code_time%% *}: $(head -c 500 "$WORK/route.json")" >&2; exit 1; }
    route_times+=("${code_time#* }")
done
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

echo
printf 'Files: %s (%s bytes) vs %s (%s bytes); %s runs each, median wall time; peak RSS from /usr/bin/time -f %%M\n' \
    a.txt "$(stat -c %s "$A")" b.txt "$(stat -c %s "$B")" "$REPEAT"
printf '%s\n' "| tool | seconds | peak RSS (MB) | changed lines | time / GNU diff | RSS / GNU diff |"
printf '%s\n' "| --- | ---: | ---: | ---: | ---: | ---: |"
base_s="${SECONDS_OF[GNU diff]}"; base_m="${RSS_OF[GNU diff]}"
for label in "docdiff-bench" "plexus route" "GNU diff" "git diff --histogram"; do
    s="${SECONDS_OF[$label]}"; m="${RSS_OF[$label]}"
    printf '| %s | %.3f | %.1f | %s | %.2fx | %.2fx |\n' "$label" "$s" "$(echo "$m / 1024" | bc -l)" "${CHANGED_OF[$label]}" \
        "$(echo "$s / $base_s" | bc -l)" "$(echo "$m / $base_m" | bc -l)"
done
echo
echo "plexus route: curl time_total (upload of both files, multipart parse, UTF-8 check, diff with move detection, JSON of $ROUTE_BYTES bytes); RSS is the whole plexus process; $ROUTE_MOVES moves reported."
