"""Drives headless Chromium over the DevTools protocol against a running plexus: loads a dashboard page,
signs in (the key goes into the tab's sessionStorage by script, never into a URL), waits for every panel,
publishes an event, and checks the live panel redraws with it within a second; saves a screenshot and
checks some of its pixels. Standard library only (a minimal WebSocket client).

Usage: Tests/Fixtures/Browser/dashboard_browser.py BASE_URL KEY DASHBOARD_ID TOPIC SCREENSHOT
Exit 0 when it all happened, 1 on a failure (the reason on stderr), 77 when chromium is not installed.
"""
import base64, json, os, re, shutil, socket, struct, subprocess, sys, tempfile, time, urllib.request, zlib

base, key, dashboard, topic, screenshot = sys.argv[1:6]
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
if not chromium:
    print("SKIP: chromium is not installed (scripts/install-deps.sh installs it)", file=sys.stderr)
    sys.exit(77)


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


class WebSocket:
    """A client for one ws:// URL: text frames out (masked), text frames in."""

    def __init__(self, url):
        host, port, path = re.match(r"ws://([^:/]+):(\d+)(/.*)", url).groups()
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        nonce = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {nonce}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            fail("DevTools WebSocket handshake: " + head.decode(errors="replace"))

    def send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        header = bytes([0x81])
        if len(data) < 126:
            header += bytes([0x80 | len(data)])
        elif len(data) < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(data))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(data))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def exact(self, count):
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                fail("DevTools closed the connection")
            data += chunk
        return data

    def receive(self):
        message = b""
        while True:
            first, second = self.exact(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self.exact(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self.exact(8))[0]
            message += self.exact(length)
            if first & 0x80:
                return message.decode()


class DevTools:
    def __init__(self, url):
        self.ws = WebSocket(url)
        self.next = 0

    def call(self, method, **params):
        self.next += 1
        self.ws.send(json.dumps({"id": self.next, "method": method, "params": params}))
        while True:
            reply = json.loads(self.ws.receive())
            if reply.get("id") == self.next:
                if "error" in reply:
                    fail(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")


page = None


def wait_for(what, check, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    seen = page.evaluate("location.href + ' ' + document.documentElement.outerHTML.slice(0, 600)") if page else ""
    fail(f"{what} did not happen within {seconds} s; the page: {seen}")


def png_pixels(data):
    """(width, height, rows of RGB tuples) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat, width = 8, b"", 0
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), f"PNG depth {depth} colour type {colour}"
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1: line[i] = (line[i] + left) & 255
            elif kind == 2: line[i] = (line[i] + up) & 255
            elif kind == 3: line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


profile = tempfile.mkdtemp(prefix="plexus-chromium-")
browser = subprocess.Popen([chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                            "--remote-debugging-port=0", f"--user-data-dir={profile}", "--window-size=1000,800", "about:blank"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
try:
    endpoint = None
    deadline = time.time() + 30
    while time.time() < deadline and endpoint is None:
        line = browser.stderr.readline()
        if not line and browser.poll() is not None:
            fail(f"chromium exited with {browser.returncode}")
        match = re.search(r"DevTools listening on (ws://\S+)", line)
        if match:
            endpoint = match.group(1)
    if endpoint is None:
        fail("chromium did not open its DevTools port within 30 s")
    port = re.match(r"ws://[^:]+:(\d+)/", endpoint).group(1)
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
    page = DevTools(next(t for t in targets if t["type"] == "page")["webSocketDebuggerUrl"])
    page.call("Page.enable")
    page_url = f"{base}/api/v1/visualizations/dashboards/{dashboard}/page"
    page.call("Page.navigate", url=page_url)
    wait_for("the sign-in form", lambda: page.evaluate("!document.getElementById('signin').hidden"), 10)
    page.evaluate(f"sessionStorage.setItem('plexus.key', {json.dumps(key)}); location.reload(); true")
    panels = wait_for("every panel drawn", lambda: page.evaluate(
        "(() => { const p = document.querySelectorAll('.panel'); return p.length > 0 && [...p].every(e => e.querySelector('svg')) ? p.length : 0 })()"), 15)
    wait_for("the live stream", lambda: page.evaluate("document.getElementById('status').textContent === 'live'"), 10)
    count = "document.querySelector('[data-panel=\"0\"]').querySelectorAll('.mark-point').length"
    before = page.evaluate(count)
    request = urllib.request.Request(f"{base}/api/v1/events", method="POST", data=json.dumps({"topic": topic, "payload": {"celsius": 31.5}}).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    published = time.time()
    if urllib.request.urlopen(request, timeout=10).status != 202:
        fail("the publish was not accepted")
    wait_for("the published event in the live panel", lambda: page.evaluate(count) == before + 1, 1.0)
    elapsed = time.time() - published
    time.sleep(0.3)
    shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    with open(screenshot, "wb") as f:
        f.write(shot)
    width, height, rows = png_pixels(shot)
    header = rows[5][5]
    if max(abs(a - b) for a, b in zip(header, (0x1F, 0x29, 0x33))) > 6:
        fail(f"the header pixel is {header}, not the page's dark header")
    marks = sum(1 for row in rows for pixel in row if max(abs(a - b) for a, b in zip(pixel, (0xD5, 0x5E, 0x00))) <= 8)
    if marks < 3 * 40:
        fail(f"only {marks} pixels of the live panel's point colour in the screenshot")
    print(json.dumps({"panels": panels, "points_before": before, "points_after": before + 1, "update_seconds": round(elapsed, 3),
                      "screenshot": screenshot, "size": [width, height], "mark_pixels": marks}))
finally:
    browser.kill()
    browser.wait()
    shutil.rmtree(profile, ignore_errors=True)
