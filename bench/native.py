#!/usr/bin/env python3
"""Native plugins (libffi) against a hand-written Swift plugin, side by side in one run.

1. zlib's crc32 over a 64-byte raw body: POST /api/v1/zlib/crc32 (zlib.native.toml, the call off
   the loop as every native call by default), POST /api/v1/zlib-inline/crc32 (the same function
   declared `on_loop = true`), and POST /api/v1/swift-crc/crc32 (libPlexusFixtureCRC.so, the call
   inline in a Swift route), and POST /api/v1/swift-crc/crc32-offloop (the Swift route with the call
   in context.offLoop, as the native call runs by default). wrk -t1 (CLIENT_CPU) against plexus --no-supervise (SERVER_CPU),
   BENCH_ROUNDS alternating rounds of BENCH_SECONDS each; the server's CPU time per request (utime+stime from
   /proc) is the figure. Target: the native route within 1.1x the Swift route's CPU per request.
2. Bus service calls per second from another plugin: the Swift plugin calls `zlib.crc32` (native)
   and `swift-crc.crc32` (its own Swift service) BENCH_CALLS times, 16 in flight, with the 64-byte payload.

Exit 1 when the work did not happen (an answer differs from Python's zlib.crc32, a request failed),
3 when the target is missed. Usage: native.py BIN_DIR (with plexus and libPlexusFixtureCRC.so).
"""
import json, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time, zlib

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "6"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
CALLS = int(os.environ.get("BENCH_CALLS", "50000"))
SERVER_CPU, CLIENT_CPU = os.environ.get("SERVER_CPU", "0"), os.environ.get("CLIENT_CPU", "1")
TARGET = 1.1
TICK = os.sysconf("SC_CLK_TCK")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAYLOAD = bytes(range(64))


def fail(message):
    print(f"native bench: {message}", file=sys.stderr)
    sys.exit(1)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def request(port, method, path, body=b"", content_type="application/octet-stream"):
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: b\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, payload = data.partition(b"\r\n\r\n")
    status = int(re.match(rb"HTTP/1\.1 (\d+)", head).group(1)) if head.startswith(b"HTTP/1.1") else 0
    return status, payload


def start(binary, work):
    shutil.rmtree(work, ignore_errors=True)
    plugins = os.path.join(work, "plugins.d")
    os.makedirs(plugins)
    shutil.copy(os.path.join(os.path.dirname(binary), "libPlexusFixtureCRC.so"), plugins)
    manifest = open(os.path.join(ROOT, "Tests/Fixtures/Native/zlib.native.toml")).read()
    public = manifest.replace('route = "POST', 'access = "public"\nroute = "POST')
    open(os.path.join(plugins, "zlib.native.toml"), "w").write(public)
    inline = public.replace('name = "zlib"', 'name = "zlib-inline"').replace("/api/v1/zlib/", "/api/v1/zlib-inline/") \
        .replace('service = "zlib.', 'service = "zlib-inline.').replace('access = "public"', 'access = "public"\non_loop = true')
    open(os.path.join(plugins, "zlib-inline.native.toml"), "w").write(inline)
    port = socket.socket(); port.bind(("127.0.0.1", 0)); number = port.getsockname()[1]; port.close()
    config = os.path.join(work, "plexus.toml")
    open(config, "w").write(f'[server]\nlisten = "127.0.0.1:{number}"\n[plugins]\ndir = "plugins.d"\n[data]\ndir = "data"\n[log]\nlevel = "warning"\n')
    log = open(os.path.join(work, "log.txt"), "w")
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, binary, "serve", "--config", config, "--no-access-log", "--no-supervise"], stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if request(number, "POST", "/api/v1/swift-crc/crc32", PAYLOAD)[0] == 200:
                return proc, number
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    fail(f"plexus did not start; see {work}/log.txt")


def wrk(port, path, script, seconds=None):
    cmd = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds or SECONDS}s", "-s", script, f"http://127.0.0.1:{port}{path}"]
    run = subprocess.run(cmd, capture_output=True, text=True)
    done = re.search(r"(\d+) requests in", run.stdout)
    if run.returncode != 0 or not done or int(done.group(1)) == 0:
        fail(f"wrk did not load {path} (exit {run.returncode}):\n{run.stdout}{run.stderr}")
    if re.search(r"Non-2xx or 3xx responses: (\d+)", run.stdout) or re.search(r"Socket errors", run.stdout):
        fail(f"wrk saw failed requests on {path}:\n{run.stdout}")
    return int(done.group(1)), float(re.search(r"Requests/sec:\s+([\d.]+)", run.stdout).group(1))


def main():
    binary = os.path.join(sys.argv[1], "plexus")
    work = tempfile.mkdtemp(prefix="plexus-native-bench-")
    script = os.path.join(work, "post.lua")
    body = "".join(f"\\{b:03d}" for b in PAYLOAD)
    open(script, "w").write(f'wrk.method = "POST"\nwrk.body = "{body}"\nwrk.headers["Content-Type"] = "application/octet-stream"\n')
    proc, port = start(binary, os.path.join(work, "run"))
    try:
        expected = zlib.crc32(PAYLOAD)
        routes = {"native": "/api/v1/zlib/crc32", "native-on-loop": "/api/v1/zlib-inline/crc32", "swift": "/api/v1/swift-crc/crc32",
                  "swift-off-loop": "/api/v1/swift-crc/crc32-offloop"}
        for name, path in routes.items():
            status, answer = request(port, "POST", path, PAYLOAD)
            if status != 200 or json.loads(answer).get("result") != expected:
                fail(f"{name} {path} answered {status} {answer!r}, expected crc32 {expected}")
        results = {name: [] for name in routes}
        for _ in range(ROUNDS):
            for name, path in routes.items():
                wrk(port, path, script, 1)  # warm-up
                before = cpu_seconds(proc.pid)
                done, rate = wrk(port, path, script)
                results[name].append(((cpu_seconds(proc.pid) - before) / done * 1e6, rate))
        calls = {}
        for service in ["zlib.crc32", "swift-crc.crc32"]:
            status, answer = request(port, "POST", f"/api/v1/swift-crc/call-loop?service={service}&calls={CALLS}&concurrency=16", PAYLOAD)
            outcome = json.loads(answer) if status == 200 else {}
            if status != 200 or outcome.get("failed") != 0 or outcome.get("calls") != CALLS:
                fail(f"service loop on {service} answered {status} {answer!r}")
            calls[service] = CALLS / outcome["seconds"]
    finally:
        proc.terminate(); proc.wait(timeout=30)
    print(f"\ncrc32 over 64 bytes, plexus --no-supervise on CPU {SERVER_CPU}, wrk -t1 -c{CONNECTIONS} {SECONDS}s x {ROUNDS} alternating rounds")
    medians = {}
    for name, values in results.items():
        medians[name] = statistics.median(v[0] for v in values)
        print(f"  {name:15} CPU per request {' '.join(f'{v[0]:.2f}' for v in values)} us (median {medians[name]:.2f}); "
              f"req/s {' '.join(f'{v[1]:.0f}' for v in values)}")
    ratio, inline_ratio = medians["native"] / medians["swift"], medians["native-on-loop"] / medians["swift"]
    offloop_ratio = medians["native"] / medians["swift-off-loop"]
    print(f"  ratio native/swift {ratio:.3f}x (target <= {TARGET}x); native-on-loop/swift {inline_ratio:.3f}x; "
          f"native/swift-off-loop {offloop_ratio:.3f}x (both calls off the loop)")
    print(f"\nbus service calls from a Swift plugin, 16 in flight, {CALLS} calls, 64-byte payload")
    for service, rate in calls.items():
        print(f"  {service:16} {rate:9.0f} calls/s")
    if ratio > TARGET:
        print(f"TARGET MISSED: the native route costs {ratio:.2f}x the Swift route's CPU per request (target <= {TARGET}x)")
        sys.exit(3)


if __name__ == "__main__":
    main()
