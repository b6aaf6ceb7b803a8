import Foundation
import PlexusTesting
import XCTest

/// Dashboards, topic windows and the live page over the real `plexus` binary; the page in headless Chromium.
final class DashboardTests: XCTestCase {
    let routes = Helpers()

    /// The route tests' helpers (an XCTestCase cannot be made by hand on Linux).
    struct Helpers {
        /// A plexus with only the visualization plugin; `extra` is appended to its config (e.g. `[cluster] postgres`).
        func start(config: String = "max_points = 5000\n", extra: String = "") throws -> TestRuntime {
            let bin = VisualizationRouteTests.binDirectory
            let binary = bin.appendingPathComponent("plexus"), plugin = bin.appendingPathComponent("libPlexusVisualization.so")
            for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
                throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
            }
            return try TestRuntime(binary: binary, plugins: [plugin], pluginConfigs: ["visualization": config], extra: extra)
        }

        func post(_ plexus: TestRuntime, _ path: String, _ body: String) throws -> TestResponse {
            try plexus.request("POST", path, headers: "Content-Type: application/json\r\n", body: Array(body.utf8))
        }

        func problem(_ response: TestResponse, status: Int, path: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) throws {
            XCTAssertEqual(response.status, status, response.text, file: file, line: line)
            XCTAssertEqual(response.header("Content-Type"), "application/problem+json", file: file, line: line)
            let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
            XCTAssertEqual(body["path"] as? String, path, response.text, file: file, line: line)
            XCTAssertTrue((body["detail"] as? String ?? "").contains(fragment), response.text, file: file, line: line)
        }
    }

    func publish(_ plexus: TestRuntime, _ topic: String, _ payload: [String: Any]) throws {
        let response = try plexus.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n",
                                          body: Array(try JSONSerialization.data(withJSONObject: ["topic": topic, "payload": payload])))
        XCTAssertEqual(response.status, 202, response.text)
    }

    /// Waits (bounded) until the plugin's window holds `count` events of the topic: the render route answers with that many points.
    func points(_ plexus: TestRuntime, _ spec: String, count: Int) throws -> String {
        var svg = ""
        for _ in 0..<100 {
            svg = try routes.post(plexus, "/api/v1/visualizations/render?format=svg", spec).text
            if svg.components(separatedBy: "class=\"mark-point\"").count - 1 == count { return svg }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("the window never held \(count) events: \(svg.prefix(300))")
        return svg
    }

    static let live = ##"{"width": 420, "height": 260, "data": {"topic": "sensor.temp", "field": "celsius", "last": 50}, "mark": {"type": "point", "color": "#D55E00", "opacity": 1, "size": 400}, "encoding": {"x": {"field": "time", "type": "temporal"}, "y": {"field": "celsius", "type": "quantitative"}, "tooltip": {"field": "celsius", "type": "quantitative"}}}"##

    func testTopicWindowsAreTheTenantsRecentEvents() throws {
        let plexus = try routes.start()
        try publish(plexus, "sensor.temp", ["celsius": 20.5])
        try publish(plexus, "sensor.temp", ["celsius": 22])
        try publish(plexus, "sensor.humidity", ["celsius": 99])
        let svg = try points(plexus, Self.live, count: 2)
        XCTAssertTrue(svg.contains("class=\"mark-point\""))
        // A pattern reads both topics; `last` keeps the newest.
        let both = Self.live.replacingOccurrences(of: "\"sensor.temp\"", with: "\"sensor.+\"")
        _ = try points(plexus, both, count: 3)
        _ = try points(plexus, both.replacingOccurrences(of: "\"last\": 50", with: "\"last\": 1"), count: 1)
        // Another tenant's window is empty.
        plexus.credential = try plexus.createAPIKey(name: "other", tenant: "other")
        _ = try points(plexus, Self.live, count: 0)
        // Bad windows name their path.
        try routes.problem(try routes.post(plexus, "/api/v1/visualizations/render", Self.live.replacingOccurrences(of: "\"last\": 50", with: "\"last\": 0")),
                           status: 422, path: "$.data.last", "outside")
        try routes.problem(try routes.post(plexus, "/api/v1/visualizations/render", Self.live.replacingOccurrences(of: "\"last\": 50", with: "\"values\": []")),
                           status: 422, path: "$.data.values", "does not go with topic data")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testServiceDataAnUnknownServiceIs502() throws {
        let plexus = try routes.start()
        let spec = #"{"data": {"service": "nobody.rows"}, "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}}}"#
        let response = try routes.post(plexus, "/api/v1/visualizations/render", spec)
        XCTAssertEqual(response.status, 502, response.text)
        XCTAssertTrue(response.text.contains("nobody.rows"), response.text)
        XCTAssertEqual(plexus.stop(), 0)
    }

    static func dashboard(_ plexus: TestRuntime) throws -> TestResponse {
        let bars = #"{"data": {"values": [{"k": "a", "v": 3}, {"k": "b", "v": 5}]}, "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}}}"#
        let body = #"{"title": "Plant", "columns": 2, "panels": [{"title": "Temperature", "spec": \#(Self.live)}, {"title": "Stock", "spec": \#(bars)}]}"#
        return try plexus.request("PUT", "/api/v1/visualizations/dashboards/plant", headers: "Content-Type: application/json\r\n", body: Array(body.utf8))
    }

    func testDashboardsPanelsReportAndPage() throws {
        let plexus = try routes.start()
        let saved = try Self.dashboard(plexus)
        XCTAssertEqual(saved.status, 201, saved.text)
        let definition = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/visualizations/dashboards/plant").body)) as? [String: Any] ?? [:]
        let panels = definition["panels"] as? [[String: Any]] ?? []
        XCTAssertEqual(panels.count, 2)
        XCTAssertEqual(panels.first?["live"] as? String, "sensor.temp", "a topic-window panel is live on its topic")
        XCTAssertNil(panels.last?["live"])
        let bars = try plexus.get("/api/v1/visualizations/dashboards/plant/panels/1.svg")
        XCTAssertEqual(bars.status, 200, bars.text)
        XCTAssertEqual(bars.text.components(separatedBy: "class=\"mark-bar\"").count - 1, 2)
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/dashboards/plant/panels/2.svg").status, 404)
        let report = try plexus.get("/api/v1/visualizations/dashboards/plant/report")
        XCTAssertEqual(report.header("Content-Type"), "application/pdf", report.text)
        XCTAssertTrue(report.text.hasPrefix("%PDF-"))
        XCTAssertTrue(report.text.contains("/Count 2"), "one page per panel")
        // The page is public and self-contained: no data, no external script.
        let page = try plexus.get("/api/v1/visualizations/dashboards/plant/page", anonymous: true)
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.text.contains("sessionStorage"))
        // The page's own policy replaces the runtime's default-src 'none' (which would block its inline script).
        let policy = page.header("Content-Security-Policy") ?? ""
        XCTAssertTrue(policy.contains("script-src 'nonce-"), policy)
        XCTAssertEqual(page.headers.filter { $0.0.lowercased() == "content-security-policy" }.count, 1)
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/dashboards/plant/panels/1.svg").header("Content-Security-Policy"), "default-src 'none'; frame-ancestors 'none'")
        XCTAssertFalse(page.text.contains("src=\"http"))
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/dashboards/plant", anonymous: true).status, 401)
        // Another tenant does not see it; bad definitions name their path.
        let put = { (body: String) in try plexus.request("PUT", "/api/v1/visualizations/dashboards/bad", headers: "Content-Type: application/json\r\n", body: Array(body.utf8)) }
        try routes.problem(try put(#"{"panels": []}"#), status: 422, path: "$.panels", "1 to 32")
        try routes.problem(try put(#"{"panels": [{"spec": {"data": {"values": [{"a": 1}]}, "mark": "sankey"}}]}"#), status: 422, path: "$.panels[0].spec.mark", "unknown mark")
        try routes.problem(try put(#"{"panels": [{"chart": "x", "spec": {}}]}"#), status: 422, path: "$.panels[0]", "exactly one")
        plexus.credential = try plexus.createAPIKey(name: "other", tenant: "other")
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/dashboards/plant").status, 404)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testReportsAreStoredAndAnnounced() throws { try Self.reportsAreStoredAndAnnounced(try routes.start()) }

    /// The scenario, on SQLite here and on PostgreSQL in `VisualizationOnPostgresTests`.
    static func reportsAreStoredAndAnnounced(_ plexus: TestRuntime) throws {
        let routes = Helpers()
        XCTAssertEqual(try Self.dashboard(plexus).status, 201)
        let made = try plexus.request("POST", "/api/v1/visualizations/dashboards/plant/reports")
        XCTAssertEqual(made.status, 201, made.text)
        let id = (try JSONSerialization.jsonObject(with: Data(made.body)) as? [String: Any])?["id"] as? String ?? ""
        let list = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/visualizations/dashboards/plant/reports").body)) as? [String: Any]
        XCTAssertEqual((list?["reports"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, [id])
        let pdf = try plexus.get("/api/v1/visualizations/dashboards/plant/reports/\(id)")
        XCTAssertEqual(pdf.header("Content-Type"), "application/pdf")
        XCTAssertTrue(pdf.text.contains("/Count 2"), "a page per panel")
        let announced = try plexus.get("/api/v1/events?topic=report.generated")
        XCTAssertTrue(announced.text.contains(id), announced.text)
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/dashboards/plant/reports/nope").status, 404)
        try routes.problem(try plexus.request("PUT", "/api/v1/visualizations/dashboards/bad", headers: "Content-Type: application/json\r\n",
                                              body: Array(#"{"panels": [{"chart": "x"}], "schedule": {"cron": "0 25 * * *"}}"#.utf8)),
                           status: 422, path: "$.schedule.cron", "hour field")
        plexus.credential = try plexus.createAPIKey(name: "other", tenant: "other")
        XCTAssertEqual(try plexus.get("/api/v1/visualizations/dashboards/plant/reports/\(id)").status, 404)
        XCTAssertEqual(plexus.stop(), 0)
    }

    /// The scheduler makes a report when the cron schedule is due (every minute here: at most about a minute's wait).
    func testScheduledReportIsMadeWhenDue() throws {
        let plexus = try routes.start(config: "max_points = 5000\nreport_check_seconds = 1\n")
        let body = #"{"title": "Minutely", "schedule": {"cron": "* * * * *", "time_zone": "Europe/Berlin"}, "panels": [{"spec": {"data": {"values": [{"k": "a", "v": 1}]}, "mark": "bar", "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "v", "type": "quantitative"}}}}]}"#
        let saved = try plexus.request("PUT", "/api/v1/visualizations/dashboards/minutely", headers: "Content-Type: application/json\r\n", body: Array(body.utf8))
        XCTAssertEqual(saved.status, 201, saved.text)
        var reports: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(75)
        while reports.isEmpty, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            let list = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/visualizations/dashboards/minutely/reports").body)) as? [String: Any]
            reports = list?["reports"] as? [[String: Any]] ?? []
        }
        let id = try XCTUnwrap(reports.first?["id"] as? String, "no scheduled report within 75 s")
        XCTAssertTrue(try plexus.get("/api/v1/visualizations/dashboards/minutely/reports/\(id)").text.contains("/Count 1"))
        XCTAssertTrue(try plexus.get("/api/v1/events?topic=report.generated").text.contains(id))
        XCTAssertEqual(plexus.stop(), 0)
    }

    /// Headless Chromium loads the page, signs in, sees every panel, and sees a published event in the live panel
    /// within a second; the screenshot is kept in `.build/artefacts/visualization/dashboard.png`.
    func testLivePanelInHeadlessChromium() throws {
        let plexus = try routes.start()
        XCTAssertEqual(try Self.dashboard(plexus).status, 201)
        try publish(plexus, "sensor.temp", ["celsius": 20.5])
        try publish(plexus, "sensor.temp", ["celsius": 22])
        _ = try points(plexus, Self.live, count: 2)
        let artefacts = VisualizationRouteTests.root.appendingPathComponent(".build/artefacts/visualization")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let screenshot = artefacts.appendingPathComponent("dashboard.png")
        let driver = Process()
        driver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        driver.arguments = ["python3", VisualizationRouteTests.root.appendingPathComponent("Tests/Fixtures/Browser/dashboard_browser.py").path,
                            "http://127.0.0.1:\(plexus.port)", plexus.credential ?? "", "plant", "sensor.temp", screenshot.path]
        let errors = Pipe(), output = Pipe()
        driver.standardError = errors
        driver.standardOutput = output
        try driver.run()
        // Bounded: the driver's own waits add up to well under a minute.
        let deadline = Date().addingTimeInterval(90)
        while driver.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if driver.isRunning { driver.terminate(); driver.waitUntilExit(); XCTFail("the browser test did not finish within 90 s") }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if driver.terminationStatus == 77 { throw XCTSkip(stderr) }
        XCTAssertEqual(driver.terminationStatus, 0, stderr)
        print("dashboard browser test: \(stdout)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: screenshot.path))
        XCTAssertEqual(plexus.stop(), 0)
    }
}
