/// The operator console at `/console`: a self-contained page (no CDN, no external script) for the admin
/// identity. It holds no data: it asks for the admin key (kept in the tab's session storage, never in a
/// URL) and reads everything through the runtime's admin endpoints:
/// - plugins with state, version, routes and the last diagnosis (`/admin/plugins`, `/health/plugins`);
/// - health and readiness (`/health`, `/ready`);
/// - quarantined plugins with a button that releases the plugin and reloads (`/admin/quarantine`,
///   `POST /admin/quarantine/:name/release`, `POST /admin/reload`), then follows `/admin/plugins` until the new
///   worker generation shows what became of the plugin; a reload button that does the same for every plugin;
/// - live events with a topic filter (the SSE stream, opened with a ticket, resumed from the last event id);
/// - the durable consumer groups with their dead-letter counts (`/api/v1/events/deadletters/groups`), the dead
///   letters of the chosen group with redrive (`/api/v1/events/deadletters`);
/// - requests/s, p99 latency, loop lag and bus queue depth as live charts drawn by this plugin's renderer
///   (`POST /api/v1/visualizations/render`), from `/metrics` scraped every two seconds;
/// - the audit log (`/admin/audit`).
public enum ConsolePage {
    /// The page with `nonce` on its inline script.
    public static func html(nonce: String) -> String { template.replacingOccurrences(of: "{{nonce}}", with: nonce) }

    /// The same policy as the dashboard page: only its own script, its own origin, no frames.
    public static func policy(nonce: String) -> String { DashboardPage.policy(nonce: nonce) }

    static let template = #"""
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>Plexus console</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>
    body{font-family:"DejaVu Sans",sans-serif;margin:0;background:#f4f5f7;color:#222;font-size:14px}
    header{display:flex;align-items:center;gap:1em;padding:.6em 1em;background:#1f2933;color:#fff}
    header h1{font-size:1.1em;margin:0;flex:1}
    header button{background:#52606d;color:#fff;border:0;border-radius:4px;padding:.3em .8em}
    #status{font-size:.85em;padding:.15em .6em;border-radius:1em;background:#52606d}
    #status.live{background:#009E73}
    main{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px;padding:12px}
    section{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:8px 12px;overflow:auto;max-height:420px}
    section.wide{grid-column:1 / -1}
    h2{font-size:1em;margin:.3em 0 .6em}
    table{border-collapse:collapse;width:100%;font-size:.9em}
    th,td{text-align:left;padding:.2em .4em;border-bottom:1px solid #e4e4e4;vertical-align:top}
    .state-running,.ok{color:#007a5a;font-weight:bold}
    .state-failed,.bad{color:#b00020;font-weight:bold}
    .charts{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:8px}
    .chart svg{width:100%;height:auto;display:block}
    .message{font-size:.85em;color:#52606d;min-height:1.2em}
    .error{color:#b00020}
    input{padding:.3em;margin-right:.4em}
    form.signin{max-width:24em;margin:4em auto;background:#fff;padding:1.5em;border-radius:6px}
    form.signin input{width:100%;box-sizing:border-box;margin:.5em 0}
    code{font-size:.85em;word-break:break-all}
    </style></head>
    <body>
    <header><h1>Plexus console</h1><span id="status">offline</span><button id="signout" type="button">Sign out</button></header>
    <form id="signin" class="signin" hidden><label>Admin key<input id="key" type="password" autocomplete="off"></label><button>Sign in</button>
    <div id="signin-message" class="message"></div></form>
    <main id="console" hidden>
    <section class="wide"><h2>Key metrics</h2><div class="charts">
    <div class="chart" id="chart-requests"></div><div class="chart" id="chart-p99"></div><div class="chart" id="chart-lag"></div><div class="chart" id="chart-bus"></div>
    </div></section>
    <section class="wide"><h2>Plugins</h2><table id="plugins"></table></section>
    <section><h2>Health</h2><div id="health"></div></section>
    <section><h2>Quarantine</h2><table id="quarantine"></table><p><button id="reload" type="button">Reload plugins</button></p>
    <div id="quarantine-message" class="message"></div></section>
    <section><h2>Live events</h2><form id="topic-form"><input id="topic" value="#" aria-label="topic filter"><button>Follow</button></form>
    <table id="events"></table></section>
    <section><h2>Dead letters</h2><table id="dead-groups"></table>
    <table id="dead"></table><div id="dead-message" class="message"></div></section>
    <section class="wide"><h2>Audit log</h2><table id="audit"></table></section>
    </main>
    <script nonce="{{nonce}}">
    "use strict";
    const keyName = "plexus.console.key";
    const key = () => sessionStorage.getItem(keyName);
    const $ = id => document.getElementById(id);
    const state = {samples: [], previous: null, source: null, lastEventId: "", topic: "#", events: [], timers: [], deadGroup: ""};
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    class Failure extends Error { constructor(status, detail) { super(status + ": " + detail); this.status = status; this.detail = detail; } }
    async function api(path, options) {
      options = options || {};
      options.headers = Object.assign({"Authorization": "Bearer " + key()}, options.headers || {});
      const response = await fetch(path, options);
      if (response.status === 401 || response.status === 403) { signOut("that key is not the admin key (" + response.status + ")"); throw new Failure(response.status, "unauthorised"); }
      if (!response.ok) {
        const text = await response.text();
        let detail = text.slice(0, 300);
        try { detail = JSON.parse(text).detail || detail; } catch (_) {}
        throw new Failure(response.status, detail);
      }
      return response;
    }
    function cell(text, className) { const td = document.createElement("td"); td.textContent = text == null ? "" : String(text); if (className) td.className = className; return td; }
    function fill(table, headers, rows) {
      table.innerHTML = "";
      const head = document.createElement("tr");
      for (const h of headers) { const th = document.createElement("th"); th.textContent = h; head.append(th); }
      table.append(head);
      for (const row of rows) { const tr = document.createElement("tr"); for (const c of row) tr.append(c instanceof Node ? wrap(c) : cell(c)); table.append(tr); }
    }
    function wrap(node) { if (node.tagName === "TD") return node; const td = document.createElement("td"); td.append(node); return td; }
    function button(label, action) { const b = document.createElement("button"); b.type = "button"; b.textContent = label; b.addEventListener("click", action); return b; }
    function signOut(message) {
      sessionStorage.removeItem(keyName);
      for (const t of state.timers) clearInterval(t);
      state.timers = [];
      if (state.source) { state.source.close(); state.source = null; }
      $("console").hidden = true; $("signin").hidden = false;
      $("signin-message").textContent = message || "";
    }
    $("signout").addEventListener("click", () => signOut("signed out"));
    $("signin").addEventListener("submit", event => {
      event.preventDefault();
      sessionStorage.setItem(keyName, $("key").value);
      $("key").value = "";
      start();
    });

    async function refreshPlugins() {
      const [plugins, health] = await Promise.all([api("/admin/plugins").then(r => r.json()), api("/health/plugins").then(r => r.json())]);
      const byName = {};
      for (const h of health.plugins) byName[h.name] = h;
      state.loopLag = health.loop_lag_ms;
      fill($("plugins"), ["plugin", "version", "state", "health", "routes", "last diagnosis"], plugins.map(p => {
        const h = byName[p.name] || {};
        const routes = document.createElement("details");
        const summary = document.createElement("summary"); summary.textContent = p.routes.length + " routes";
        const list = document.createElement("code"); list.textContent = p.routes.join("\n");
        list.style.whiteSpace = "pre"; routes.append(summary, list);
        return [p.name, p.version, cell(p.state, "state-" + p.state), h.health || "", routes, p.reason || h.detail || ""];
      }));
      document.querySelectorAll("#plugins tr").forEach((tr, i) => { if (i > 0) tr.dataset.plugin = plugins[i - 1].name; });
    }
    async function refreshHealth() {
      const live = await fetch("/health").then(r => r.status).catch(() => 0);
      const ready = await fetch("/ready").then(async r => ({status: r.status, body: await r.json()})).catch(() => ({status: 0, body: {problems: ["unreachable"]}}));
      const box = $("health"); box.innerHTML = "";
      const line = (label, ok, detail) => { const p = document.createElement("p"); const b = document.createElement("span"); b.className = ok ? "ok" : "bad";
        b.textContent = ok ? "ok" : "failing"; p.append(label + ": ", b, detail ? " " + detail : ""); box.append(p); };
      line("liveness (/health)", live === 200, "");
      line("readiness (/ready)", ready.status === 200, (ready.body.problems || []).join("; "));
      line("loop lag", (state.loopLag || 0) < 100, (state.loopLag == null ? "?" : state.loopLag) + " ms");
    }
    async function refreshQuarantine() {
      const list = (await (await api("/admin/quarantine")).json()).quarantined;
      $("quarantine").dataset.count = String(list.length);
      if (list.length === 0) { fill($("quarantine"), ["no quarantined plugins"], []); return; }
      fill($("quarantine"), ["plugin", "since", "reason", ""], list.map(q => [q.name, q.since, q.reason, button("Release", () => release(q.name))]));
    }
    async function release(name) {
      const say = text => { $("quarantine-message").textContent = text; };
      try {
        await api("/admin/quarantine/" + encodeURIComponent(name) + "/release", {method: "POST"});
        say("released " + name + "; reloading");
        refreshQuarantine();
        say(await reload(name));
      } catch (error) { say(String(error.message)); }
      refreshQuarantine();
    }
    const pause = ms => new Promise(resolve => setTimeout(resolve, ms));
    const summary = plugins => plugins.map(p => p.name + " " + p.state).sort().join(", ");
    // Asks for a new worker generation and follows /admin/plugins (every 0.5 s, at most 30 s) until it shows the
    // result: `name` running or failed for a reason other than its quarantine, or (without a name) a change in
    // the plugins' states. Answers the sentence to show.
    async function reload(name) {
      const before = summary(await api("/admin/plugins").then(r => r.json()));
      const requested = await (await api("/admin/reload", {method: "POST"})).json();
      const deadline = Date.now() + 30000;
      let plugins = null;
      while (Date.now() < deadline) {
        await pause(500);
        try { plugins = await api("/admin/plugins").then(r => r.json()); } catch (error) { continue; }
        const plugin = name ? plugins.find(p => p.name === name) : null;
        if (plugin && plugin.state === "running") { refreshPlugins(); return "released " + name + " and reloaded: " + name + " " + plugin.version + " is running"; }
        if (plugin && plugin.state === "failed" && !/quarantin/.test(plugin.reason || "")) {
          refreshPlugins(); return "released " + name + " and reloaded: " + name + " failed: " + plugin.reason;
        }
        if (!name && summary(plugins) !== before) { refreshPlugins(); return "reloaded: " + summary(plugins); }
      }
      return (name ? "released " + name + "; " : "") + requested.status + "; after 30 s: " + (plugins ? summary(plugins) : "no answer");
    }
    $("reload").addEventListener("click", async () => {
      try { $("quarantine-message").textContent = "reloading"; $("quarantine-message").textContent = await reload(null); }
      catch (error) { $("quarantine-message").textContent = "reload: " + error.message; }
    });

    // Prometheus text: the families the charts need, summed over their labels.
    function scrape(text) {
      const out = {requests: 0, buckets: {}, bus: 0};
      for (const line of text.split("\n")) {
        if (line.startsWith("#") || line === "") continue;
        const space = line.lastIndexOf(" ");
        const name = line.slice(0, space), value = Number(line.slice(space + 1));
        if (!isFinite(value)) continue;
        if (name.startsWith("plexus_http_requests_total")) out.requests += value;
        else if (name.startsWith("plexus_bus_queue_depth")) out.bus += value;
        else if (name.startsWith("plexus_http_request_duration_seconds_bucket")) {
          const le = /le="([^"]+)"/.exec(name);
          if (le) out.buckets[le[1]] = (out.buckets[le[1]] || 0) + value;
        }
      }
      return out;
    }
    // The 99th percentile of the requests between two scrapes: the first bucket bound holding 99 % of them.
    function p99(now, before) {
      const bounds = Object.keys(now.buckets).filter(b => b !== "+Inf").map(Number).sort((a, b) => a - b);
      const total = (now.buckets["+Inf"] || 0) - ((before.buckets || {})["+Inf"] || 0);
      if (total <= 0) return 0;
      for (const b of bounds) {
        const key = Object.keys(now.buckets).find(k => Number(k) === b);
        if ((now.buckets[key] || 0) - ((before.buckets || {})[key] || 0) >= 0.99 * total) return b * 1000;
      }
      return (bounds[bounds.length - 1] || 0) * 1000;
    }
    async function refreshMetrics() {
      const text = await (await api("/metrics")).text();
      const now = scrape(text), t = Date.now();
      if (state.previous) {
        const seconds = Math.max(0.001, (t - state.previous.t) / 1000);
        state.samples.push({t, requests: Math.max(0, now.requests - state.previous.scrape.requests) / seconds,
                            p99: p99(now, state.previous.scrape), lag: state.loopLag || 0, bus: now.bus});
        if (state.samples.length > 90) state.samples.shift();
      }
      state.previous = {t, scrape: now};
      if (state.samples.length < 2) return;
      await Promise.all([
        chart("chart-requests", "requests/s", "requests", "#0072B2"), chart("chart-p99", "p99 (ms)", "p99", "#D55E00"),
        chart("chart-lag", "loop lag (ms)", "lag", "#009E73"), chart("chart-bus", "bus queue depth", "bus", "#CC79A7")]);
    }
    // Drawn by this plugin's own renderer, in the browser's time zone.
    async function chart(id, title, field, color) {
      const spec = {title, width: 320, height: 180, timeZone: zone, data: {values: state.samples.map(s => ({time: s.t, value: s[field]}))},
        mark: {type: "line", color, strokeWidth: 2},
        encoding: {x: {field: "time", type: "temporal", axis: {title: "", tickCount: 3}}, y: {field: "value", type: "quantitative", axis: {title: ""}}}};
      try {
        const svg = await (await api("/api/v1/visualizations/render?format=svg", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(spec)})).text();
        $(id).innerHTML = svg;
      } catch (error) { $(id).textContent = String(error.message); }
    }

    async function follow() {
      if (state.source) { state.source.close(); state.source = null; }
      const status = $("status");
      try {
        const ticket = (await (await api("/api/v1/events/tickets", {method: "POST"})).json()).ticket;
        let url = "/api/v1/events/stream?format=message&ticket=" + encodeURIComponent(ticket) + "&topic=" + encodeURIComponent(state.topic);
        if (state.lastEventId) url += "&last_event_id=" + encodeURIComponent(state.lastEventId);
        const source = new EventSource(url);
        state.source = source;
        source.onopen = () => { status.textContent = "live"; status.className = "live"; };
        source.onmessage = event => {
          if (event.lastEventId) state.lastEventId = event.lastEventId;
          let message = {};
          try { message = JSON.parse(event.data); } catch (_) { return; }
          state.events.unshift(message);
          if (state.events.length > 100) state.events.pop();
          // {"topic": ..., "data": <the event: id, time, tenant, payload, ...>}
          fill($("events"), ["time", "topic", "tenant", "payload"], state.events.map(m => {
            const e = m.data || {};
            return [String(e.time || "").replace("T", " ").slice(0, 23), m.topic, e.tenant || "", JSON.stringify(e.payload === undefined ? e : e.payload).slice(0, 160)];
          }));
        };
        source.onerror = () => {
          // A ticket opens one connection only: reconnect with a new one, from the last event seen.
          source.close();
          if (state.source !== source) return;
          state.source = null;
          status.textContent = "reconnecting"; status.className = "";
          if (key()) setTimeout(follow, 1000);
        };
      } catch (error) { status.textContent = "offline"; if (key()) setTimeout(follow, 3000); }
    }
    $("topic-form").addEventListener("submit", event => {
      event.preventDefault();
      state.topic = $("topic").value.trim() || "#";
      state.lastEventId = ""; state.events = []; fill($("events"), ["time", "topic", "tenant", "payload"], []);
      follow();
    });

    async function refreshDeadGroups() {
      const groups = (await (await api("/api/v1/events/deadletters/groups")).json()).groups;
      $("dead-groups").dataset.count = String(groups.length);
      if (groups.length === 0) { fill($("dead-groups"), ["no durable consumer groups"], []); return; }
      fill($("dead-groups"), ["consumer group", "dead letters", ""], groups.map(g => [g.group, g.dead_letters,
        button("Show", () => { state.deadGroup = g.group; refreshDead(); })]));
      document.querySelectorAll("#dead-groups tr").forEach((tr, i) => { if (i > 0) tr.dataset.group = groups[i - 1].group; });
    }
    async function refreshDead() {
      const group = state.deadGroup;
      if (!group) return;
      try {
        const letters = await (await api("/api/v1/events/deadletters?group=" + encodeURIComponent(group))).json();
        fill($("dead"), ["event", "attempts", "reason", "time", ""], letters.map(l => [l.event_id, l.attempts, l.reason, l.time, button("Redrive", async () => {
          try {
            await api("/api/v1/events/deadletters/redrive", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({group, id: l.event_id})});
            $("dead-message").textContent = "redriven " + l.event_id;
          } catch (error) { $("dead-message").textContent = String(error.message); }
          refreshDead(); refreshDeadGroups();
        })]));
        $("dead-message").textContent = letters.length + " dead letters in " + group;
      } catch (error) { $("dead-message").textContent = String(error.message); }
    }

    async function refreshAudit() {
      const records = (await (await api("/admin/audit?limit=25")).json()).records;
      fill($("audit"), ["time", "actor", "actor kind", "tenant", "action", "outcome", "target", "detail"], records.map(r => [r.time, r.actor, r.actor_kind, r.tenant || "", r.action, r.outcome, r.target || "", r.detail]));
    }

    function every(ms, task) { const run = () => task().catch(error => { if (!(error instanceof Failure && error.status === 401)) console.warn(error); }); run(); state.timers.push(setInterval(run, ms)); }
    async function start() {
      if (!key()) { signOut(""); return; }
      try { await api("/admin/quarantine"); } catch (error) { if (!key()) return; }
      $("signin").hidden = true; $("console").hidden = false;
      every(2000, async () => { await refreshPlugins(); await refreshHealth(); await refreshMetrics(); });
      every(2000, refreshQuarantine);
      every(5000, refreshAudit);
      every(5000, refreshDeadGroups);
      follow();
    }
    start();
    </script></body></html>
    """#
}
