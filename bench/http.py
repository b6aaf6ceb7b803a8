#!/usr/bin/env python3
"""HTTP benchmark: plexus (a plugin route) against Node's http.createServer and nginx `return 200`.

In one run, for each server and each connection count: wrk (pinned to one core, the server
pinned to the other) measures requests/s and p99 latency, and /proc/PID/stat gives the
server's CPU time per request. Also: plexus's idle RSS with the example plugins and its
start-to-ready time. Prints a table and the ratios against nginx and Node.
"""
import json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "64,256").split(",")]
TICKS = os.sysconf("SC_CLK_TCK")
SERVER_CPU, CLIENT_CPU = "0", "1"


def wait_port(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.005)
    return False


def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def wrk(url, connections):
    cmd = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", f"-c{connections}", f"-d{DURATION}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Socket errors: (.*)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, total, p99_ms, (errors.group(1) if errors else ""), int(non2xx.group(1)) if non2xx else 0


def measure(name, url, cpu_pids, connections):
    subprocess.run(["taskset", "-c", CLIENT_CPU, "wrk", "-t1", "-c16", "-d1s", url], capture_output=True)  # warm-up
    before = cpu_seconds(cpu_pids)
    rps, total, p99, errors, non2xx = wrk(url, connections)
    used = cpu_seconds(cpu_pids) - before
    return {"server": name, "connections": connections, "rps": rps, "p99_ms": p99,
            "cpu_us_per_req": used / total * 1e6, "errors": errors, "non2xx": non2xx}


def start_plexus(binary, plugins_dir, data_dir):
    port = free_port()
    started = time.time()
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, binary, "serve", "--plugins", plugins_dir, "--data", data_dir,
                             "--listen", f"127.0.0.1:{port}", "--no-access-log", "--log-level", "warning"],
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=0.2)
            s.sendall(b"GET /api/v1/hello HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
            if s.recv(64).startswith(b"HTTP/1.1 200"):
                s.close()
                break
            s.close()
        except OSError:
            time.sleep(0.002)
    ready_ms = (time.time() - started) * 1000
    return proc, port, ready_ms


def main():
    binary = os.path.join(sys.argv[1], "plexus")
    work = tempfile.mkdtemp(prefix="plexus-bench-")
    plugins = os.path.join(work, "plugins.d"); os.makedirs(plugins)
    subprocess.run([os.path.join(ROOT, "scripts/install-plugins.sh"), sys.argv[1], plugins], check=True, capture_output=True)
    results, procs = [], []
    try:
        # Start-to-ready, best and median of 5.
        readies = []
        for _ in range(5):
            proc, port, ready = start_plexus(binary, plugins, os.path.join(work, "data"))
            readies.append(ready)
            proc.send_signal(signal.SIGTERM); proc.wait()
        readies.sort()
        proc, port, _ = start_plexus(binary, plugins, os.path.join(work, "data"))
        procs.append(proc)
        time.sleep(1.0)
        # Supervised by default: the master plus its worker (the worker does the serving).
        plexus_pids = [proc.pid] + children(proc.pid)
        idle_rss = sum(rss_kb(pid) for pid in plexus_pids)
        for c in CONNECTIONS:
            results.append(measure("plexus", f"http://127.0.0.1:{port}/api/v1/hello", plexus_pids, c))

        node_port = free_port()
        node = subprocess.Popen(["taskset", "-c", SERVER_CPU, "node", "-e",
            "require('http').createServer((q,r)=>{r.writeHead(200,{'Content-Type':'text/plain'});r.end('hello\\n')})"
            f".listen({node_port},'127.0.0.1')"])
        procs.append(node)
        wait_port(node_port)
        for c in CONNECTIONS:
            results.append(measure("node", f"http://127.0.0.1:{node_port}/", [node.pid], c))

        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if os.path.exists(nginx):
            nginx_port = free_port()
            conf = os.path.join(work, "nginx.conf")
            with open(conf, "w") as f:
                f.write(f"""daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx.err;
events {{ worker_connections 4096; }}
http {{ access_log off; server {{ listen 127.0.0.1:{nginx_port}; location / {{ default_type text/plain; return 200 "hello\\n"; }} }} }}""")
            master = subprocess.Popen(["taskset", "-c", SERVER_CPU, nginx, "-c", conf, "-p", work])
            procs.append(master)
            wait_port(nginx_port)
            time.sleep(0.3)
            workers = children(master.pid) or [master.pid]
            for c in CONNECTIONS:
                results.append(measure("nginx", f"http://127.0.0.1:{nginx_port}/", workers, c))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nwrk -t1, {DURATION}s per run, server pinned to CPU {SERVER_CPU}, wrk to CPU {CLIENT_CPU}")
    print(f"{'server':8} {'conns':>5} {'req/s':>10} {'p99 ms':>8} {'CPU us/req':>11}  errors")
    for r in results:
        print(f"{r['server']:8} {r['connections']:>5} {r['rps']:>10.0f} {r['p99_ms']:>8.2f} {r['cpu_us_per_req']:>11.2f}  {r['errors'] or '-'}{' non2xx=' + str(r['non2xx']) if r['non2xx'] else ''}")
    print()
    by = {(r["server"], r["connections"]): r for r in results}
    for c in CONNECTIONS:
        p = by.get(("plexus", c))
        for peer in ("nginx", "node"):
            q = by.get((peer, c))
            if p and q:
                print(f"c={c}: plexus/{peer} CPU per request = {p['cpu_us_per_req'] / q['cpu_us_per_req']:.2f}x, "
                      f"requests/s = {p['rps'] / q['rps']:.2f}x")
    print(f"\nplexus idle RSS with the example plugins (master + worker): {idle_rss / 1024:.1f} MB")
    print(f"plexus start to first 200: best {readies[0]:.1f} ms, median {readies[2]:.1f} ms (5 starts)")
    print(json.dumps(results), file=open(os.path.join(ROOT, "bench", ".last-http.json"), "w"))


if __name__ == "__main__":
    main()
