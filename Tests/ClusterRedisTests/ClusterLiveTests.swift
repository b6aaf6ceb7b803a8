import Foundation
import PlexusTesting
import XCTest

/// Three real plexus instances against one real redis-server: live events across instances,
/// a durable consumer group spread over them (also across a SIGKILL), API keys and the admin
/// key shared, and Redis going away and coming back.
final class ClusterLiveTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"]
        ?? root.appendingPathComponent(".build/debug").path)

    /// Starts `count` instances (no supervisor: a SIGKILL kills the instance) with the bus-probe fixture.
    func instances(_ count: Int, _ server: RedisTestServer, prefix: String, claimIdleMilliseconds: Int = 30_000,
                           work: URL, settings: String = "", probeConfig: String = "") throws -> [TestRuntime] {
        let binary = Self.binDirectory.appendingPathComponent("plexus")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestFailure("no plexus binary at \(binary.path): run `swift build` before `swift test`")
        }
        return try (0..<count).map { index in
            let directory = work.appendingPathComponent("instance\(index)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return try TestRuntime(binary: binary, plugins: [Self.binDirectory.appendingPathComponent("libPlexusFixtureBusProbe.so")],
                                   pluginConfigs: ["bus-probe": "ack_log = \"\(directory.appendingPathComponent("acked.txt").path)\"\n\(probeConfig)"],
                                   extra: """
                                   [supervisor]
                                   enabled = false
                                   [cluster]
                                   redis = "\(server.url)"
                                   redis_prefix = "\(prefix)"
                                   redis_claim_idle_ms = \(claimIdleMilliseconds)
                                   \(settings)
                                   """, workDirectory: directory)
        }
    }

    func workDirectory() throws -> URL {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-cluster-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        return work
    }

    private func publish(_ plexus: TestRuntime, _ object: [String: Any], key: String? = nil) throws -> TestResponse {
        try plexus.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n" + (key.map { "Authorization: Bearer \($0)\r\n" } ?? ""),
                           body: Array(try JSONSerialization.data(withJSONObject: object)))
    }

    func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    /// Waits until `count` Redis connections are subscribed to at least `patterns` patterns each.
    private func waitForSubscribers(_ server: RedisTestServer, count: Int, patterns: Int) throws {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let clients = try server.cli("CLIENT", "LIST").split(separator: "\n")
            let subscribed = clients.filter { line in
                line.split(separator: " ").contains { $0.hasPrefix("psub=") && (Int($0.dropFirst(5)) ?? 0) >= patterns }
            }
            if subscribed.count >= count { return }
            usleep(50_000)
        }
        throw TestFailure("the instances did not subscribe in Redis within 10 s")
    }

    private func openStream(_ plexus: TestRuntime, _ query: String) throws -> SSEReader {
        let client = try TestClient(port: plexus.port, timeoutSeconds: 10)
        try client.send("GET /api/v1/events/stream?\(query) HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        let head = try client.readHead()
        guard head.status == 200 else { throw TestFailure("stream answered \(head.status)") }
        return SSEReader(client: client)
    }

    private func ackedIDs(_ work: URL, _ count: Int) -> [String] {
        (0..<count).flatMap { index in
            ((try? String(contentsOf: work.appendingPathComponent("instance\(index)/acked.txt"), encoding: .utf8)) ?? "")
                .split(separator: "\n").map(String.init)
        }
    }

    // MARK: Live events and the admin identity

    func testEverySSEClientSeesEveryEventPublishedThroughAnyInstanceInPublisherOrder() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(3, server, prefix: "live:", work: work)
        defer { for node in nodes { _ = node.stop() } }
        XCTAssertFalse(nodes[0].adminKey.isEmpty)
        XCTAssertEqual(Set(nodes.map(\.adminKey)).count, 1, "one admin key for the installation")
        XCTAssertEqual(try server.cli("GET", "live:admin.key"), nodes[0].adminKey)

        // A topic segment with glob metacharacters must still be delivered (escaped in the PSUBSCRIBE).
        let readers = try nodes.map { try openStream($0, "topic=chat.%23") }
        try waitForSubscribers(server, count: 3, patterns: 2)
        for round in 0..<5 {
            for (index, node) in nodes.enumerated() {
                let response = try publish(node, ["topic": "chat.room*[\(index)]", "payload": ["from": index, "n": round]])
                XCTAssertEqual(response.status, 202, response.text)
            }
        }
        for (readerIndex, reader) in readers.enumerated() {
            var seen: [Int: [Int]] = [:]
            for _ in 0..<15 {
                let frame = try reader.next()
                guard let payload = frame.json["payload"] as? [String: Any], let from = payload["from"] as? Int, let n = payload["n"] as? Int else {
                    XCTFail("unexpected frame \(frame.data)")
                    continue
                }
                XCTAssertEqual(frame.event, "chat.room*[\(from)]")
                seen[from, default: []].append(n)
            }
            for from in 0..<3 {
                XCTAssertEqual(seen[from], [0, 1, 2, 3, 4], "reader \(readerIndex) from instance \(from): every event, in order")
            }
        }
        // A pattern that does not match receives nothing from the others (the glob's superset is filtered).
        let quiet = try openStream(nodes[1], "topic=chat.%2B")
        let loud = try openStream(nodes[1], "topic=chat.%23")
        try waitForSubscribers(server, count: 1, patterns: 4)
        XCTAssertEqual(try publish(nodes[0], ["topic": "chat.a.b", "payload": 1]).status, 202)
        XCTAssertEqual(try publish(nodes[0], ["topic": "chat.c", "payload": 2]).status, 202)
        XCTAssertEqual(try quiet.next().event, "chat.c", "chat.+ does not match chat.a.b")
        XCTAssertEqual(try loud.next().event, "chat.a.b")
        XCTAssertEqual(try loud.next().event, "chat.c")
    }

    // MARK: Durable consumer groups

    func testADurableGroupOverThreeInstancesHandlesEachEventOnceAndAtLeastOnceAcrossASIGKILL() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(3, server, prefix: "durable:", claimIdleMilliseconds: 3_000, work: work)
        defer { for node in nodes where node.process.isRunning { _ = node.stop() } }
        // Let every instance's group exist before publishing (created at the group's first start).
        let groupDeadline = Date().addingTimeInterval(10)
        while Date() < groupDeadline, !(try server.cli("XINFO", "GROUPS", "durable:events")).contains("probe-orders") { usleep(50_000) }

        var published: [String] = []
        for n in 0..<60 {
            let response = try publish(nodes[n % 3], ["topic": "orders.created", "payload": ["n": n], "durable": true])
            XCTAssertEqual(response.status, 202, response.text)
            if let id = json(response)["id"] as? String { published.append(id) }
        }
        var acked: [String] = []
        let deadline = Date().addingTimeInterval(20)
        repeat {
            usleep(100_000)
            acked = ackedIDs(work, 3)
        } while !Set(published).isSubset(of: acked) && Date() < deadline
        XCTAssertEqual(Set(published).subtracting(acked), [], "every acknowledged publish was handled")
        XCTAssertEqual(acked.count, Set(acked).count, "each event handled once in the normal case")
        let perInstance = (0..<3).map { index in
            ((try? String(contentsOf: work.appendingPathComponent("instance\(index)/acked.txt"), encoding: .utf8)) ?? "").split(separator: "\n").count
        }
        print("normal case: \(published.count) events handled \(acked.count) times; by instance: \(perInstance)")

        // Now one instance is killed mid-stream: its pending deliveries are claimed by the others.
        let lock = NSLock()
        var second: [String] = []
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for n in 0..<100 {
                if worker == 0 && n == 30 { kill(nodes[2].process.processIdentifier, SIGKILL) }
                guard let response = try? publish(nodes[worker], ["topic": "orders.created", "payload": ["n": 1000 + n], "durable": true]),
                      response.status == 202, let id = json(response)["id"] as? String else { continue }
                lock.withLock { second.append(id) }
            }
        }
        let all = published + second
        let killedDeadline = Date().addingTimeInterval(30)
        repeat {
            usleep(200_000)
            acked = ackedIDs(work, 3)
        } while !Set(all).isSubset(of: acked) && Date() < killedDeadline
        XCTAssertEqual(Set(all).subtracting(acked).count, 0, "acknowledged publishes lost after the SIGKILL")
        print("after SIGKILL: \(all.count) acknowledged events, \(acked.count) handlings, \(acked.count - Set(acked).count) duplicates")
    }

    // MARK: API keys

    func testAKeyRevokedOnOneInstanceIsRefusedByTheOthersWithinASecond() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(3, server, prefix: "keys:", work: work)
        defer { for node in nodes { _ = node.stop() } }
        let key = try nodes[0].createAPIKey(name: "billing", roles: ["reader"])
        let id = String(key.split(separator: "_")[1])
        func status(_ node: TestRuntime) throws -> Int {
            try TestClient.get("/api/v1/events?limit=1", port: node.port, headers: "Authorization: Bearer \(key)\r\n").status
        }
        let created = Date()
        for node in nodes[1...] {
            while try status(node) != 200 && Date().timeIntervalSince(created) < 5 { usleep(20_000) }
            XCTAssertEqual(try status(node), 200, "a key created on instance 0 works on the others")
        }
        print("key created on one instance accepted by the others after \(Int(Date().timeIntervalSince(created) * 1000)) ms")

        let revoke = try nodes[0].request("DELETE", "/admin/api-keys/\(id)")
        XCTAssertEqual(revoke.status, 204, revoke.text)
        let revoked = Date()
        var refusedAfter: [Double] = []
        for node in nodes[1...] {
            while try status(node) == 200 && Date().timeIntervalSince(revoked) < 5 { usleep(10_000) }
            XCTAssertEqual(try status(node), 401, "the revoked key is refused")
            refusedAfter.append(Date().timeIntervalSince(revoked))
        }
        print("revoked key refused by the others after \(refusedAfter.map { Int($0 * 1000) }) ms")
        XCTAssertLessThan(refusedAfter.max() ?? 99, 1.0, "revocation seen by every instance within one second")
    }

    // MARK: Services

    /// The `plexus_cluster_service_calls_total` counter of `node` for `direction` ("in" or "out").
    func serviceCalls(_ node: TestRuntime, _ direction: String) throws -> Int {
        let text = try node.get("/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix("plexus_cluster_service_calls_total") && line.contains("direction=\"\(direction)\"") {
            return Int(Double(line.split(separator: " ").last ?? "") ?? 0)
        }
        return 0
    }

    func testServiceCallsAreBalancedOverTheInstancesOfferingThemAndFailOverWhenOneDies() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(3, server, prefix: "services:", work: work)
        defer { for node in nodes where node.process.isRunning { _ = node.stop() } }
        // Every instance's bus-probe offers probe.upper; wait until all three are present.
        let presenceDeadline = Date().addingTimeInterval(10)
        while Date() < presenceDeadline, (Int(try server.cli("ZCARD", "services:svc:probe.upper")) ?? 0) < 3 { usleep(50_000) }
        XCTAssertEqual(try server.cli("ZCARD", "services:svc:probe.upper"), "3")
        for n in 0..<30 {
            let response = try nodes[0].request("POST", "/api/v1/probe/upper", body: Array("call \(n)".utf8))
            XCTAssertEqual(response.status, 200, response.text)
            XCTAssertEqual(response.text, "CALL \(n)")
        }
        let taken = try [1, 2].map { try serviceCalls(nodes[$0], "in") }
        print("30 calls on instance 0: answered by instance 1: \(taken[0]), instance 2: \(taken[1]), instance 0: \(30 - taken[0] - taken[1])")
        XCTAssertEqual(try serviceCalls(nodes[0], "out"), taken[0] + taken[1])
        XCTAssertGreaterThanOrEqual(taken[0], 5, "balanced: instance 1 answers its share")
        XCTAssertGreaterThanOrEqual(taken[1], 5, "balanced: instance 2 answers its share")

        // Instance 2 dies: every call still gets its answer (its presence lingers up to 3 s; the calls fail over).
        kill(nodes[2].process.processIdentifier, SIGKILL)
        nodes[2].process.waitUntilExit()
        for n in 0..<30 {
            let response = try nodes[0].request("POST", "/api/v1/probe/upper", body: Array("after \(n)".utf8))
            XCTAssertEqual(response.status, 200, response.text)
        }
        XCTAssertTrue(nodes[0].log.contains("service call failed over"), "no call was sent to the dead instance first")
    }

    // MARK: Audit

    func testTheAuditLogOfEveryInstanceIsQueryableFromAnyInstance() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(2, server, prefix: "audit:", work: work)
        defer { for node in nodes { _ = node.stop() } }
        _ = try nodes[0].createAPIKey(name: "made-on-0")
        XCTAssertEqual(try nodes[1].request("DELETE", "/admin/api-keys/no-such-key").status, 404)
        var records: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(5)
        repeat {
            let response = try nodes[1].get("/admin/audit/cluster?limit=50")
            XCTAssertEqual(response.status, 200, response.text)
            records = json(response)["records"] as? [[String: Any]] ?? []
        } while records.filter({ ($0["action"] as? String ?? "").hasPrefix("auth.apikey.") }).count < 2 && Date() < deadline
        let create = records.first { $0["action"] as? String == "auth.apikey.create" }
        let revoke = records.first { $0["action"] as? String == "auth.apikey.revoke" }
        XCTAssertEqual(create?["outcome"] as? String, "success", "\(records)")
        XCTAssertEqual(revoke?["outcome"] as? String, "failure", "\(records)")
        XCTAssertNotEqual(create?["instance"] as? String, revoke?["instance"] as? String, "records of both instances")
        // Newest first, and paging back from a record id.
        let ids = records.compactMap { $0["id"] as? String }
        XCTAssertEqual(ids, ids.sorted { a, b in
            let x = a.split(separator: "-").compactMap { UInt64($0) }, y = b.split(separator: "-").compactMap { UInt64($0) }
            return x[0] != y[0] ? x[0] > y[0] : x[1] > y[1]
        })
        let older = try nodes[0].get("/admin/audit/cluster?limit=1&before=\(ids[0])")
        XCTAssertEqual((json(older)["records"] as? [[String: Any]])?.first?["id"] as? String, ids.count > 1 ? ids[1] : nil)
        // Bad input is refused, naming the parameter.
        for (query, expected) in [("limit=0", "'limit'"), ("limit=1001", "'limit'"), ("limit=abc", "'limit'"), ("before=abc", "'before'"),
                                  ("before=1-2-3", "'before'"), ("before=\(String(repeating: "9", count: 30))-0", "'before'")] {
            let response = try nodes[0].get("/admin/audit/cluster?\(query)")
            XCTAssertEqual(response.status, 400, query)
            XCTAssertTrue(response.text.contains(expected), "\(query): \(response.text)")
        }
        // Only the admin reads it.
        let reader = try nodes[0].createAPIKey(name: "reader", roles: ["reader"])
        XCTAssertEqual(try TestClient.get("/admin/audit/cluster", port: nodes[0].port, headers: "Authorization: Bearer \(reader)\r\n").status, 403)
    }

    // MARK: Quarantine

    func testAPluginQuarantinedOnOneInstanceIsNotStartedByAnother() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        // Instance 0 starts with the plugin quarantined by its supervisor (its data directory's file).
        let data = work.appendingPathComponent("instance0/data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try Data(#"{"bus-probe": {"reason": "3 crashes within 300 s", "since": "2026-12-07T00:00:00Z", "crashes": []}}"#.utf8)
            .write(to: data.appendingPathComponent("quarantine.json"))
        let first = try instances(1, server, prefix: "quarantine:", work: work)
        defer { for node in first { _ = node.stop() } }
        XCTAssertTrue(try server.cli("HGET", "quarantine:quarantine", "bus-probe").hasPrefix("3 crashes within 300 s"))
        // Instance 1 (no file of its own) does not start it either.
        let secondWork = work.appendingPathComponent("second")
        let second = try instances(1, server, prefix: "quarantine:", work: secondWork)
        defer { for node in second { _ = node.stop() } }
        let entry = try XCTUnwrap(try second[0].pluginsByFile()["libPlexusFixtureBusProbe.so"], second[0].log)
        XCTAssertEqual(entry["state"] as? String, "failed", "\(entry)")
        XCTAssertTrue((entry["reason"] as? String ?? "").contains("on another instance of the cluster: 3 crashes within 300 s"), "\(entry)")
        XCTAssertEqual(try second[0].request("POST", "/api/v1/probe/upper", body: Array("x".utf8)).status, 404)
    }

    // MARK: Rate limits

    func testARateLimitOfNPerWindowAdmitsExactlyNAcrossAllThreeInstances() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(3, server, prefix: "limits:", work: work, settings: """
            [rate_limits.catalogue]
            requests = 10
            window_s = 3600
            applies_to = "*"
            key = "client"
            """)
        defer { for node in nodes { _ = node.stop() } }
        var admitted = 0, refused: [TestResponse] = []
        for n in 0..<30 {
            let response = try nodes[n % 3].get("/api/v1/events/catalogue")
            if response.status == 200 { admitted += 1 } else { refused.append(response) }
        }
        XCTAssertEqual(admitted, 10, "10 per window across the cluster, not 10 per instance")
        XCTAssertEqual(refused.count, 20)
        for response in refused {
            XCTAssertEqual(response.status, 429, response.text)
            XCTAssertNotNil(response.header("retry-after"))
        }
        XCTAssertTrue(refused.contains { $0.text.contains("across the cluster") }, "the shared bucket refused: \(refused.first?.text ?? "")")
    }

    // MARK: Redis going away

    func testWhileRedisIsDownPublishesFailWith503AndNoAcknowledgedEventIsLostAcrossItsRestart() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(2, server, prefix: "restart:", work: work)
        defer { for node in nodes { _ = node.stop() } }
        let stream = try openStream(nodes[1], "topic=ledger.%23")
        var acknowledged: [String] = []
        for n in 0..<20 {
            let response = try publish(nodes[n % 2], ["topic": "ledger.entry", "payload": ["n": n], "durable": true])
            XCTAssertEqual(response.status, 202, response.text)
            if let id = json(response)["id"] as? String { acknowledged.append(id) }
        }
        server.stop()
        var refused: TestResponse?
        let downDeadline = Date().addingTimeInterval(10)
        repeat {
            let response = try publish(nodes[0], ["topic": "ledger.entry", "payload": ["n": -1], "durable": true])
            if response.status == 202, let id = json(response)["id"] as? String { acknowledged.append(id) } else { refused = response }
        } while refused == nil && Date() < downDeadline
        let problem = try XCTUnwrap(refused, "publishes kept succeeding with Redis down")
        XCTAssertEqual(problem.status, 503)
        XCTAssertEqual(problem.header("content-type"), "application/problem+json")
        XCTAssertTrue(problem.text.contains("Redis"), problem.text)
        // The other instance notices on its own (its connections' EOF, or the next command's failure).
        var live = try publish(nodes[1], ["topic": "ledger.entry", "payload": ["n": -2]])
        let liveDeadline = Date().addingTimeInterval(10)
        while live.status != 503 && Date() < liveDeadline {
            usleep(20_000)
            live = try publish(nodes[1], ["topic": "ledger.entry", "payload": ["n": -2]])
        }
        XCTAssertEqual(live.status, 503, "a live publish is refused too: " + live.text)
        // The SSE client is told (a comment); read raw chunks until it comes.
        var told = false
        let tellDeadline = Date().addingTimeInterval(10)
        while !told && Date() < tellDeadline, let chunk = try stream.client.readChunk() {
            told = String(decoding: chunk, as: UTF8.self).contains(": cluster: Redis unreachable")
        }
        XCTAssertTrue(told, "the live client was not told that Redis is down")

        try server.start()
        // Each instance reconnects on its own backoff (at most 5 s apart by default).
        let upDeadline = Date().addingTimeInterval(15)
        for (index, node) in nodes.enumerated() {
            var resumed = false
            while !resumed && Date() < upDeadline {
                let response = try publish(node, ["topic": "ledger.entry", "payload": ["n": 100 + index], "durable": true])
                if response.status == 202, let id = json(response)["id"] as? String {
                    acknowledged.append(id)
                    resumed = true
                } else {
                    XCTAssertEqual(response.status, 503, response.text)
                    usleep(100_000)
                }
            }
            XCTAssertTrue(resumed, "publishing through instance \(index) did not resume after Redis came back")
        }
        for n in 0..<10 {
            let response = try publish(nodes[1], ["topic": "ledger.entry", "payload": ["n": 200 + n], "durable": true])
            XCTAssertEqual(response.status, 202, response.text)
            if let id = json(response)["id"] as? String { acknowledged.append(id) }
        }
        // Last-Event-ID resume on another instance than the one that took the publishes.
        let resumed = try TestClient(port: nodes[1].port, timeoutSeconds: 10)
        try resumed.send("GET /api/v1/events/stream?topic=ledger.%23 HTTP/1.1\r\nHost: t\r\n\(nodes[1].authorized(""))Last-Event-ID: \(acknowledged[0])\r\n\r\n")
        XCTAssertEqual(try resumed.readHead().status, 200)
        let replayed = SSEReader(client: resumed)
        for expected in acknowledged.dropFirst().prefix(5) {
            XCTAssertEqual(try replayed.next().id, expected, "resumed in stream order after Last-Event-ID")
        }
        let replay = try nodes[1].get("/api/v1/events?topic=ledger.%23&limit=1000")
        XCTAssertEqual(replay.status, 200, replay.text)
        let stored = ((try? JSONSerialization.jsonObject(with: Data(replay.body))) as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        XCTAssertEqual(Set(acknowledged).subtracting(stored), [], "acknowledged events lost across the Redis restart")
        XCTAssertEqual(stored.count, Set(stored).count, "no event stored twice")
    }
}
