#!/usr/bin/env python3
"""Request-path cost of two `plexus` builds side by side, supervised (as `plexus serve` runs).

For each build, alternating for ROUNDS rounds (default 4): start `plexus serve --supervise` with
hello-c (server on CPU 0, wrk on CPU 1, as bench/supervisor.py), then wrk -t1 -c64 (CONNECTIONS)
for SECONDS (default 8) on /api/v1/c/hello. Prints requests/s and the worker's CPU time per
request (utime+stime from /proc over wrk's requests), which a shared machine disturbs less than
requests/s. Usage: request-cost.py FIXTURES_DIR NAME=PLEXUS_BINARY NAME=PLEXUS_BINARY
(fixtures from Tests/Fixtures/CPlugins/build.sh).
"""
import os, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import supervisor as sup  # start/stop/wrk helpers

ROUNDS = int(os.environ.get("ROUNDS", "4"))
SECONDS = int(os.environ.get("SECONDS", "8"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "64"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main():
    fixtures = sys.argv[1]
    builds = dict(argument.split("=", 1) for argument in sys.argv[2:])
    root = tempfile.mkdtemp(prefix="plexus-request-cost-")
    results = {name: [] for name in builds}
    for _ in range(ROUNDS):
        for name, binary in builds.items():
            proc, port, _ = sup.start(binary, os.path.join(root, name), fixtures, ["hello-c"], True, "")
            worker = int(subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()[0])
            url = f"http://127.0.0.1:{port}/api/v1/c/hello"
            subprocess.run(["taskset", "-c", sup.CLIENT_CPU, "wrk", "-t1", "-c16", "-d1s"] + sup.wrk_auth(port) + [url], capture_output=True)
            before = cpu_seconds(worker)
            rps, total, errors, _, non2xx = sup.wrk(url, CONNECTIONS, SECONDS, port)
            results[name].append((rps, (cpu_seconds(worker) - before) / total * 1e6, errors + non2xx))
            sup.stop(proc)
    print(f"\nrequest-path cost, supervised, wrk -t1 -c{CONNECTIONS} {SECONDS}s x {ROUNDS} alternating rounds, /api/v1/c/hello")
    for name, values in results.items():
        print(f"  {name:8} req/s {' '.join(f'{v[0]:.0f}' for v in values)} (median {statistics.median(v[0] for v in values):.0f}); "
              f"worker CPU per request {' '.join(f'{v[1]:.2f}' for v in values)} us (median {statistics.median(v[1] for v in values):.2f}); "
              f"failed {sum(v[2] for v in values)}")


if __name__ == "__main__":
    main()
