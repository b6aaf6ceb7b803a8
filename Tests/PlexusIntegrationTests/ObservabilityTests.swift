import Foundation
import PlexusTesting
import XCTest

/// Health, readiness, alerts and metrics of the real runtime.
final class ObservabilityTests: XCTestCase {
    func testReadinessFollowsRequiredPlugins() throws {
        let ready = try Repository.startPlexus(pluginSettings: "required = [\"hello\"]")
        XCTAssertEqual(try ready.get("/ready").status, 200)
        let detail = try JSONSerialization.jsonObject(with: Data(try ready.get("/health/plugins").body)) as! [String: Any]
        let plugins = detail["plugins"] as! [[String: Any]]
        XCTAssertEqual(plugins.first { $0["name"] as? String == "hello" }?["health"] as? String, "ok")
        XCTAssertNotNil(detail["loop_lag_ms"])

        let notReady = try Repository.startPlexus(pluginSettings: "required = [\"hello\", \"billing\"]")
        let response = try notReady.get("/ready")
        XCTAssertEqual(response.status, 503)
        XCTAssertTrue(response.text.contains("required plugin 'billing' is not installed"), response.text)
        XCTAssertEqual(try notReady.get("/health").status, 200, "liveness is not readiness")
    }

    func testAlertRuleIsPublishedOnTheBus() throws {
        let plexus = try Repository.startPlexus(cFixtures: ["hello-c", "garbage"], extra: "[alerts.failed_plugins]\nwarning = 1\n")
        let client = try TestClient(port: plexus.port)
        try client.send("GET /api/v1/events/stream?topic=system.alert HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        XCTAssertEqual(try client.readHead().status, 200)
        let alert = try SSEReader(client: client).next().json["payload"] as? [String: Any]
        XCTAssertEqual(alert?["measure"] as? String, "failed_plugins")
        XCTAssertEqual(alert?["severity"] as? String, "warning")
        XCTAssertEqual(alert?["value"] as? Double, 1)
        XCTAssertTrue(plexus.logEventuallyContains("alert failed_plugins warning"), plexus.log)
    }

    func testMetricsParseAsPrometheusText() throws {
        let plexus = try Repository.startPlexus()
        for _ in 0..<3 { _ = try plexus.get("/api/v1/hello/x") }
        let text = try plexus.get("/metrics").text
        let sample = try NSRegularExpression(pattern: #"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.eE+-]+(Inf)?$"#)
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let line = String(line)
            XCTAssertNotNil(sample.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)), "not a Prometheus sample: \(line)")
        }
        XCTAssertTrue(text.contains(#"plexus_http_requests_total{plugin="hello",route="/api/v1/hello/:name",method="GET",status="200"} 3"#), text)
        XCTAssertTrue(text.contains(#"plexus_plugin_state{plugin="hello",state="running"} 1"#), text)
        for name in ["plexus_http_request_duration_seconds_bucket", "plexus_loop_lag_seconds", "process_resident_memory_bytes", "process_open_fds"] {
            XCTAssertTrue(text.contains(name), name)
        }
    }
}
