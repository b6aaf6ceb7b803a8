import Foundation
import PlexusTesting
import XCTest

/// The operator console over the real `plexus` binary: the page, the quarantine endpoints it uses, and the
/// page in headless Chromium.
final class ConsoleTests: XCTestCase {
    /// plexus with the visualization and hello plugins, hello quarantined in `data/quarantine.json` beforehand.
    func start() throws -> (TestRuntime, URL) {
        let bin = VisualizationRouteTests.binDirectory
        let binary = bin.appendingPathComponent("plexus")
        let plugins = ["libPlexusVisualization.so", "libPlexusHello.so"].map { bin.appendingPathComponent($0) }
        for file in [binary] + plugins where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-console-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("data"), withIntermediateDirectories: true)
        let quarantine = #"{"hello": {"reason": "crashed the worker 3 times within 300 s (last: a test, SIGSEGV)", "since": "2026-12-07T00:00:00Z", "crashes": []}}"#
        try quarantine.write(to: work.appendingPathComponent("data/quarantine.json"), atomically: true, encoding: .utf8)
        return (try TestRuntime(binary: binary, plugins: plugins, pluginConfigs: ["visualization": "max_points = 5000\n"], workDirectory: work), work)
    }

    func testQuarantineEndpointsListAndRelease() throws {
        let (plexus, work) = try start()
        defer { try? FileManager.default.removeItem(at: work) }
        let listed = try JSONSerialization.jsonObject(with: Data(try plexus.get("/admin/quarantine").body)) as? [String: Any]
        let entries = listed?["quarantined"] as? [[String: Any]] ?? []
        XCTAssertEqual(entries.map { $0["name"] as? String }, ["hello"])
        XCTAssertEqual(try plexus.pluginsByFile()["libPlexusHello.so"]?["state"] as? String, "failed")
        // Bad input: a name that is not a plugin name, one that is not quarantined, no admin key.
        let bad = try plexus.request("POST", "/admin/quarantine/..%2Fx/release")
        XCTAssertEqual(bad.status, 400, bad.text)
        XCTAssertTrue(bad.text.contains("':name'"), bad.text)
        let long = try plexus.request("POST", "/admin/quarantine/\(String(repeating: "a", count: 200))/release")
        XCTAssertEqual(long.status, 400, long.text)
        let unknown = try plexus.request("POST", "/admin/quarantine/nobody/release")
        XCTAssertEqual(unknown.status, 404, unknown.text)
        XCTAssertTrue(unknown.text.contains("'nobody' is not quarantined"), unknown.text)
        XCTAssertEqual(try plexus.request("POST", "/admin/quarantine/hello/release", anonymous: true).status, 401)
        plexus.credential = try plexus.createAPIKey(name: "tenant-user", tenant: "acme")
        XCTAssertEqual(try plexus.request("POST", "/admin/quarantine/hello/release").status, 403)
        XCTAssertEqual(try plexus.get("/admin/quarantine").status, 403)
        plexus.credential = plexus.adminKey
        // The release lifts it from the file and is audited.
        let released = try plexus.request("POST", "/admin/quarantine/hello/release")
        XCTAssertEqual(released.status, 200, released.text)
        let after = try JSONSerialization.jsonObject(with: Data(try plexus.get("/admin/quarantine").body)) as? [String: Any]
        XCTAssertEqual((after?["quarantined"] as? [Any])?.count, 0)
        XCTAssertFalse(try String(contentsOf: work.appendingPathComponent("data/quarantine.json"), encoding: .utf8).contains("hello"))
        XCTAssertEqual(try plexus.request("POST", "/admin/quarantine/hello/release").status, 404, "a second release finds nothing")
        XCTAssertTrue(try plexus.get("/admin/audit?action=admin.quarantine_release").text.contains("\"target\":\"hello\""))
        XCTAssertEqual(plexus.stop(), 0)
    }

    /// The runtime endpoint the console lists dead-letter groups with: admin only, `{"groups": [...]}`.
    func testDeadLetterGroupsEndpoint() throws {
        let (plexus, work) = try start()
        defer { try? FileManager.default.removeItem(at: work) }
        let listed = try plexus.get("/api/v1/events/deadletters/groups")
        XCTAssertEqual(listed.status, 200, listed.text)
        let groups = (try JSONSerialization.jsonObject(with: Data(listed.body)) as? [String: Any])?["groups"] as? [[String: Any]]
        XCTAssertNotNil(groups, listed.text)
        XCTAssertTrue(groups?.allSatisfy { $0["group"] is String && $0["dead_letters"] is Int } == true, listed.text)
        XCTAssertEqual(try plexus.request("GET", "/api/v1/events/deadletters/groups", anonymous: true).status, 401)
        plexus.credential = try plexus.createAPIKey(name: "tenant-user", tenant: "acme")
        XCTAssertEqual(try plexus.get("/api/v1/events/deadletters/groups").status, 403)
        plexus.credential = plexus.adminKey
        // The typed-group endpoint still names what is missing.
        let missing = try plexus.get("/api/v1/events/deadletters")
        XCTAssertEqual(missing.status, 400)
        XCTAssertTrue(missing.text.contains("'group'"), missing.text)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testConsolePageIsSelfContained() throws {
        let (plexus, work) = try start()
        defer { try? FileManager.default.removeItem(at: work) }
        let page = try plexus.get("/console", anonymous: true)
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertTrue(page.text.contains("sessionStorage"))
        XCTAssertFalse(page.text.contains("src=\"http"), "no external script")
        XCTAssertFalse(page.text.contains("localStorage"), "the key lives in session storage only")
        let policy = page.header("Content-Security-Policy") ?? ""
        XCTAssertTrue(policy.contains("script-src 'nonce-") && policy.contains("connect-src 'self'"), policy)
        for endpoint in ["/admin/plugins", "/health/plugins", "/admin/quarantine", "/admin/reload", "/api/v1/events/stream", "/api/v1/events/deadletters", "/api/v1/events/deadletters/groups",
                         "/metrics", "/admin/audit", "/api/v1/visualizations/render"] {
            XCTAssertTrue(page.text.contains(endpoint), "the console uses \(endpoint)")
        }
        XCTAssertEqual(plexus.stop(), 0)
    }

    /// Headless Chromium signs in, sees the plugins, releases the quarantine with the button (which reloads and
    /// shows the plugin running), sees the dead-letter groups, a published event live and the metric charts; the screenshot is kept in `.build/artefacts/visualization/console.png`.
    func testConsoleInHeadlessChromium() throws {
        let (plexus, work) = try start()
        defer { try? FileManager.default.removeItem(at: work) }
        let artefacts = VisualizationRouteTests.root.appendingPathComponent(".build/artefacts/visualization")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let screenshot = artefacts.appendingPathComponent("console.png")
        let driver = Process()
        driver.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        driver.arguments = ["python3", VisualizationRouteTests.root.appendingPathComponent("Tests/Fixtures/Browser/console_browser.py").path,
                            "http://127.0.0.1:\(plexus.port)", plexus.adminKey, "hello", screenshot.path]
        let errors = Pipe(), output = Pipe()
        driver.standardError = errors
        driver.standardOutput = output
        try driver.run()
        let deadline = Date().addingTimeInterval(120)
        while driver.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if driver.isRunning { driver.terminate(); driver.waitUntilExit(); XCTFail("the console browser test did not finish within 120 s") }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        if driver.terminationStatus == 77 { throw XCTSkip(stderr) }
        XCTAssertEqual(driver.terminationStatus, 0, stderr)
        print("console browser test: \(stdout)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: screenshot.path))
        XCTAssertEqual(plexus.stop(), 0)
    }
}
