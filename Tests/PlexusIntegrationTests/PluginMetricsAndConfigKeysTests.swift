import Foundation
import PlexusTesting
import XCTest

/// ABI 1.3: plugins publish their own metrics, and declare the keys of their config file.
final class PluginMetricsAndConfigKeysTests: XCTestCase {
    private func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// ABI 1.8: a plugin writes to the runtime's audit log under its own prefix; the runtime
    /// checks what it is given and says which argument is wrong.
    func testPluginAuditRecordsAreCheckedAndPrefixed() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureMetrics.so"], cFixtures: [])
        XCTAssertEqual(try plexus.get("/api/v1/metrics-probe/audit?action=widget.reset&actor=ada&tenant=acme&target=w-1&outcome=denied").status, 204)
        // A runtime action name is kept under the plugin's prefix: a plugin cannot forge the gateway's records.
        XCTAssertEqual(try plexus.get("/api/v1/metrics-probe/audit?action=auth.apikey.revoke").status, 204)
        for (query, problem) in [("action=", "must be 1 to 64 bytes"), ("action=Widget.Reset", "must be 1 to 64 bytes"),
                                 ("action=a%20b", "must be 1 to 64 bytes"), ("action=\(String(repeating: "a", count: 65))", "must be 1 to 64 bytes"),
                                 ("action=x&target=\(String(repeating: "t", count: 257))", "audit target is longer than 256 bytes"),
                                 ("action=x&actor=\(String(repeating: "a", count: 257))", "audit actor is longer than 256 bytes")] {
            let refused = try plexus.get("/api/v1/metrics-probe/audit?\(query)")
            XCTAssertEqual(refused.status, 400, query)
            XCTAssertTrue(refused.text.contains(problem), "\(query): \(refused.text)")
        }
        let page = try plexus.get("/admin/audit?action=plugin.&limit=10")
        XCTAssertEqual(page.status, 200, page.text)
        let records = (try JSONSerialization.jsonObject(with: Data(page.body)) as? [String: Any])?["records"] as? [[String: Any]] ?? []
        XCTAssertEqual(records.count, 2, "refused records are not written: \(records)")
        XCTAssertEqual(records.map { $0["action"] as? String }, ["plugin.metrics-probe.auth.apikey.revoke", "plugin.metrics-probe.widget.reset"])
        XCTAssertEqual(records[0]["actor"] as? String, "plugin:metrics-probe")
        XCTAssertEqual(records[0]["actor_kind"] as? String, "system")
        XCTAssertEqual(records[1]["actor"] as? String, "ada")
        XCTAssertEqual(records[1]["actor_kind"] as? String, "plugin")
        XCTAssertEqual(records[1]["tenant"] as? String, "acme")
        XCTAssertEqual(records[1]["target"] as? String, "w-1")
        XCTAssertEqual(records[1]["outcome"] as? String, "denied")
        XCTAssertEqual(try plexus.get("/admin/audit?action=auth.apikey.revoke").text.contains("metrics-probe"), false)
    }

    func testPluginMetricsAppearNamespacedWithHelpAndTypes() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureMetrics.so"], cFixtures: [])
        let answer = try plexus.get("/api/v1/metrics-probe/hit?size=50")
        XCTAssertEqual(answer.status, 200, answer.text)
        let refusals = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any])?["refusals"] as? [String])
        XCTAssertEqual(refusals.count, 4, "\(refusals)")
        XCTAssertTrue(refusals[0].contains("must match [a-z_][a-z0-9_]*"), refusals[0])
        XCTAssertTrue(refusals[1].contains("only a counter's name ends in _total"), refusals[1])
        XCTAssertTrue(refusals[2].contains("help text is required"), refusals[2])
        XCTAssertTrue(refusals[3].contains("already registered with another kind, labels or buckets"), refusals[3])

        var text = ""
        for _ in 0..<50 {  // the pool's increment is applied on the loop
            text = try plexus.get("/metrics").text
            if value(text, #"metrics_probe_hits_total{where="pool"}"#) == 2 { break }
            usleep(50_000)
        }
        XCTAssertTrue(text.contains("# TYPE metrics_probe_hits_total counter"), text)
        XCTAssertTrue(text.contains("# HELP metrics_probe_hits_total Hits, by where they were counted"), text)
        XCTAssertEqual(value(text, #"metrics_probe_hits_total{where="loop"}"#), 1, "the refused decrement changed nothing:\n\(text)")
        XCTAssertEqual(value(text, #"metrics_probe_hits_total{where="pool"}"#), 2, "recorded from a pool thread:\n\(text)")
        XCTAssertTrue(text.contains("# TYPE metrics_probe_level gauge"), text)
        XCTAssertEqual(value(text, "metrics_probe_level"), 50)
        XCTAssertTrue(text.contains("# TYPE metrics_probe_size_bytes histogram"), text)
        XCTAssertEqual(value(text, #"metrics_probe_size_bytes_bucket{le="10.0"}"#) ?? value(text, #"metrics_probe_size_bytes_bucket{le="10"}"#), 0, text)
        XCTAssertEqual(value(text, #"metrics_probe_size_bytes_bucket{le="100.0"}"#) ?? value(text, #"metrics_probe_size_bytes_bucket{le="100"}"#), 1, text)
        XCTAssertEqual(value(text, #"metrics_probe_swift_hits_total{path="probe"}"#), 1, "swift-metrics reaches /metrics through the SDK:\n\(text)")
        XCTAssertTrue(plexus.log.contains("a counter only grows"), "a refused recording is logged:\n\(plexus.log)")
        XCTAssertTrue(plexus.log.contains("0 label values for 1 labels"), plexus.log)
    }

    private func plugin(_ plexus: TestRuntime, _ file: String) throws -> [String: Any] {
        try XCTUnwrap(try plexus.pluginsByFile()[file], "no \(file) in /admin/plugins")
    }

    func testAnUnknownKeyFailsAPluginThatDeclaresItsKeysAndNamesTheKey() throws {
        let plexus = try Repository.startPlexus(
            swiftPlugins: ["libPlexusHello.so", "libPlexusFixtureMetrics.so"], cFixtures: ["hello-c", "keys-c"],
            pluginConfigs: ["hello": "greting = \"typo\"\n", "metrics-probe": "unit = \"kg\"\nlog_level = \"debug\"\n",
                            "hello-c": "anything = 1\n[whatever]\nnested = true\n", "keys-c": "greeting = \"hi\"\n[limits]\nmax = 3\n"])
        let hello = try plugin(plexus, "libPlexusHello.so")
        XCTAssertEqual(hello["state"] as? String, "failed", "\(hello)")
        let reason = hello["reason"] as? String ?? ""
        XCTAssertTrue(reason.contains("unknown config key greting"), reason)
        XCTAssertTrue(reason.contains("hello.toml"), reason)
        XCTAssertTrue(reason.contains("it accepts access, greeting, log_level"), reason)
        XCTAssertEqual(try plexus.get("/api/v1/hello/x").status, 404, "a failed plugin's routes are not served")

        XCTAssertEqual(try plugin(plexus, "libPlexusFixtureMetrics.so")["state"] as? String, "running", "declared keys and the SDK's log_level pass")
        XCTAssertEqual(try plugin(plexus, "hello-c.so")["state"] as? String, "running", "a plugin that declares nothing accepts any key")
        XCTAssertEqual(try plugin(plexus, "keys-c.so")["state"] as? String, "running", "limits.* admits limits.max")
        XCTAssertEqual(try plexus.get("/api/v1/c/keys").status, 200)
    }

    func testACPluginsDeclaredListRefusesEveryOtherKey() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["keys-c"],
                                                pluginConfigs: ["keys-c": "greeting = \"hi\"\nlimits = 3\n[other]\nx = 1\n"])
        let keys = try plugin(plexus, "keys-c.so")
        XCTAssertEqual(keys["state"] as? String, "failed", "\(keys)")
        XCTAssertTrue((keys["reason"] as? String ?? "").contains("unknown config keys limits, other.x"), "\(keys)")
    }
}
