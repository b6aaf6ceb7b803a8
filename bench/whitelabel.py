#!/usr/bin/env python3
"""GET /api/v1/flags beside the Hello route in one plexus, over HTTP.

Starts `plexus serve --no-supervise` (server on CPU 0, wrk on CPU 1) with the white-label plugin
(granted the tenant directory) and Hello (`access = "authenticated"`), onboards tenant `acme` on
acme.test, writes a flag with a 3-condition constraint and a 40% rollout, then alternates wrk on
both routes for ROUNDS rounds with the tenant admin's key and `Host: acme.test`. Prints
requests/s and the server's CPU time per request (utime+stime from /proc over wrk's requests).
Exit 1 when the work did not happen (a non-2xx answer, a flag missing from the answer), 3 when
the flags route costs more than 1.3x the Hello route's CPU per request.
Usage: whitelabel.py BIN_DIR (plexus, libPlexusWhiteLabel.so, libPlexusHello.so).
"""
import json, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time
from urllib.parse import quote

import supervisor as sup  # this directory is on the path (its http.py shadows the standard library's http)

ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = int(os.environ.get("SECONDS", "5"))
CONNECTIONS = int(os.environ.get("CONNECTIONS", "64"))
TARGET = 1.3
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def call(port, method, path, key, body=None, host="localhost"):
    """(status, body) of one request on a fresh connection."""
    data = json.dumps(body).encode() if body is not None else b""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n"
              f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
    answer = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    s.close()
    head, _, rest = answer.partition(b"\r\n\r\n")
    match = re.match(rb"HTTP/1\.1 (\d+)", head)
    return (int(match.group(1)) if match else 0), rest


def main():
    bin_dir = os.path.abspath(sys.argv[1])
    work = tempfile.mkdtemp(prefix="plexus-whitelabel-bench-")
    plugins = os.path.join(work, "plugins.d")
    os.makedirs(plugins)
    for name in ["libPlexusWhiteLabel.so", "libPlexusHello.so"]:
        shutil.copy(os.path.join(bin_dir, name), plugins)
    with open(os.path.join(plugins, "hello.toml"), "w") as f:
        f.write('access = "authenticated"\n')
    port = sup.free_port()
    config = os.path.join(work, "plexus.toml")
    with open(config, "w") as f:
        f.write(f'[server]\nlisten = "127.0.0.1:{port}"\n[plugins]\ndir = "plugins.d"\n[data]\ndir = "data"\n[log]\nlevel = "warning"\n'
                '[tenants]\ndirectory_plugins = "whitelabel"\n')
    log = open(os.path.join(work, "log.txt"), "w")
    proc = subprocess.Popen(["taskset", "-c", sup.SERVER_CPU, os.path.join(bin_dir, "plexus"), "serve", "--config", config,
                             "--no-access-log", "--no-supervise"], stderr=log)
    try:
        key_file = os.path.join(work, "data", "admin.key")
        deadline = time.time() + 30
        while not os.path.exists(key_file) and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        admin = open(key_file).read().strip()
        sup.KEYS[port] = admin
        if not sup.wait_status(port, "/health", 200):
            raise SystemExit(f"plexus did not start; see {work}/log.txt")
        status, _ = call(port, "PUT", "/api/v1/plans/pro/defaults", admin, {"flags": []})
        status, body = call(port, "POST", "/api/v1/onboarding", admin,
                            {"tenant": {"id": "acme", "display_name": "Acme", "plan": "pro", "contact": "ops@acme.test"}, "domains": ["acme.test"]})
        if status != 201:
            raise SystemExit(f"onboarding failed: {status} {body[:300]!r}")
        key = json.loads(body)["key"]
        flag = {"enabled": True, "strategies": [{"name": "gradualRollout", "percentage": 40, "constraints": [
            {"contextName": "plan", "operator": "IN", "values": ["pro", "enterprise"]},
            {"contextName": "appVersion", "operator": "SEMVER_GT", "value": "2.0.0"},
            {"contextName": "properties.country", "operator": "IN", "values": ["NO", "SE", "DK", "FI"]}]}]}
        status, body = call(port, "PUT", "/api/v1/flags/new-checkout", key, flag, host="acme.test")
        if status != 200:
            raise SystemExit(f"writing the flag failed: {status} {body[:300]!r}")
        context = quote(json.dumps({"userId": "user-7", "appVersion": "2.3.0", "properties": {"country": "NO"}}))
        flags_path = f"/api/v1/flags?context={context}"
        status, body = call(port, "GET", flags_path, key, host="acme.test")
        if status != 200 or "new-checkout" not in json.loads(body):
            raise SystemExit(f"GET /api/v1/flags did not answer the flag: {status} {body[:300]!r}")
        routes = {"flags": flags_path, "hello": "/api/v1/hello"}
        results = {name: [] for name in routes}
        auth = ["-H", f"Authorization: Bearer {key}", "-H", "Host: acme.test"]
        for _ in range(ROUNDS):
            for name, path in routes.items():
                url = f"http://127.0.0.1:{port}{path}"
                subprocess.run(["taskset", "-c", sup.CLIENT_CPU, "wrk", "-t1", "-c16", "-d1s"] + auth + [url], capture_output=True)
                before = cpu_seconds(proc.pid)
                run = subprocess.run(["taskset", "-c", sup.CLIENT_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s"] + auth + [url],
                                     capture_output=True, text=True)
                rps, total, errors, _, non2xx = sup.wrk_result(run.stdout, run.returncode)
                if non2xx or errors:
                    raise SystemExit(f"{name}: {non2xx} non-2xx answers, {errors} socket errors")
                results[name].append((rps, (cpu_seconds(proc.pid) - before) / total * 1e6))
        for name, rows in results.items():
            print(f"{name:<6} req/s median {statistics.median(r for r, _ in rows):10.0f}   CPU us/request median "
                  f"{statistics.median(c for _, c in rows):7.2f}   rounds {[round(c, 2) for _, c in rows]}")
        ratio = statistics.median(c for _, c in results["flags"]) / statistics.median(c for _, c in results["hello"])
        print(f"flags/hello CPU per request: {ratio:.2f}x (target <= {TARGET}x)")
        if ratio > TARGET:
            print(f"TARGET MISSED: GET /api/v1/flags costs {ratio:.2f}x the Hello route's CPU per request")
            sys.exit(3)
    finally:
        sup.stop(proc)


if __name__ == "__main__":
    main()
