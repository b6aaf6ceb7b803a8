#!/usr/bin/env python3
"""Supervisor benchmark (run through bench/supervisor.sh).

1. crash to serving: GET the crash-segv fixture route (the worker dies), then time until the
   hello-c route answers again (it waits in the listen backlog for the new worker); median and worst of 20.
2. plugins.d change to the new generation serving: copy greeter-c.so in (time until its route
   answers 200) and take it out again (time until 404); median and worst of 5 each.
3. reloads under load: wrk -c16 on the hello-c route while the master is sent SIGHUP 5 times;
   wrk's socket errors and non-2xx answers (both should be 0).
4. cost of supervision: wrk -t1 -c64 on the hello-c route against `plexus serve` and (alternating, BENCH_ROUNDS=3)
   `plexus serve --supervise` (server on CPU 0, wrk on CPU 1, as bench/http.py); the ratio.

CRASH_RUNS (20), CHANGE_RUNS (5) and RELOADS (5) set the counts. Target: every reload completes
with no failed request under load (exit 3 otherwise). Exit 1, with no figures, when the work did
not happen: a server that did not start or come back, wrk that did not run, an answer not 2xx.
"""
import os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, threading, time

DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
CRASH_RUNS = int(os.environ.get("CRASH_RUNS", "20"))
CHANGE_RUNS = int(os.environ.get("CHANGE_RUNS", "5"))
RELOADS = int(os.environ.get("RELOADS", "5"))
SERVER_CPU, CLIENT_CPU = "0", "1"


# The admin key each instance wrote (its C fixture routes are for authenticated callers), by port.
KEYS = {}


def auth_header(port):
    key = KEYS.get(port)
    return f"Authorization: Bearer {key}\r\n" if key else ""


def wrk_auth(port):
    key = KEYS.get(port)
    return ["-H", f"Authorization: Bearer {key}"] if key else []


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port


def get(port, path, timeout=10.0):
    """Status of GET path on a fresh connection, or None on a connection error."""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.settimeout(timeout)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: b\r\n{auth_header(port)}Connection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
        s.close()
        m = re.match(rb"HTTP/1\.1 (\d+)", data)
        return int(m.group(1)) if m else None
    except OSError:
        return None


def wait_status(port, path, status, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if get(port, path, timeout=2) == status:
            return True
        time.sleep(0.002)
    return False


def start(binary, work, fixtures, plugins, supervise, extra="", level="warning", env=None):
    plugins_dir = os.path.join(work, "plugins.d")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(plugins_dir)
    for name in plugins:
        shutil.copy(os.path.join(fixtures, name + ".so"), plugins_dir)
    port = free_port()
    config = os.path.join(work, "plexus.toml")
    with open(config, "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:{port}"\n[plugins]\ndir = "plugins.d"\n[data]\ndir = "data"\n'
                f'[log]\nlevel = "{level}"\n{extra}')
    cmd = ["taskset", "-c", SERVER_CPU, binary, "serve", "--config", config, "--no-access-log"] + (["--supervise"] if supervise else ["--no-supervise"])
    log = open(os.path.join(work, "log.txt"), "w")
    proc = subprocess.Popen(cmd, stderr=log, env=env)
    key_file = os.path.join(work, "data", "admin.key")
    deadline = time.time() + 30
    while not os.path.exists(key_file) and time.time() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    with open(key_file) as f:
        KEYS[port] = f.read().strip()
    if not wait_status(port, "/api/v1/c/hello", 200):
        raise SystemExit(f"plexus did not start; see {work}/log.txt")
    return proc, port, plugins_dir


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill(); proc.wait()


def wrk_result(out, returncode):
    """(requests/s, requests, socket errors, socket errors as wrk printed them, non-2xx) of a wrk run;
    exits 1 when wrk did not run or answered nothing."""
    done = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if returncode != 0 or not done or not rate or int(done.group(1)) == 0:
        raise SystemExit(f"supervisor bench: wrk did not load the server (exit {returncode}):\n{out}")
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    error_count = sum(int(n) for n in re.findall(r"\d+", errors.group(1))) if errors else 0
    return float(rate.group(1)), int(done.group(1)), error_count, (errors.group(1) if errors else "none"), int(non2xx.group(1)) if non2xx else 0


def wrk(url, connections, seconds, port):
    cmd = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{seconds}s"] + wrk_auth(port) + [url]
    run = subprocess.run(cmd, capture_output=True, text=True)
    result = wrk_result(run.stdout, run.returncode)
    if result[4] > 0:
        raise SystemExit(f"supervisor bench: {result[4]} answers were not 2xx on {url}")
    return result


def ms(values):
    return f"median {statistics.median(values):7.1f} ms   worst {max(values):7.1f} ms"


def main():
    binary = os.path.join(sys.argv[1], "plexus")
    fixtures = sys.argv[2]
    root = tempfile.mkdtemp(prefix="plexus-sup-bench-")
    sup = "[supervisor]\nquarantine_after = 100000\n"

    # 1. crash to serving (as is, and without the Swift runtime's crash backtracer in the worker)
    def crash_runs(env):
        proc, port, _ = start(binary, os.path.join(root, "crash"), fixtures, ["hello-c", "crash-segv"], True, sup, env=env)
        times = []
        for _ in range(CRASH_RUNS):
            # The crashing request runs on its own thread (its connection stays open while the dying
            # worker writes its backtrace); another client asks for a working route meanwhile.
            t0 = time.perf_counter()
            crasher = threading.Thread(target=get, args=(port, "/api/v1/c/segv"))
            crasher.start()
            time.sleep(0.005)
            if not wait_status(port, "/api/v1/c/hello", 200):
                raise SystemExit("not serving again after a crash")
            times.append((time.perf_counter() - t0) * 1000)
            crasher.join()
            time.sleep(0.05)
        stop(proc)
        return times
    crash = crash_runs(None)
    crash_nobt = crash_runs(dict(os.environ, SWIFT_BACKTRACE="enable=no"))

    # 2. plugins.d change to the new generation serving
    proc, port, plugins_dir = start(binary, os.path.join(root, "change"), fixtures, ["hello-c"], True, sup)
    added, removed = [], []
    for _ in range(CHANGE_RUNS):
        t0 = time.perf_counter()
        shutil.copy(os.path.join(fixtures, "greeter-c.so"), os.path.join(plugins_dir, ".greeter.tmp"))
        os.rename(os.path.join(plugins_dir, ".greeter.tmp"), os.path.join(plugins_dir, "greeter-c.so"))
        if not wait_status(port, "/api/v1/c/greeter", 200):
            raise SystemExit("the added plugin never answered")
        added.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.5)
        t0 = time.perf_counter()
        os.remove(os.path.join(plugins_dir, "greeter-c.so"))
        if not wait_status(port, "/api/v1/c/greeter", 404):
            raise SystemExit("the removed plugin's route never went away")
        removed.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.5)
    stop(proc)

    # 3. reloads under load
    proc, port, _ = start(binary, os.path.join(root, "load"), fixtures, ["hello-c"], True, sup, level="notice")
    reloads = RELOADS
    seconds = max(reloads + 1, DURATION)
    load = subprocess.Popen(["taskset", "-c", CLIENT_CPU, "wrk", "-t1", "-c16", f"-d{seconds}s"] + wrk_auth(port) + [f"http://127.0.0.1:{port}/api/v1/c/hello"],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    for _ in range(reloads):
        proc.send_signal(signal.SIGHUP)
        time.sleep((seconds - 1.5) / reloads)
    out = load.communicate()[0]
    _, total, reload_errors, reload_error_text, reload_non2xx = wrk_result(out, load.returncode)
    stop(proc)
    with open(os.path.join(root, "load", "log.txt")) as f:
        completed = f.read().count("reload complete")

    # 4. cost of supervision: alternate plain and supervised runs (the machine may be shared), medians
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    results = {False: [], True: []}
    for _ in range(rounds):
        for supervise in (False, True):
            proc, port, _ = start(binary, os.path.join(root, f"rps-{supervise}"), fixtures, ["hello-c"], supervise, sup if supervise else "")
            url = f"http://127.0.0.1:{port}/api/v1/c/hello"
            subprocess.run(["taskset", "-c", CLIENT_CPU, "wrk", "-t1", "-c16", "-d1s"] + wrk_auth(port) + [url], capture_output=True)  # warm-up
            results[supervise].append(wrk(url, 64, DURATION, port))
            stop(proc)

    print(f"\nplexus serve --supervise ({binary})")
    print(f"crash to serving again (crash-segv route, {CRASH_RUNS} runs):      {ms(crash)}")
    print(f"  same, worker without the Swift crash backtracer:       {ms(crash_nobt)}   (SWIFT_BACKTRACE=enable=no)")
    print(f"plugins.d change to serving (plugin added, {CHANGE_RUNS} runs):      {ms(added)}")
    print(f"plugins.d change to serving (plugin removed, {CHANGE_RUNS} runs):    {ms(removed)}")
    print(f"reloads under load: {completed}/{reloads} reloads completed, {total} requests (wrk -c16, {seconds}s), "
          f"socket errors: {reload_error_text}, non-2xx: {reload_non2xx}")
    plain = [r[0] for r in results[False]]
    supervised = [r[0] for r in results[True]]
    errs = sum(r[2] for r in results[False] + results[True])
    print(f"requests/s, wrk -t1 -c64 {DURATION}s x {rounds} alternating rounds, /api/v1/c/hello (socket errors {errs}):")
    print(f"  serve             {' '.join(f'{v:.0f}' for v in plain)}   median {statistics.median(plain):.0f}")
    print(f"  serve --supervise {' '.join(f'{v:.0f}' for v in supervised)}   median {statistics.median(supervised):.0f}")
    print(f"  supervised/plain = {statistics.median(supervised) / statistics.median(plain):.3f} (ratio of medians)")
    shutil.rmtree(root, ignore_errors=True)
    if completed < reloads or reload_errors + reload_non2xx > 0:
        print(f"TARGET MISSED: every reload completes with no failed request under load "
              f"({completed}/{reloads} completed, {reload_errors} socket errors, {reload_non2xx} non-2xx)")
        sys.exit(3)


if __name__ == "__main__":
    main()
