#!/usr/bin/env bash
# User-space instructions per request, counted by callgrind, of nginx `return 200` and of plexus
# (release, unsupervised, access log off) on GET /api/v1/hello public and authenticated (HS256 JWT
# + a rate limit that never refuses), in one run, over the same sequential keep-alive client
# (scripts/callgrind-request.sh; REQUESTS, default 2000, after 200 to warm up). Instruction counts
# do not move with the machine's load, unlike wall-clock figures: the request path's cost is
# decided on them; CPU per request (bench/http.sh, bench/gateway.sh) stays the target.
# No target of its own (exit 0); exit 1 when a run did not answer 200 or printed no count.
# PLEXUS_BIN_DIR: an already built release directory (plexus and libPlexusHello.so); otherwise
# this builds them.
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-2000}"
if [[ -z "${PLEXUS_BIN_DIR:-}" ]]; then
    swift build -c release --product plexus
    swift build -c release --product PlexusHello
    export PLEXUS_BIN_DIR="$(swift build -c release --show-bin-path)"
fi
count() {
    local line
    if ! line="$("$@" 2>&1 | tail -1)" || [[ ! "$line" =~ ^instructions\ per\ request:\ ([0-9]+) ]]; then
        echo "instructions bench FAILED: $* printed: $line" >&2
        exit 1
    fi
    echo "${BASH_REMATCH[1]}"
}
nginx="$(NGINX=1 count scripts/callgrind-request.sh public "$requests")"
public="$(count scripts/callgrind-request.sh public "$requests")"
authenticated="$(count scripts/callgrind-request.sh authenticated "$requests")"
echo
echo "user-space instructions per request (callgrind), $requests sequential keep-alive GET /api/v1/hello"
printf '%-40s %10s %12s\n' server instructions "x nginx"
printf '%-40s %10d %12s\n' "nginx return 200" "$nginx" "1.00"
printf '%-40s %10d %12s\n' "plexus public" "$public" "$(python3 -c "print(f'{$public / $nginx:.2f}')")"
printf '%-40s %10d %12s\n' "plexus authenticated + rate limit" "$authenticated" "$(python3 -c "print(f'{$authenticated / $nginx:.2f}')")"
