#!/usr/bin/env bash
# Sets up and runs every test: unit tests, engine tests, integration tests that start the real
# plexus binary over real plugins on loopback, a scaffolded third-party plugin package, and every
# benchmark at a tiny size (bench/smoke.sh: each must do its work and print its figures).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build
swift build --build-tests
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
swift test --skip-build 2>&1 | tee "$log"
scaffold_log="$(mktemp)"
scripts/check-scaffold.sh "$(swift build --show-bin-path)" 2>&1 | tee "$scaffold_log"
# One closing line for the whole run: XCTest's totals of both suites.
summary() { grep -E "^[[:space:]]*Executed [0-9]+ tests?, with [0-9]+ failures?" "$1" | tail -1; }
read -r main_total main_failed < <(summary "$log" | sed -E 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1 \2/')
read -r scaffold_total scaffold_failed < <(summary "$scaffold_log" | sed -E 's/.*Executed ([0-9]+) tests?, with ([0-9]+) failures?.*/\1 \2/')
rm -f "$scaffold_log"
# The API fuzzed against its own OpenAPI document: one more line of the summary.
schemathesis_total=1 schemathesis_failed=0
scripts/schemathesis.sh "$(swift build --show-bin-path)" || schemathesis_failed=1
# The release binary with the Swift standard library linked statically, run with the toolchain hidden.
static_total=1 static_failed=0
scripts/check-static-release.sh "$(swift build --show-bin-path)" || static_failed=1
# The benchmarks at a tiny size (wrk, nginx-light and nodejs come from install-deps.sh --bench).
bench_total=1 bench_failed=0
bench/smoke.sh "$(swift build --show-bin-path)" || bench_failed=1
# Every fuzz harness for a few seconds (issue 23): its own build (libFuzzer + ASan) in .build-fuzz.
# A fixed seed and a fixed number of runs make each harness try the same inputs every time (a
# prefix of them when the time runs out first). Every harness mutates (FUZZ_REPLAY_ONLY names any
# that should only replay their seeds and regressions: none since the .docx reader moved to libzip +
# libxml2 and the TOML readers to PlexusTOML).
fuzz_total=1 fuzz_failed=0
FUZZ_REPLAY_ONLY="${FUZZ_REPLAY_ONLY-}" \
    FUZZ_ARGS="${FUZZ_ARGS:--seed=1 -runs=3000}" scripts/fuzz.sh all "${FUZZ_SECONDS:-5}" || fuzz_failed=1
# The 2-minute soak: every shipped plugin under a mixed load, checking only for gross leaks.
soak_total=1 soak_failed=0
SOAK_CHECK=leaks PLEXUS_BIN_DIR="$(swift build --show-bin-path)" bench/soak.sh 2 || soak_failed=1
failed=$((main_failed + scaffold_failed + schemathesis_failed + static_failed + bench_failed + fuzz_failed + soak_failed))
echo "tests: $((main_total + scaffold_total + schemathesis_total + static_total + bench_total + fuzz_total + soak_total - failed)) passed, $failed failed"
[[ $failed -eq 0 ]]
