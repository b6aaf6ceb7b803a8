#!/usr/bin/env bash
# Builds the fuzz executable (libFuzzer + address sanitizer, every harness in one binary) and runs
# one harness or each in turn, then prints one line per harness: seconds, executions, edges, findings.
#
#   scripts/fuzz.sh TARGET SECONDS     build, then run one harness (scripts/fuzz.sh list names them)
#   scripts/fuzz.sh all SECONDS        build, then run every harness for SECONDS each
#   scripts/fuzz.sh list               the harnesses and what each reads
#
# Seeds: Fuzz/corpus/TARGET (checked in) and Fuzz/regressions/TARGET (minimised findings, checked in,
# replayed on every run). New inputs go to .build-fuzz/corpus/TARGET, findings (crash-*, leak-*,
# timeout-*, oom-*) to .build-fuzz/findings/TARGET. Environment: FUZZ_NICE (default 10),
# FUZZ_REPLAY_ONLY (harnesses that only replay their seeds and regressions, no mutation: the test
# command names those with an open fault in a dependency, Fuzz/known/), FUZZ_ARGS
# (extra libFuzzer flags, e.g. -jobs=2), FUZZ_NO_BUILD=1 to skip the build. Exit 1 on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-}"
seconds="${2:-10}"
[[ -n "$target" ]] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -ge 1 ]] || { echo "fuzz: SECONDS must be a whole number of seconds, not '$seconds'" >&2; exit 2; }

# swiftc keeps only its last -sanitize= flag: the combined one, after the two SwiftPM adds, keeps both.
build=(swift build --build-path .build-fuzz --product plexus-fuzz --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address)
if [[ "${FUZZ_NO_BUILD:-0}" != 1 ]]; then
    started=$SECONDS
    PLEXUS_FUZZ=1 nice -n "${FUZZ_NICE:-10}" "${build[@]}" 2>&1 | grep -v -e "Cannot export local symbol" -e "prohibited flag" >&2
    echo "fuzz: build took $((SECONDS - started)) s" >&2
fi
bin="$(PLEXUS_FUZZ=1 "${build[@]}" --show-bin-path)/plexus-fuzz"
[[ -x "$bin" ]] || { echo "fuzz: $bin is missing: the build failed" >&2; exit 1; }

if [[ "$target" == list ]]; then exec "$bin" list; fi
if [[ "$target" == all ]]; then
    mapfile -t targets < <("$bin" list | cut -f1)
else
    "$bin" list | cut -f1 | grep -qx -- "$target" || { echo "fuzz: no harness '$target'; these exist:" >&2; "$bin" list >&2; exit 2; }
    targets=("$target")
fi

# The dictionary and the largest input of each harness.
dict_for() {
    case "$1" in
        http|websocket|request-target) echo Fuzz/dict/http.dict ;;
        runtime-config|native-manifest) echo Fuzz/dict/toml.dict ;;
        ctt) echo Fuzz/dict/ctt.dict ;;
        multipart) echo Fuzz/dict/multipart.dict ;;
        docx|logo) echo Fuzz/dict/xml.dict ;;
        wav|api-key|topic-pattern) echo "" ;;
        *) echo Fuzz/dict/json.dict ;;
    esac
}
max_len_for() {
    case "$1" in docx|wav) echo 65536 ;; http|websocket|chart-spec|rule-pack|workflow-def|school-json|ctt) echo 16384 ;; *) echo 4096 ;; esac
}

failed=0
printf '%-16s %8s %12s %8s %8s\n' harness seconds executions edges findings
for name in "${targets[@]}"; do
    work=".build-fuzz/corpus/$name" findings=".build-fuzz/findings/$name"
    mkdir -p "$work" "$findings" "Fuzz/corpus/$name"
    dirs=("$work" "Fuzz/corpus/$name")
    [[ -d "Fuzz/regressions/$name" ]] && dirs+=("Fuzz/regressions/$name")
    dict="$(dict_for "$name")"
    flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$(max_len_for "$name")"
           -artifact_prefix="$findings/" -print_final_stats=1)
    [[ -n "$dict" ]] && flags+=(-dict="$dict")
    replay_only=0
    for listed in ${FUZZ_REPLAY_ONLY:-}; do [[ "$listed" == "$name" ]] && replay_only=1; done
    # -runs=0 executes every input of the corpus directories once and mutates nothing.
    [[ $replay_only == 1 ]] && flags+=(-runs=0)
    log="$findings/last-run.log"
    before=$(find "$findings" -maxdepth 1 -type f ! -name '*.log' | wc -l)
    started=$SECONDS
    # shellcheck disable=SC2086
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/Fuzz/lsan.supp:print_suppressions=0}" nice -n "${FUZZ_NICE:-10}" "$bin" "$name" ${FUZZ_ARGS:-} "${flags[@]}" "${dirs[@]}" >"$log" 2>&1 || true
    elapsed=$((SECONDS - started))
    after=$(find "$findings" -maxdepth 1 -type f ! -name '*.log' | wc -l)
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    edges=$(grep -o ' cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
    new=$((after - before))
    if grep -q -e '^==[0-9]*==ERROR' -e 'Fatal error' -e '^SUMMARY: ' "$log" && [[ $new -eq 0 ]]; then new=1; fi
    printf '%-16s %8s %12s %8s %8s\n' "$name" "$elapsed" "${execs:-?}" "${edges:-?}" "$new"
    if [[ $new -gt 0 ]]; then
        failed=1
        echo "  finding(s) in $findings (log: $log):" >&2
        grep -m3 -e 'ERROR' -e 'Fatal error' -e 'SUMMARY' "$log" | sed 's/^/    /' >&2 || true
    fi
done
exit $failed
