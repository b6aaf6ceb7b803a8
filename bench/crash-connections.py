#!/usr/bin/env python3
"""Failed requests per worker crash under load (run through bench/crash-connections.sh).

`plexus serve --supervise` with hello-c and crash-segv; wrk -c256 (BENCH_CONNECTIONS) keeps
the hello-c route busy for BENCH_SECONDS (default 20) while a separate client sends the
crash-segv route CRASHES times (default 5), evenly spread. wrk's socket errors (connect, read,
write, timeout at --timeout BENCH_TIMEOUT, default 5s) plus its non-2xx answers, divided by the
crashes, are the failed requests per crash; a run of the same length without crashes gives the
baseline (expected 0). Target: 0 failed requests per crash (exit 3 otherwise); exit 1 when the work
did not happen (wrk did not run, no request answered, or the master logged fewer crashes than sent). The crashing requests' own answers are listed apart (502 once the master
keeps the connections, a connection error before). BENCH_NO_BACKTRACE=1 runs the worker without
the Swift runtime's crash backtracer (SWIFT_BACKTRACE=enable=no: it dies at once).
Usage: crash-connections.py BIN_DIR FIXTURES_DIR
"""
import os, re, shutil, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import supervisor as sup  # start/stop/get/wrk_auth helpers

SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
CRASHES = int(os.environ.get("CRASHES", "5"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "256"))
TIMEOUT = os.environ.get("BENCH_TIMEOUT", "5s")


def load(port, seconds, crashes):
    url = f"http://127.0.0.1:{port}/api/v1/c/hello"
    cmd = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", f"--timeout={TIMEOUT}"] + sup.wrk_auth(port) + [url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    answers = []
    for index in range(crashes):
        time.sleep(seconds / (crashes + 1))
        answers.append(sup.get(port, "/api/v1/c/segv", timeout=10))
    out = proc.communicate()[0]
    done = re.search(r"(\d+) requests in", out)
    if proc.returncode != 0 or not done or int(done.group(1)) == 0:
        raise SystemExit(f"crash-connections: wrk did not load the server (exit {proc.returncode}):\n{out}")
    total = int(done.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = [int(n) for n in errors.groups()] if errors else [0, 0, 0, 0]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return total, socket_errors, int(non2xx.group(1)) if non2xx else 0, answers


def main():
    binary = os.path.join(sys.argv[1], "plexus")
    fixtures = sys.argv[2]
    root = tempfile.mkdtemp(prefix="plexus-crash-conns-")
    config = "[supervisor]\nquarantine_after = 100000\n"
    env = dict(os.environ, SWIFT_BACKTRACE="enable=no") if os.environ.get("BENCH_NO_BACKTRACE") == "1" else None
    proc, port, _ = sup.start(binary, os.path.join(root, "base"), fixtures, ["hello-c", "crash-segv"], True, config, level="notice", env=env)
    base = load(port, SECONDS, 0)
    sup.stop(proc)
    proc, port, _ = sup.start(binary, os.path.join(root, "crash"), fixtures, ["hello-c", "crash-segv"], True, config, level="notice", env=env)
    crash = load(port, SECONDS, CRASHES)
    sup.stop(proc)
    with open(os.path.join(root, "crash", "log.txt")) as f:
        log = f.read()
    handover = re.findall(r"connections of the crashed worker: ([^\n]*?)(?: worker=|$)", log, re.M)
    crashes_logged = log.count("crashed in plugin 'crash-segv'")

    def failed(result):
        return sum(result[1]) + result[2]
    print(f"\nfailed requests per worker crash ({binary})")
    print(f"wrk -t2 -c{CONNECTIONS} -d{SECONDS}s --timeout {TIMEOUT} on /api/v1/c/hello; {CRASHES} crashes (GET /api/v1/c/segv) spread over the run"
          + ("; worker without the crash backtracer" if env else ""))
    for name, result in (("no crash", base), ("crashes", crash)):
        c, r, w, t = result[1]
        print(f"  {name:9} {result[0]:8} requests, socket errors connect {c} read {r} write {w} timeout {t}, non-2xx {result[2]}")
    print(f"  crashing requests answered: {crash[3]}   (None: connection error); crashes the master logged: {crashes_logged}")
    shutil.rmtree(root, ignore_errors=True)
    for line in handover:
        print(f"  master: {line}")
    per = (failed(crash) - failed(base)) / max(1, crashes_logged)
    print(f"failed requests per crash: {per:.1f}   (failed with crashes {failed(crash)} - without {failed(base)}, / {crashes_logged} crashes)")
    if crashes_logged < CRASHES:
        raise SystemExit(f"crash-connections: {CRASHES} crashes sent, the master logged {crashes_logged}")
    if failed(crash) > 0 or failed(base) > 0:
        print(f"TARGET MISSED: 0 failed requests per worker crash and none without crashes "
              f"(failed: {failed(crash)} with crashes, {failed(base)} without)")
        sys.exit(3)


if __name__ == "__main__":
    main()
