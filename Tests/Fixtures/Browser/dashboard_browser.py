"""Drives headless Chromium over the DevTools protocol against a running plexus: loads a dashboard page,
signs in (the key goes into the tab's sessionStorage by script, never into a URL), waits for every panel,
publishes an event, and checks the live panel redraws with it within a second; saves a screenshot and
checks some of its pixels; hovers a point and checks its tooltip shows. Standard library only (a minimal WebSocket client).

Usage: Tests/Fixtures/Browser/dashboard_browser.py BASE_URL KEY DASHBOARD_ID TOPIC SCREENSHOT
Exit 0 when it all happened, 1 on a failure (the reason on stderr), 77 when chromium is not installed.
"""
import base64, json, os, sys, time, urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import chromium_page, close, fail, png_pixels, wait_for  # noqa: E402

base, key, dashboard, topic, screenshot = sys.argv[1:6]
browser, page, profile = chromium_page()
try:
    page_url = f"{base}/api/v1/visualizations/dashboards/{dashboard}/page"
    page.call("Page.navigate", url=page_url)
    wait_for(page, "the sign-in form", lambda: page.evaluate("!document.getElementById('signin').hidden"), 10)
    page.evaluate(f"sessionStorage.setItem('plexus.key', {json.dumps(key)}); location.reload(); true")
    panels = wait_for(page, "every panel drawn", lambda: page.evaluate(
        "(() => { const p = document.querySelectorAll('.panel'); return p.length > 0 && [...p].every(e => e.querySelector('svg')) ? p.length : 0 })()"), 15)
    wait_for(page, "the live stream", lambda: page.evaluate("document.getElementById('status').textContent === 'live'"), 10)
    count = "document.querySelector('[data-panel=\"0\"]').querySelectorAll('.mark-point').length"
    before = page.evaluate(count)
    request = urllib.request.Request(f"{base}/api/v1/events", method="POST", data=json.dumps({"topic": topic, "payload": {"celsius": 31.5}}).encode(),
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    published = time.time()
    if urllib.request.urlopen(request, timeout=10).status != 202:
        fail("the publish was not accepted")
    wait_for(page, "the published event in the live panel", lambda: page.evaluate(count) == before + 1, 1.0)
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
    # Hovering a live point shows its tooltip (the mark's SVG <title>) beside the pointer.
    at = page.evaluate("(() => { const r = document.querySelector('[data-panel=\"0\"] .mark-point').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2] })()")
    page.call("Input.dispatchMouseEvent", type="mouseMoved", x=at[0], y=at[1])
    tip = wait_for(page, "the hover tooltip", lambda: page.evaluate("(() => { const t = document.getElementById('tooltip'); return t.hidden ? '' : t.textContent })()"), 2)
    if "celsius" not in tip:
        fail(f"the hover tooltip says {tip!r}, not the point's celsius")
    print(json.dumps({"tooltip": tip, "panels": panels, "points_before": before, "points_after": before + 1, "update_seconds": round(elapsed, 3),
                      "screenshot": screenshot, "size": [width, height], "mark_pixels": marks}))
finally:
    close(browser, profile)
