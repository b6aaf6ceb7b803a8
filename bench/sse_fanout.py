#!/usr/bin/env python3
"""SSE fan-out: N clients subscribed to one topic, events published at a fixed rate over HTTP;
reports publish-to-receive latency percentiles over all deliveries.
Usage: sse_fanout.py BIN_DIR [clients=200] [rate=1000] [seconds=5]"""
import json, os, selectors, signal, socket, subprocess, sys, tempfile, time

bin_dir = sys.argv[1]
clients = int(sys.argv[2]) if len(sys.argv) > 2 else 200
rate = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 5

work = tempfile.mkdtemp(prefix="plexus-sse-")
os.makedirs(f"{work}/plugins.d")
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
server = subprocess.Popen(["taskset", "-c", "0", f"{bin_dir}/plexus", "serve", "--plugins", f"{work}/plugins.d", "--data", f"{work}/data",
                           "--listen", f"127.0.0.1:{port}", "--no-access-log", "--log-level", "warning"], stderr=subprocess.DEVNULL)
for _ in range(500):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.1).close(); break
    except OSError:
        time.sleep(0.01)

os.sched_setaffinity(0, {1})
sel = selectors.DefaultSelector()
streams = []
for _ in range(clients):
    c = socket.create_connection(("127.0.0.1", port))
    c.sendall(b"GET /api/v1/events/stream?topic=fanout.tick HTTP/1.1\r\nHost: b\r\n\r\n")
    c.setblocking(False)
    sel.register(c, selectors.EVENT_READ, bytearray())
    streams.append(c)
time.sleep(0.5)

publisher = socket.create_connection(("127.0.0.1", port))
latencies, sent = [], 0
start = time.monotonic()
next_send = start
marker = b'"t":'
while time.monotonic() - start < seconds + 1.0:
    now = time.monotonic()
    if now - start < seconds and now >= next_send:
        body = json.dumps({"topic": "fanout.tick", "payload": {"t": time.monotonic_ns()}}).encode()
        publisher.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: b\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        sent += 1
        next_send += 1.0 / rate
    for key, _ in sel.select(timeout=0.0005):
        data = key.fileobj.recv(65536)
        buf = key.data
        buf.extend(data)
        received = time.monotonic_ns()
        while True:
            i = buf.find(marker)
            if i < 0: break
            j = i + 4
            k = j
            while k < len(buf) and 48 <= buf[k] <= 57: k += 1
            if k == len(buf): break
            latencies.append((received - int(buf[j:k])) / 1e6)
            del buf[:k]
    try:
        publisher.setblocking(False); publisher.recv(1 << 20)
    except BlockingIOError:
        pass
    finally:
        publisher.setblocking(True)

server.send_signal(signal.SIGTERM); server.wait()
latencies.sort()
expected = sent * clients
def pct(p): return latencies[min(len(latencies) - 1, int(len(latencies) * p))] if latencies else float("nan")
print(f"SSE fan-out: {clients} clients, {sent} events at {rate}/s over {seconds:.0f}s: {len(latencies)}/{expected} deliveries")
print(f"publish-to-receive latency ms: p50 {pct(0.5):.2f}  p90 {pct(0.9):.2f}  p99 {pct(0.99):.2f}  max {latencies[-1] if latencies else float('nan'):.2f}  (target p99 < 10 ms)")
