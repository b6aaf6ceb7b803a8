import Foundation
import PlexusTesting
import XCTest

/// Issue 20, the rest: quarantine released and picked up across running instances, the shared
/// rate limit decided before a body is read, and service calls to an instance that dies.
extension ClusterLiveTests {
    // MARK: Quarantine across running instances

    private func quarantineFile(_ node: TestRuntime) -> String {
        (try? String(contentsOf: node.workDirectory.appendingPathComponent("data/quarantine.json"), encoding: .utf8)) ?? ""
    }

    func testAQuarantineOnOneInstanceStopsThePluginOnAnotherAndAReleaseOnAnyInstanceLiftsItEverywhere() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        // Instance B runs the plugin.
        let second = try instances(1, server, prefix: "quarantine2:", work: work.appendingPathComponent("b"))
        defer { for node in second { _ = node.stop() } }
        XCTAssertEqual(try second[0].request("POST", "/api/v1/probe/upper", body: Array("x".utf8)).status, 200)
        // Instance A starts with the plugin quarantined by its supervisor: B stops it without a restart.
        let data = work.appendingPathComponent("a/instance0/data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data(#"{"bus-probe": {"reason": "3 crashes within 300 s", "since": "2026-12-07T00:00:00Z", "crashes": []}}"#.utf8)
            .write(to: data.appendingPathComponent("quarantine.json"))
        let first = try instances(1, server, prefix: "quarantine2:", work: work.appendingPathComponent("a"))
        defer { for node in first { _ = node.stop() } }
        var entry: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(10)
        repeat {
            entry = try second[0].pluginsByFile()["libPlexusFixtureBusProbe.so"] ?? [:]
            if entry["state"] as? String == "failed" { break }
            usleep(50_000)
        } while Date() < deadline
        XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)\n\(second[0].log)")
        XCTAssertTrue((entry["reason"] as? String ?? "").contains("on another instance of the cluster: 3 crashes within 300 s"), "\(entry)")
        XCTAssertEqual(try second[0].request("POST", "/api/v1/probe/upper", body: Array("x".utf8)).status, 503)
        let listed = json(try second[0].get("/admin/quarantine"))
        XCTAssertEqual((listed["cluster"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["bus-probe"], "\(listed)")

        // Released on B (which never had it in its own file): gone from Redis and from A's file.
        XCTAssertTrue(quarantineFile(first[0]).contains("bus-probe"))
        let released = try second[0].request("POST", "/admin/quarantine/bus-probe/release")
        XCTAssertEqual(released.status, 200, released.text)
        XCTAssertEqual(json(released)["cluster"] as? Bool, true, released.text)
        XCTAssertEqual(try server.cli("HEXISTS", "quarantine2:quarantine", "bus-probe"), "0")
        let fileDeadline = Date().addingTimeInterval(5)
        while quarantineFile(first[0]).contains("bus-probe") && Date() < fileDeadline { usleep(50_000) }
        XCTAssertFalse(quarantineFile(first[0]).contains("bus-probe"), "instance A's own file still quarantines it: a restart would quarantine it again")
        XCTAssertEqual(try second[0].request("POST", "/admin/quarantine/bus-probe/release").status, 404, "released already")
        let bad = try second[0].request("POST", "/admin/quarantine/bad%20name/release")
        XCTAssertEqual(bad.status, 400, bad.text)

        // `plexus plugin release NAME --config …` releases in Redis too, and says when nothing was quarantined.
        _ = try server.cli("HSET", "quarantine2:quarantine", "other-plugin", "crashed elsewhere")
        let binary = Self.binDirectory.appendingPathComponent("plexus")
        func release(_ name: String) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = binary
            process.arguments = ["plugin", "release", name, "--config", first[0].workDirectory.appendingPathComponent("plexus.toml").path]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, output)
        }
        let cli = try release("other-plugin")
        XCTAssertEqual(cli.status, 0, cli.output)
        XCTAssertTrue(cli.output.contains("across the cluster"), cli.output)
        XCTAssertEqual(try server.cli("HEXISTS", "quarantine2:quarantine", "other-plugin"), "0")
        let none = try release("no-such-plugin")
        XCTAssertNotEqual(none.status, 0)
        XCTAssertTrue(none.output.contains("nor in the cluster's Redis"), none.output)
    }

    // MARK: Shared rate limits before the body

    func testASharedRateLimitIsDecidedAtTheHeadSoAnExhaustedLimitRefusesBeforeTheBodyIsRead() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(2, server, prefix: "headlimits:", work: work, settings: """
            [rate_limits.probe]
            requests = 3
            window_s = 3600
            applies_to = "plugin:bus-probe"
            key = "client"
            """)
        defer { for node in nodes { _ = node.stop() } }
        func post(_ body: String) -> String {
            "POST /api/v1/probe/upper HTTP/1.1\r\nHost: t\r\n\(nodes[0].authorized(""))Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        // Admitted: the head and its body in one write (the body waits, held, while Redis decides).
        let one = try TestClient(port: nodes[0].port)
        try one.send(post("first"))
        let answer = try one.readResponse()
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(answer.text, "FIRST")
        // Two pipelined requests in one write on the other instance: both admitted, in order.
        let two = try TestClient(port: nodes[1].port)
        try two.send(post("second") + post("third"))
        XCTAssertEqual(try two.readResponse().text, "SECOND")
        XCTAssertEqual(try two.readResponse().text, "THIRD")
        // Exhausted: a head announcing a large body, and no body at all. The 429 comes anyway,
        // so it was decided before the body (which never comes) was read.
        let large = try TestClient(port: nodes[0].port, timeoutSeconds: 10)
        try large.send("POST /api/v1/probe/upper HTTP/1.1\r\nHost: t\r\n\(nodes[0].authorized(""))Content-Length: 200000\r\n\r\n")
        let refused = try large.readResponse()
        XCTAssertEqual(refused.status, 429, refused.text)
        XCTAssertTrue(refused.text.contains("across the cluster"), refused.text)
        XCTAssertNotNil(refused.header("retry-after"))
        XCTAssertEqual(refused.header("connection")?.lowercased(), "close", "the body was not read: the connection cannot carry another request")
        XCTAssertTrue(large.readsEOF(), "the server closes the connection after the 429")
        // The same with part of the body sent: refused, closed, and the instance still serves.
        let partial = try TestClient(port: nodes[1].port, timeoutSeconds: 10)
        try partial.send("POST /api/v1/probe/upper HTTP/1.1\r\nHost: t\r\n\(nodes[1].authorized(""))Content-Length: 200000\r\n\r\n" + String(repeating: "a", count: 1000))
        XCTAssertEqual(try partial.readResponse().status, 429)
        XCTAssertTrue(partial.readsEOF())
        XCTAssertEqual(try nodes[1].get("/health").status, 200)
    }

    // MARK: A receiver that dies mid-call

    func testAServiceCallTakenByAnInstanceThatIsKilledFailsAtOnceNamingItNotAtTheCallersTimeout() throws {
        let text = try callTakenByAnInstanceThatStops(SIGKILL)
        XCTAssertTrue(text.contains("its connection to Redis is gone"), text)
    }

    func testAServiceCallTakenByAnInstanceThatHangsFailsWhenItsPresenceExpires() throws {
        let text = try callTakenByAnInstanceThatStops(SIGSTOP)
        XCTAssertTrue(text.contains("its presence expired"), text)
    }

    /// Makes a `probe.slow` call that another instance takes, sends that instance `signal`, and
    /// returns the caller's answer (a 502 that must name the instance as gone).
    private func callTakenByAnInstanceThatStops(_ signal: Int32) throws -> String {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let caller = try instances(1, server, prefix: "dying:", work: work.appendingPathComponent("caller"))
        defer { for node in caller { _ = node.stop() } }
        // The other instance takes probe.slow calls and answers after a minute.
        let receiver = try instances(1, server, prefix: "dying:", work: work.appendingPathComponent("receiver"), probeConfig: "slow_ms = 60000\n")
        defer {
            for node in receiver where node.process.isRunning {
                kill(node.process.processIdentifier, SIGKILL)
                node.process.waitUntilExit()
            }
        }
        let presenceDeadline = Date().addingTimeInterval(10)
        while Date() < presenceDeadline, (Int(try server.cli("ZCARD", "dying:svc:probe.slow")) ?? 0) < 2 { usleep(50_000) }
        XCTAssertEqual(try server.cli("ZCARD", "dying:svc:probe.slow"), "2")
        // Calls are balanced over both: a call answered at once was the caller's own plugin; the next goes over.
        var failed: TestResponse?
        for attempt in 0..<4 {
            let client = try TestClient(port: caller[0].port, timeoutSeconds: 40)
            try client.send("POST /api/v1/probe/slow HTTP/1.1\r\nHost: t\r\n\(caller[0].authorized(""))Content-Length: 4\r\n\r\nslow")
            var taken = false
            let takenDeadline = Date().addingTimeInterval(3)
            while !taken && Date() < takenDeadline {
                taken = try serviceCalls(receiver[0], "in") > 0
                if !taken { usleep(50_000) }
            }
            guard taken else {
                XCTAssertEqual(try client.readResponse().status, 200, "attempt \(attempt): answered by the caller's own plugin")
                continue
            }
            kill(receiver[0].process.processIdentifier, signal)
            if signal == SIGKILL { receiver[0].process.waitUntilExit() }
            failed = try client.readResponse()
            break
        }
        let response = try XCTUnwrap(failed, "no call reached the other instance in 4 attempts")
        XCTAssertEqual(response.status, 502, response.text)
        XCTAssertTrue(response.text.contains("took the call and is gone"), "failed naming the gone instance, not at the 30 s timeout: \(response.text)")
        XCTAssertFalse(response.text.contains("did not answer within"), response.text)
        XCTAssertTrue(caller[0].logEventuallyContains("service calls failed: their instance is gone"), caller[0].log)
        // The caller goes on: the next call is its own plugin's (the gone one dropped out).
        XCTAssertEqual(try caller[0].request("POST", "/api/v1/probe/slow", body: Array("again".utf8)).status, 200)
        return response.text
    }
}
