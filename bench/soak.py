#!/usr/bin/env python3
"""Soak: the runtime with every shipped plugin under a mixed load at half its measured capacity.

Run through bench/soak.sh. `plexus serve --supervise` with the shipped plugins (scripts/install-plugins.sh)
and the crash-segv fixture. First the capacity: BENCH_CLIENTS threads (default 4) send the mix below as
fast as they are answered for 10 s. Then MINUTES at half that rate (open loop, paced per thread):
  plugin routes: GET /api/v1/hello (public), GET /api/v1/whoami (JWT), POST /api/v1/echo (JWT);
  bus: POST /api/v1/events (JWT, one in four durable) with an SSE subscriber and a WebSocket
  subscriber on soak.# open all the time, and a durable consumer (SSE resumed with Last-Event-ID
  every 30 s, replaying the durable log after its last id);
  storage writes: POST /api/v1/visualizations/charts (a saved chart, SQLite);
  now and then: a timetable job (every 20 s), a document comparison (every 5 s), GET
  /api/v1/c/segv (the crashing fixture, every 60 s: its worker dies, the master answers 502),
  POST /admin/reload (every 3 minutes).
Every 10 s it samples the master's and workers' resident memory and open file descriptors, the loop
lag (/health/plugins), p99 latency of the window and errors (answers or failures other than the
fixture's own 502 and a reload's brief 503), and prints each; at the end the first and last values
and slopes (per minute, least squares over the samples after warm-up).

Targets (SOAK_CHECK=targets, the default): after warm-up (the first 20% of samples, at least one),
RSS growth under 5% and open descriptors flat (within 4), each the median of the last third of the
samples against the median of the first third, leaving out samples taken during a reload's handover
(two workers alive at once); p99 flat within 20% (median of the last third against the first
third); no error other than the fixture's.
SOAK_CHECK=leaks (the 2-minute run in scripts/test.sh): only gross leaks: RSS growth under 50% and
descriptors within 32, measured the same way; no timing is asserted.
Exit: 0 targets met; 1 the work did not happen; 3 a target was missed.
Usage: soak.py BIN_DIR FIXTURES_DIR MINUTES
"""
import os, sys
# bench/http.py would shadow the standard library's http package.
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]
import base64, hashlib, hmac, http.client, json, random, re, shutil, signal, socket, struct, subprocess, tempfile, threading, time

BIN, FIXTURES, MINUTES = sys.argv[1], sys.argv[2], float(sys.argv[3])
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "4"))
CHECK = os.environ.get("SOAK_CHECK", "targets")
SAMPLE_S = float(os.environ.get("SOAK_SAMPLE_SECONDS", "10"))
SECRET = "soak-hs256-secret-0123456789abcdef0123"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims):
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(SECRET.encode(), head.encode(), hashlib.sha256).digest())


TOKEN = jwt({"sub": "soak", "tenant": "soak", "roles": ["reader", "writer"], "exp": int(time.time()) + 86400})
AUTH = {"Authorization": "Bearer " + TOKEN}


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port


def start(work):
    plugins = os.path.join(work, "plugins.d")
    os.makedirs(plugins)
    subprocess.run([os.path.join(ROOT, "scripts/install-plugins.sh"), BIN, plugins], check=True, stderr=subprocess.DEVNULL)
    shutil.copy(os.path.join(FIXTURES, "crash-segv.so"), plugins)
    shipped = sorted(f for f in os.listdir(plugins) if f.endswith(".so"))
    port = free_port()
    with open(os.path.join(work, "plexus.toml"), "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:{port}"\n[plugins]\ndir = "plugins.d"\n[data]\ndir = "data"\n[log]\nlevel = "warning"\n'
                f'[auth]\njwt_hs256_secret = "{SECRET}"\n[supervisor]\nquarantine_after = 100000\n')
    log = open(os.path.join(work, "log.txt"), "w")
    env = dict(os.environ, SWIFT_BACKTRACE="enable=no")
    proc = subprocess.Popen([os.path.join(BIN, "plexus"), "serve", "--config", os.path.join(work, "plexus.toml"), "--no-access-log", "--supervise"],
                            cwd=work, stderr=log, env=env)
    key_file = os.path.join(work, "data", "admin.key")
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"soak: plexus exited at start ({proc.returncode}); see {work}/log.txt")
        if os.path.exists(key_file) and status(port, "GET", "/api/v1/hello") == 200:
            break
        time.sleep(0.2)
    else:
        raise SystemExit(f"soak: plexus did not answer GET /api/v1/hello within 120 s; see {work}/log.txt")
    with open(key_file) as f:
        admin = {"Authorization": "Bearer " + f.read().strip()}
    # Every plugin running before the load starts (a debug build's voice models take a while).
    states = []
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/health/plugins", headers=admin)
            states = json.loads(c.getresponse().read()).get("plugins", [])
            if len(states) == len(shipped) and all(p.get("state") == "running" for p in states):
                break
        except (OSError, ValueError, http.client.HTTPException):
            pass
        time.sleep(0.5)
    print("soak: plugins: " + ", ".join(f"{p.get('name')} {p.get('state')}" for p in states))
    if len(states) != len(shipped) or any(p.get("state") != "running" for p in states):
        raise SystemExit(f"soak: not every plugin is running; see {work}/log.txt")
    return proc, port, admin, shipped


def status(port, method, path, body=None, headers=None, timeout=30):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse(); r.read(); c.close()
        return r.status
    except OSError:
        return None


CTT = open(os.path.join(ROOT, "bench/fixtures/tiny.ctt"), "rb").read()
CHART = json.dumps({"title": "soak", "data": {"values": [{"x": "a", "y": 1}, {"x": "b", "y": 2}]}, "mark": "bar",
                    "encoding": {"x": {"field": "x", "type": "nominal"}, "y": {"field": "y", "type": "quantitative"}}}).encode()
COMPARE = json.dumps({"old": {"text": "The supplier delivers within 30 days.\nPayment is due on receipt.\n"},
                      "new": {"text": "The supplier delivers within 14 days.\nPayment is due on receipt.\nLate fees apply.\n"}}).encode()

# The steady mix: (weight, method, path, body, headers).
MIX = [
    (30, "GET", "/api/v1/hello", None, {}),
    (15, "GET", "/api/v1/whoami", None, AUTH),
    (10, "POST", "/api/v1/echo", b'{"soak":true}', dict(AUTH, **{"Content-Type": "application/json"})),
    (30, "POST", "/api/v1/events", None, dict(AUTH, **{"Content-Type": "application/json"})),
    (15, "POST", "/api/v1/visualizations/charts", CHART, dict(AUTH, **{"Content-Type": "application/json"})),
]
# Now and then: (every seconds, method, path, body, headers, expected fixture failure).
OCCASIONAL = [
    (5, "POST", "/api/v1/documents/compare", COMPARE, dict(AUTH, **{"Content-Type": "application/json"}), False),
    (20, "POST", "/api/v1/timetable/jobs?time_limit_seconds=1", CTT, dict(AUTH, **{"Content-Type": "text/plain"}), False),
    (60, "GET", "/api/v1/c/segv", None, {}, True),
    (180, "POST", "/admin/reload", b"", None, False),
]


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies, self.errors, self.fixture, self.done = [], [], 0, 0
        self.by_path = {}

    def record(self, path, seconds, code, fixture=False, reload=False):
        with self.lock:
            self.done += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1
            if fixture:
                self.fixture += 1  # the crashing route: its own failure is expected
            elif code is None or code >= 500 and not (reload and code == 503) or code >= 400 and code not in (409,):
                self.errors.append(f"{path}: {code}")
            if not fixture:
                self.latencies.append(seconds)

    def window(self):
        with self.lock:
            lat, err, fix = self.latencies, self.errors, self.fixture
            self.latencies, self.errors, self.fixture = [], [], 0
        return lat, err, fix


def client(port, stats, stop, rate, seq):
    """One keep-alive connection sending the mix at `rate` requests/s (0: as fast as answered)."""
    conn = None
    weights = [m[0] for m in MIX]
    next_at = time.time()
    while not stop.is_set():
        _, method, path, body, headers = random.choices(MIX, weights)[0]
        if path == "/api/v1/events":
            n = next(seq)
            body = json.dumps({"topic": f"soak.tick.{n % 8}", "payload": {"n": n}, "durable": n % 4 == 0}).encode()
        started = time.time()
        code = None
        for attempt in (1, 2):
            reused = conn is not None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request(method, path, body=body, headers=headers)
                r = conn.getresponse(); r.read(); code = r.status
                if r.getheader("Connection", "").lower() == "close":
                    conn.close(); conn = None
                break
            except (OSError, http.client.HTTPException):
                if conn: conn.close()
                conn = None
                if not reused:
                    break  # a fresh connection failed: an error; a reused one may just have been closed idle
        stats.record(path, time.time() - started, code)
        if rate > 0:
            next_at += 1.0 / rate
            delay = next_at - time.time()
            if delay > 0:
                stop.wait(delay)
            elif delay < -1:
                next_at = time.time()  # far behind: do not burst to catch up


def occasional(port, admin, stats, stop):
    last = {i: time.time() for i in range(len(OCCASIONAL))}
    while not stop.wait(1):
        for i, (every, method, path, body, headers, fixture) in enumerate(OCCASIONAL):
            if time.time() - last[i] < every:
                continue
            last[i] = time.time()
            started = time.time()
            code = status(port, method, path, body, headers if headers is not None else admin, timeout=60)
            stats.record(path, time.time() - started, code, fixture=fixture, reload=path == "/admin/reload")


class Subscribers:
    """An SSE stream and a WebSocket on soak.#, and a durable consumer resuming with Last-Event-ID."""
    def __init__(self, port, stop):
        self.port, self.stop = port, stop
        self.sse = self.ws = self.durable = 0
        self.reconnects = 0
        self.last_id = None

    def sse_stream(self, durable):
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                extra = f"Last-Event-ID: {self.last_id}\r\n" if durable and self.last_id else ""
                s.sendall((f"GET /api/v1/events/stream?topic=soak.%23 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                           f"Accept: text/event-stream\r\n{extra}\r\n").encode())
                until = time.time() + (30 if durable else 1e9)
                buf = b""
                while not self.stop.is_set() and time.time() < until:
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        continue
                    if not chunk:
                        break
                    buf += chunk
                    events = buf.count(b"\nid: ") + buf.count(b"\r\nid: ")
                    if durable:
                        ids = re.findall(rb"\nid: ([0-9A-Z]{26})", buf)
                        if ids: self.last_id = ids[-1].decode()
                        self.durable += events
                    else:
                        self.sse += events
                    buf = buf[buf.rfind(b"\n") + 1:] if b"\n" in buf else buf
                s.close()
            except OSError:
                self.stop.wait(1)
            self.reconnects += 1

    def websocket(self):
        while not self.stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
                s.sendall(("GET /api/v1/events/ws?topic=soak.%23 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer {TOKEN}\r\n\r\n").encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = s.recv(4096)
                    if not chunk: raise OSError("closed during the handshake")
                    head += chunk
                if not head.startswith(b"HTTP/1.1 101"):
                    raise OSError(head.split(b"\r\n")[0].decode())
                buf = head.split(b"\r\n\r\n", 1)[1]
                while not self.stop.is_set():
                    try:
                        chunk = s.recv(65536)
                    except socket.timeout:
                        continue
                    if not chunk: break
                    buf += chunk
                    while len(buf) >= 2:  # server frames are unmasked
                        n, at = buf[1] & 0x7F, 2
                        if n == 126:
                            if len(buf) < 4: break
                            n, at = struct.unpack(">H", buf[2:4])[0], 4
                        elif n == 127:
                            if len(buf) < 10: break
                            n, at = struct.unpack(">Q", buf[2:10])[0], 10
                        if len(buf) < at + n: break
                        if buf[0] & 0x0F == 1 and b'"topic"' in buf[at:at + n]: self.ws += 1
                        if buf[0] & 0x0F == 9:  # ping: answer with a masked pong
                            s.sendall(bytes([0x8A, 0x80 | n]) + b"\0\0\0\0" + buf[at:at + n])
                        buf = buf[at + n:]
                s.close()
            except OSError:
                self.stop.wait(1)
            self.reconnects += 1


def process_tree(pid):
    pids = [pid]
    try:
        for line in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split():
            pids.append(int(line))
    except OSError:
        pass
    return pids


def rss_and_fds(pid):
    """Resident memory (MB) and open descriptors of the master and its workers, and how many
    processes that was (a reload's handover briefly runs two workers)."""
    rss = fds = 0
    tree = process_tree(pid)
    for p in tree:
        try:
            with open(f"/proc/{p}/status") as f:
                rss += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
            fds += len(os.listdir(f"/proc/{p}/fd"))
        except (OSError, AttributeError):
            pass
    return rss / 1024.0, fds, len(tree)


def loop_lag(port, admin):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/health/plugins", headers=admin)
        return float(json.loads(c.getresponse().read()).get("loop_lag_ms", 0))
    except (OSError, ValueError, http.client.HTTPException):
        return float("nan")


def p99(values):
    if not values: return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))] * 1000


def slope(xs, ys):
    pairs = [(x, y) for x, y in zip(xs, ys) if y == y]
    if len(pairs) < 2: return 0.0
    mx = sum(x for x, _ in pairs) / len(pairs); my = sum(y for _, y in pairs) / len(pairs)
    den = sum((x - mx) ** 2 for x, _ in pairs)
    return sum((x - mx) * (y - my) for x, y in pairs) / den if den else 0.0


def counter():
    n = 0
    lock = threading.Lock()
    while True:
        with lock:
            n += 1
        yield n


def main():
    work = tempfile.mkdtemp(prefix="plexus-soak-")
    proc, port, admin, shipped = start(work)
    print(f"soak: plexus --supervise with {', '.join(shipped)} on port {port}; {CLIENTS} client threads; work dir {work}")
    print(f"soak: machine load before the run: {os.getloadavg()[0]:.1f} (1-minute average, {os.cpu_count()} cores)")
    seq = counter()
    lock = threading.Lock()
    def next_seq(_=None):
        with lock: return next(seq)
    class Seq:
        def __next__(self): return next_seq()
    try:
        # Capacity: the mix as fast as it is answered.
        stats, stop = Stats(), threading.Event()
        threads = [threading.Thread(target=client, args=(port, stats, stop, 0, Seq()), daemon=True) for _ in range(CLIENTS)]
        for t in threads: t.start()
        time.sleep(10)
        stop.set()
        for t in threads: t.join()
        capacity = stats.done / 10.0
        if capacity < 1:
            raise SystemExit(f"soak: the capacity run answered {stats.done} requests in 10 s: the work did not happen")
        rate = capacity / 2
        print(f"soak: capacity {capacity:.0f} requests/s with {CLIENTS} Python clients (the client bounds it on this machine); load {rate:.0f}/s")

        stats, stop = Stats(), threading.Event()
        subs = Subscribers(port, stop)
        threads = [threading.Thread(target=client, args=(port, stats, stop, rate / CLIENTS, Seq()), daemon=True) for _ in range(CLIENTS)]
        threads += [threading.Thread(target=occasional, args=(port, admin, stats, stop), daemon=True),
                    threading.Thread(target=subs.sse_stream, args=(False,), daemon=True),
                    threading.Thread(target=subs.sse_stream, args=(True,), daemon=True),
                    threading.Thread(target=subs.websocket, daemon=True)]
        for t in threads: t.start()
        samples = []
        started = time.time()
        print(f"{'t_s':>6} {'rss_mb':>8} {'fds':>5} {'procs':>5} {'lag_ms':>7} {'p99_ms':>8} {'req':>6} {'errors':>6} {'fixture':>7} {'sse':>7} {'ws':>7} {'durable':>7}")
        errors_seen = []
        while time.time() - started < MINUTES * 60:
            time.sleep(SAMPLE_S)
            if proc.poll() is not None:
                raise SystemExit(f"soak: plexus exited during the run ({proc.returncode}); see {work}/log.txt")
            lat, errs, fix = stats.window()
            rss, fds, processes = rss_and_fds(proc.pid)
            sample = dict(t=time.time() - started, rss=rss, fds=fds, procs=processes, lag=loop_lag(port, admin), p99=p99(lat), req=len(lat), errors=len(errs), fixture=fix)
            samples.append(sample)
            errors_seen += errs
            print(f"{sample['t']:6.0f} {rss:8.1f} {fds:5d} {processes:5d} {sample['lag']:7.2f} {sample['p99']:8.2f} {len(lat):6d} {len(errs):6d} {fix:7d} {subs.sse:7d} {subs.ws:7d} {subs.durable:7d}", flush=True)
        stop.set()
        for t in threads: t.join(timeout=35)
    finally:
        proc.send_signal(signal.SIGTERM)
        try: proc.wait(timeout=30)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()

    if not samples or sum(s["req"] for s in samples) == 0:
        print("soak: no request was answered during the run: the work did not happen"); return 1
    if subs.sse == 0 or subs.ws == 0:
        print(f"soak: the subscribers received nothing (SSE {subs.sse}, WebSocket {subs.ws}): the work did not happen"); return 1
    warm = max(1, len(samples) // 5)
    steady = samples[warm:] or samples[-1:]
    t = [s["t"] / 60 for s in steady]
    print(f"\nsoak: {MINUTES:g} min, {len(samples)} samples, warm-up {warm} sample(s); requests {stats.done}, by route: "
          + ", ".join(f"{p} {n}" for p, n in sorted(stats.by_path.items())))
    print(f"soak: events received: SSE {subs.sse}, WebSocket {subs.ws}, durable consumer {subs.durable}; reconnects {subs.reconnects}")
    print(f"{'measure':>8} {'first':>9} {'last':>9} {'slope/min':>10}")
    for key in ("rss", "fds", "lag", "p99", "errors"):
        print(f"{key:>8} {steady[0][key]:9.2f} {steady[-1][key]:9.2f} {slope(t, [s[key] for s in steady]):10.3f}")
    third = max(1, len(steady) // 3)
    p_first = sorted(s["p99"] for s in steady[:third])[third // 2]
    p_last = sorted(s["p99"] for s in steady[-third:])[third // 2]
    # Memory and descriptors: the median of the first third against the median of the last third,
    # leaving out samples taken during a reload's handover (more processes than usual: the old and
    # the new worker both alive), which double the worker's share for a moment and say nothing
    # about growth.
    usual = max(set(s["procs"] for s in steady), key=[s["procs"] for s in steady].count)
    settled = [s for s in steady if s["procs"] == usual] or steady
    part = max(1, len(settled) // 3)
    median = lambda values: sorted(values)[len(values) // 2]
    rss_first, rss_last = median([s["rss"] for s in settled[:part]]), median([s["rss"] for s in settled[-part:]])
    fds_first, fds_last = median([s["fds"] for s in settled[:part]]), median([s["fds"] for s in settled[-part:]])
    rss_growth = (rss_last - rss_first) / rss_first
    fd_growth = fds_last - fds_first
    print(f"soak: {len(steady) - len(settled)} sample(s) taken during a reload's handover ({usual + 1}+ processes) left out of the memory comparison; "
          f"RSS median of the first third {rss_first:.1f} MB, of the last third {rss_last:.1f} MB, highest settled sample {max(s['rss'] for s in settled):.1f} MB")
    print(f"soak: RSS growth after warm-up {rss_growth * 100:+.1f}%; descriptors {fd_growth:+d}; p99 median of the first third "
          f"{p_first:.2f} ms, of the last third {p_last:.2f} ms; errors other than the fixture's: {len(errors_seen)}")
    for e in sorted(set(errors_seen))[:10]:
        print(f"  error: {e} ({errors_seen.count(e)}x)")
    print(f"soak: machine load after the run: {os.getloadavg()[0]:.1f}")
    missed = []
    if CHECK == "leaks":
        if rss_growth >= 0.5: missed.append(f"RSS grew {rss_growth * 100:.0f}% (gross leak: 50%)")
        if abs(fd_growth) > 32: missed.append(f"descriptors moved by {fd_growth} (gross leak: 32)")
    else:
        if rss_growth >= 0.05: missed.append(f"RSS grew {rss_growth * 100:.1f}% (target under 5%)")
        if abs(fd_growth) > 4: missed.append(f"descriptors moved by {fd_growth} (target: flat, within 4)")
        if p_first == p_first and p_last > p_first * 1.2: missed.append(f"p99 rose from {p_first:.2f} to {p_last:.2f} ms (target: within 20%)")
        if errors_seen: missed.append(f"{len(errors_seen)} errors other than the fixture's")
    for m in missed:
        print(f"soak: target missed: {m}")
    if not missed:
        print("soak: targets met" if CHECK != "leaks" else "soak: no gross leak")
    if missed or errors_seen:
        print(f"soak: the server's log and data are kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 3 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
