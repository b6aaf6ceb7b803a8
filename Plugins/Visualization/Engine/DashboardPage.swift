/// The self-contained dashboard page (no CDN, no external script). It holds no data: it asks for an API key
/// (kept in the tab's session storage, never in a URL), reads the dashboard definition, draws every panel
/// with the server's SVG renderer, and follows the live panels' topics over the runtime's SSE stream
/// (`/api/v1/events/stream` opened with a single-use ticket from `POST /api/v1/events/tickets`). A live
/// panel is redrawn at most once per `min_redraw_ms`; after a dropped connection a new ticket reopens the
/// stream from the last event id seen (`last_event_id`), so no event goes unnoticed.
public enum DashboardPage {
    /// The page with `nonce` on its inline script; the dashboard id is read from its own path (`.../dashboards/<id>/page`).
    public static func html(nonce: String) -> String { template.replacingOccurrences(of: "{{nonce}}", with: nonce) }

    /// The page's `Content-Security-Policy`: only its own script (by nonce), its own origin for data and
    /// the event stream, no frames.
    public static func policy(nonce: String) -> String {
        "default-src 'none'; script-src 'nonce-\(nonce)'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    }

    static let template = """
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>Dashboard</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>
    body{font-family:"DejaVu Sans",sans-serif;margin:0;background:#f4f5f7;color:#222}
    header{display:flex;align-items:center;gap:1em;padding:.6em 1em;background:#1f2933;color:#fff}
    header h1{font-size:1.1em;margin:0;flex:1}
    #status{font-size:.85em;padding:.15em .6em;border-radius:1em;background:#52606d}
    #status.live{background:#009E73}
    #grid{display:grid;gap:12px;padding:12px}
    .panel{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:8px;min-height:120px}
    .panel h2{font-size:.95em;margin:.2em .3em .5em}
    .chart svg{width:100%;height:auto;display:block}
    .error{color:#b00020;font-size:.85em}
    form{max-width:24em;margin:4em auto;background:#fff;padding:1.5em;border-radius:6px}
    input{width:100%;box-sizing:border-box;padding:.5em;margin:.5em 0}
    #tooltip{position:fixed;pointer-events:none;background:#1f2933;color:#fff;padding:.3em .6em;border-radius:4px;font-size:.8em;white-space:pre;z-index:10}
    </style></head>
    <body>
    <header><h1 id="title">Dashboard</h1><span id="status">offline</span></header>
    <form id="signin" hidden><label>API key<input id="key" type="password" autocomplete="off"></label><button>Sign in</button></form>
    <main id="grid"></main>
    <div id="tooltip" hidden></div>
    <script nonce="{{nonce}}">
    "use strict";
    const base = "/api/v1/visualizations";
    const parts = location.pathname.split("/");
    const id = decodeURIComponent(parts[parts.length - 2]);
    const state = {panels: [], lastEventId: "", source: null, minRedraw: 250};
    const key = () => sessionStorage.getItem("plexus.key");
    async function api(path, options) {
      options = options || {};
      options.headers = Object.assign({"Authorization": "Bearer " + key()}, options.headers || {});
      const response = await fetch(path, options);
      if (response.status === 401) { sessionStorage.removeItem("plexus.key"); showSignIn(); throw new Error("unauthorised"); }
      if (!response.ok) throw new Error(path + ": " + response.status + " " + (await response.text()).slice(0, 300));
      return response;
    }
    // A mark's tooltip (its SVG <title>) drawn beside the pointer while it hovers the mark.
    document.addEventListener("mousemove", event => {
      const tip = document.getElementById("tooltip");
      const mark = event.target.closest ? event.target.closest(".chart svg [class^='mark-']") : null;
      const title = mark ? mark.querySelector(":scope > title") : null;
      if (!title) { tip.hidden = true; return; }
      tip.textContent = title.textContent;
      tip.style.left = (event.clientX + 14) + "px"; tip.style.top = (event.clientY + 14) + "px";
      tip.hidden = false;
    });
    function showSignIn() { document.getElementById("signin").hidden = false; }
    document.getElementById("signin").addEventListener("submit", event => {
      event.preventDefault();
      sessionStorage.setItem("plexus.key", document.getElementById("key").value);
      document.getElementById("signin").hidden = true;
      start();
    });
    function matches(pattern, topic) {
      const p = pattern.split("."), t = topic.split(".");
      for (let i = 0; i < p.length; i++) {
        if (p[i] === "#") return i === p.length - 1;
        if (i >= t.length || (p[i] !== "+" && p[i] !== t[i])) return false;
      }
      return p.length === t.length;
    }
    async function draw(panel) {
      panel.pending = null;
      panel.lastDraw = Date.now();
      try {
        const svg = await (await api(base + "/dashboards/" + encodeURIComponent(id) + "/panels/" + panel.index + ".svg")).text();
        panel.chart.innerHTML = svg;
        panel.element.dataset.draws = String(Number(panel.element.dataset.draws || "0") + 1);
        // One more draw after an event-triggered one, in case the event reached this page before the plugin's window.
        if (panel.trailing) { panel.trailing = false; schedule(panel); }
      } catch (error) { panel.chart.innerHTML = ""; panel.chart.textContent = String(error.message); panel.chart.className = "chart error"; }
    }
    function schedule(panel) {
      if (panel.pending) return;
      const wait = Math.max(0, state.minRedraw - (Date.now() - (panel.lastDraw || 0)));
      panel.pending = setTimeout(() => draw(panel), wait);
    }
    async function follow() {
      const topics = [...new Set(state.panels.filter(p => p.live).map(p => p.live))];
      if (topics.length === 0) return;
      const status = document.getElementById("status");
      try {
        const ticket = (await (await api("/api/v1/events/tickets", {method: "POST"})).json()).ticket;
        let url = "/api/v1/events/stream?format=message&ticket=" + encodeURIComponent(ticket);
        for (const topic of topics) url += "&topic=" + encodeURIComponent(topic);
        if (state.lastEventId) url += "&last_event_id=" + encodeURIComponent(state.lastEventId);
        const source = new EventSource(url);
        state.source = source;
        source.onopen = () => { status.textContent = "live"; status.className = "live"; };
        source.onmessage = event => {
          if (event.lastEventId) state.lastEventId = event.lastEventId;
          let topic = "";
          try { topic = JSON.parse(event.data).topic; } catch (_) { return; }
          for (const panel of state.panels) if (panel.live && matches(panel.live, topic)) { panel.trailing = true; schedule(panel); }
        };
        source.onerror = () => {
          // A ticket opens one connection only: reconnect with a new one, from the last event seen.
          source.close();
          status.textContent = "reconnecting"; status.className = "";
          setTimeout(follow, 1000);
        };
      } catch (error) { status.textContent = "offline"; setTimeout(follow, 3000); }
    }
    async function start() {
      if (!key()) { showSignIn(); return; }
      const definition = await (await api(base + "/dashboards/" + encodeURIComponent(id))).json();
      document.getElementById("title").textContent = definition.title;
      document.title = definition.title;
      state.minRedraw = definition.min_redraw_ms || 250;
      const grid = document.getElementById("grid");
      grid.style.gridTemplateColumns = "repeat(" + definition.columns + ", minmax(0, 1fr))";
      grid.innerHTML = "";
      state.panels = definition.panels.map((spec, index) => {
        const element = document.createElement("section");
        element.className = "panel"; element.dataset.panel = String(index); element.dataset.draws = "0";
        const heading = document.createElement("h2"); heading.textContent = spec.title || "";
        const chart = document.createElement("div"); chart.className = "chart";
        element.append(heading, chart); grid.append(element);
        return {index, element, chart, live: spec.live || null, pending: null, lastDraw: 0};
      });
      await Promise.all(state.panels.map(draw));
      follow();
    }
    start();
    </script></body></html>
    """
}
