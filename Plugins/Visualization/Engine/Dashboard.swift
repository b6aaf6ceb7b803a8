/// A dashboard: a titled grid of panels, each a chart (an inline spec or a saved chart's id), some of
/// them live (redrawn when events of a topic arrive).
///
/// ```json
/// {"title": "Plant", "columns": 2,
///  "panels": [{"title": "Load", "chart": "load-by-hour"},
///             {"title": "Temperature", "live": "sensor.temp", "spec": {"data": {"topic": "sensor.temp", "field": "celsius"}, ...}}]}
/// ```
public struct DashboardSpec: Sendable, Equatable {
    /// One cell of the grid.
    public struct Panel: Sendable, Equatable {
        public var title: String?
        /// The inline chart spec (compact JSON), or nil when the panel names a saved chart.
        public var spec: String?
        /// A saved chart's id.
        public var chart: String?
        /// A topic or pattern whose events redraw the panel (default: the topic of a topic-window spec).
        public var live: String?
    }

    public var title: String
    public var columns: Int
    public var panels: [Panel]
    /// The shortest time between two redraws of one live panel, in milliseconds.
    public var minRedrawMilliseconds: Int
    /// When the PDF report is made on its own (`"schedule": {"cron": "0 7 * * 1-5", "time_zone": "Europe/Berlin"}`).
    public var schedule: CronSchedule?

    public static let maxPanels = 32

    /// Parses and checks a dashboard document: every inline spec must parse as a chart.
    public static func parse(_ bytes: [UInt8]) throws(ChartError) -> DashboardSpec {
        let top = try members(try JSONParser.parse(bytes), "$", allowed: ["title", "columns", "panels", "min_redraw_ms", "schedule"])
        let title = try top["title"].map { value throws(ChartError) in try string(value, "$.title") } ?? "Dashboard"
        guard title.utf8.count <= 200 else { throw ChartError(.invalid, path: "$.title", "longer than 200 bytes") }
        let columns = try top["columns"].map { value throws(ChartError) in Int(try bounded(value, "$.columns", 1...6)) } ?? 2
        let redraw = try top["min_redraw_ms"].map { value throws(ChartError) in Int(try bounded(value, "$.min_redraw_ms", 100...60_000)) } ?? 250
        guard case .array(let items)? = top["panels"] else { throw ChartError(.invalid, path: "$.panels", "missing (an array of panels)") }
        guard !items.isEmpty else { throw ChartError(.invalid, path: "$.panels", "no panels; 1 to \(maxPanels) are allowed") }
        guard items.count <= maxPanels else { throw ChartError(.tooLarge, path: "$.panels", "\(items.count) panels; 1 to \(maxPanels) are allowed") }
        var panels: [Panel] = []
        for (index, item) in items.enumerated() {
            let path = "$.panels[\(index)]"
            let object = try members(item, path, allowed: ["title", "spec", "chart", "live"])
            var panel = Panel()
            if let title = object["title"] { panel.title = try string(title, path + ".title") }
            switch (object["spec"], object["chart"]) {
            case (let spec?, nil):
                var parser = SpecParser()
                do {
                    let parsed = try parser.parse(spec)
                    if case .external(.topic(let window), _)? = parsed.root.data { panel.live = window.topic }
                } catch { throw ChartError(error.kind, path: path + ".spec" + error.path.dropFirst(), error.message) }
                panel.spec = spec.serialized
            case (nil, let chart?):
                let id = try string(chart, path + ".chart")
                guard (1...64).contains(id.utf8.count), id.utf8.allSatisfy({ $0.isIDByte }) else {
                    throw ChartError(.invalid, path: path + ".chart", "'\(id.prefix(80))' is not a saved chart id")
                }
                panel.chart = id
            default: throw ChartError(.invalid, path: path, "give exactly one of \"spec\" (a chart) and \"chart\" (a saved chart's id)")
            }
            if let live = object["live"] {
                let topic = try string(live, path + ".live")
                guard (1...256).contains(topic.utf8.count), !topic.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
                    throw ChartError(.invalid, path: path + ".live", "must be a topic or pattern of printable characters")
                }
                panel.live = topic
            }
            panels.append(panel)
        }
        var schedule: CronSchedule?
        if let value = top["schedule"] {
            let object = try members(value, "$.schedule", allowed: ["cron", "time_zone"])
            let zone = try object["time_zone"].map { zone throws(ChartError) in try string(zone, "$.schedule.time_zone") } ?? "UTC"
            schedule = try CronSchedule(try string(object["cron"], "$.schedule.cron"), timeZone: zone, path: "$.schedule")
        }
        return DashboardSpec(title: title, columns: columns, panels: panels, minRedrawMilliseconds: redraw, schedule: schedule)
    }

    /// The definition as JSON (what the page reads).
    public var json: String {
        let list = panels.map { panel -> String in
            var members: [String] = []
            if let title = panel.title { members.append("\"title\":" + JSONValue.quoted(title)) }
            if let spec = panel.spec { members.append("\"spec\":" + spec) }
            if let chart = panel.chart { members.append("\"chart\":" + JSONValue.quoted(chart)) }
            if let live = panel.live { members.append("\"live\":" + JSONValue.quoted(live)) }
            return "{" + members.joined(separator: ",") + "}"
        }
        let scheduled = schedule.map { ",\"schedule\":{\"cron\":\(JSONValue.quoted($0.expression)),\"time_zone\":\(JSONValue.quoted($0.timeZone.identifier))}" } ?? ""
        return "{\"title\":\(JSONValue.quoted(title)),\"columns\":\(columns),\"min_redraw_ms\":\(minRedrawMilliseconds)\(scheduled),\"panels\":[\(list.joined(separator: ","))]}"
    }
}

extension UInt8 {
    /// `[A-Za-z0-9_-]`.
    var isIDByte: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) || self == 0x5F || self == 0x2D
    }
}
