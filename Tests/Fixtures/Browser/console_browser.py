"""Drives headless Chromium over the DevTools protocol against a running plexus: loads the operator console
at /console, signs in with the admin key (put into the tab's sessionStorage by script, never into a URL),
checks the plugins table lists the plugins, the quarantined plugin shows with a release button, pressing it
lifts the quarantine (the page and GET /admin/quarantine both say so) and reloads, after which the page says the
plugin is running and its row shows it; the dead-letter groups table matches the runtime's list; a published event appears in the
live events within a second, and the key-metric charts are drawn by the plugin's renderer; saves a
screenshot and checks its header pixel.

Usage: Tests/Fixtures/Browser/console_browser.py BASE_URL ADMIN_KEY QUARANTINED_PLUGIN SCREENSHOT
Exit 0 when it all happened, 1 on a failure (the reason on stderr), 77 when chromium is not installed.
"""
import base64, json, os, sys, time, urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import chromium_page, close, fail, png_pixels, wait_for  # noqa: E402

base, key, quarantined, screenshot = sys.argv[1:5]


def admin(method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


browser, page, profile = chromium_page(1200, 1400)
try:
    page.call("Page.navigate", url=f"{base}/console")
    wait_for(page, "the sign-in form", lambda: page.evaluate("!document.getElementById('signin').hidden"), 10)
    if page.evaluate("location.href").find(key) >= 0:
        fail("the key is in the URL")
    # A wrong key is refused and the form comes back.
    page.evaluate("sessionStorage.setItem('plexus.console.key', 'not-a-key'); location.reload(); true")
    wait_for(page, "the refusal of a wrong key", lambda: page.evaluate("document.getElementById('signin-message').textContent.includes('not the admin key')"), 10)
    page.evaluate(f"sessionStorage.setItem('plexus.console.key', {json.dumps(key)}); location.reload(); true")
    plugins = wait_for(page, "the plugins table", lambda: page.evaluate(
        "[...document.querySelectorAll('#plugins tr[data-plugin]')].map(r => r.dataset.plugin + ' ' + r.children[2].textContent)"), 15)
    if not any(p.startswith("visualization running") for p in plugins):
        fail(f"the plugins table does not show visualization running: {plugins}")
    if not any(p.startswith(quarantined + " failed") for p in plugins):
        fail(f"the plugins table does not show {quarantined} failed (quarantined): {plugins}")
    diagnosis = page.evaluate(f"[...document.querySelectorAll('#plugins tr[data-plugin=\"{quarantined}\"] td')].pop().textContent")
    if "quarantined" not in diagnosis:
        fail(f"the last diagnosis of {quarantined} does not say quarantined: {diagnosis!r}")
    wait_for(page, "the quarantine list", lambda: page.evaluate(
        f"[...document.querySelectorAll('#quarantine td')].some(td => td.textContent === {json.dumps(quarantined)})"), 10)
    wait_for(page, "health and readiness", lambda: page.evaluate("document.getElementById('health').textContent.includes('readiness')"), 10)
    # Release: the button lifts the quarantine on the server, and the page shows it.
    page.evaluate("[...document.querySelectorAll('#quarantine button')].find(b => b.textContent === 'Release').click(); true")
    wait_for(page, "the released quarantine on the page", lambda: page.evaluate("document.getElementById('quarantine').dataset.count === '0'"), 10)
    status, listed = admin("GET", "/admin/quarantine")
    if listed["quarantined"]:
        fail(f"GET /admin/quarantine still lists {listed}")
    # The same action reloads: the new worker generation runs the plugin, and the page says so.
    message = wait_for(page, "the reload's result on the page", lambda: (lambda m: m if "is running" in m or "failed:" in m else None)(
        page.evaluate("document.getElementById('quarantine-message').textContent")), 40)
    if f"released {quarantined} and reloaded: {quarantined}" not in message or "is running" not in message:
        fail(f"the release did not end with {quarantined} running: {message!r}")
    wait_for(page, f"{quarantined} running in the plugins table", lambda: page.evaluate(
        f"[...document.querySelectorAll('#plugins tr[data-plugin=\"{quarantined}\"] td')].some(td => td.textContent === 'running')"), 10)
    # Dead letters: the groups the runtime lists, without typing a name.
    status, groups = admin("GET", "/api/v1/events/deadletters/groups")
    shown = wait_for(page, "the dead-letter groups", lambda: page.evaluate("document.getElementById('dead-groups').dataset.count"), 10)
    if int(shown) != len(groups["groups"]):
        fail(f"the page shows {shown} dead-letter groups, the runtime lists {groups}")
    # Live events: a published event shows within a second.
    wait_for(page, "the live event stream", lambda: page.evaluate("document.getElementById('status').textContent === 'live'"), 10)
    # The reload replaced the worker the stream was open on: wait until the page follows the new one (a warm-up
    # event shows), then time a fresh event.
    def warmed():
        admin("POST", "/api/v1/events", {"topic": "console.warmup", "payload": {}})
        time.sleep(0.3)
        return page.evaluate("[...document.querySelectorAll('#events td')].some(td => td.textContent === 'console.warmup')")
    wait_for(page, "the live events after the reload", warmed, 20)
    published = time.time()
    admin("POST", "/api/v1/events", {"topic": "console.check", "payload": {"n": 42}})
    wait_for(page, "the published event in the live events", lambda: page.evaluate(
        "[...document.querySelectorAll('#events td')].some(td => td.textContent === 'console.check')"), 1.0)
    event_seconds = time.time() - published
    # The key metrics, drawn by the plugin's renderer (the page scrapes /metrics every 2 s; two scrapes make a line).
    wait_for(page, "the metric charts", lambda: page.evaluate(
        "['requests', 'p99', 'lag', 'bus'].every(n => document.querySelector('#chart-' + n + ' svg .mark-line'))"), 15)
    audit = wait_for(page, "the release in the audit log", lambda: page.evaluate(
        "[...document.querySelectorAll('#audit td')].some(td => td.textContent === 'admin.quarantine_release')"), 10)
    shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
    with open(screenshot, "wb") as f:
        f.write(shot)
    width, height, rows = png_pixels(shot)
    header = rows[5][5]
    if max(abs(a - b) for a, b in zip(header, (0x1F, 0x29, 0x33))) > 6:
        fail(f"the header pixel is {header}, not the console's dark header")
    print(json.dumps({"plugins": plugins, "released": message, "dead_letter_groups": groups["groups"], "event_seconds": round(event_seconds, 3), "screenshot": screenshot, "size": [width, height]}))
finally:
    close(browser, profile)
