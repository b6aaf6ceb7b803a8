import Foundation
import PlexusTesting
import XCTest
import WebSocketTestClient

/// Requests whose head waits for the shared rate-limit decision (the connection holds them):
/// what happens to the socket after the decision (review of the cluster-on-Redis change, B1, B5, R1).
extension ClusterLiveTests {
    /// B1: a WebSocket upgrade whose head was held still reads its client's frames afterwards.
    func testAWebSocketBehindASharedRateLimitForEveryRouteStillReadsItsClientsFrames() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(1, server, prefix: "heldws:", work: work, settings: """
            [rate_limits.everything]
            requests = 1000
            window_s = 3600
            applies_to = "*"
            key = "client"
            """)
        defer { for node in nodes { _ = node.stop() } }
        let client = try WebSocketClient.open(port: nodes[0].port, credential: nodes[0].credential ?? nodes[0].adminKey)
        try client.sendFrame(WebSocketClient.ping, Array("are you there".utf8))
        var frame = try client.readFrame()
        while frame.opcode == WebSocketClient.ping { frame = try client.readFrame() }
        XCTAssertEqual(frame.opcode, WebSocketClient.pong, "the server read the client's ping after the held upgrade")
        XCTAssertEqual(frame.text, "are you there")
        try client.sendClose(1000)
        frame = try client.readFrame()
        while frame.opcode == WebSocketClient.ping { frame = try client.readFrame() }
        XCTAssertEqual(frame.opcode, WebSocketClient.close, "the server read the client's close")
    }

    /// B2: a held request waits for a stalled Redis up to the command timeout (then the local
    /// fallback decides), not the client's body timeout: before, the sweeper answered 408 and
    /// freed the connection, and the late decision then touched freed memory.
    func testAHeldRequestWaitsForAStalledRedisUpToTheCommandTimeoutNotTheBodyTimeout() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(1, server, prefix: "heldstall:", work: work, settings: """
            redis_command_timeout_ms = 1500
            [rate_limits.probe]
            requests = 100
            window_s = 3600
            applies_to = "plugin:bus-probe"
            key = "client"
            """, serverSettings: "body_timeout_ms = 300\nbody_deadline_ms = 600\n")
        defer { for node in nodes { _ = node.stop() } }
        let body = "stalled"
        let client = try TestClient(port: nodes[0].port, timeoutSeconds: 15)
        _ = try server.cli("CLIENT", "PAUSE", "3000", "ALL")
        try client.send("POST /api/v1/probe/upper HTTP/1.1\r\nHost: t\r\n\(nodes[0].authorized(""))Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let answer = try client.readResponse()
        XCTAssertEqual(answer.status, 200, "decided by the local fallback at the command timeout, not 408 at the body timeout: \(answer.text)")
        XCTAssertEqual(answer.text, "STALLED")
        _ = try server.cli("CLIENT", "UNPAUSE")
        XCTAssertEqual(try nodes[0].get("/health").status, 200, nodes[0].log)
    }

    /// B1, SSE: a stream whose head was held still notices its client leaving at once (not at
    /// the next heartbeat, here a minute away): its Redis pattern is dropped.
    func testAnSSEStreamBehindASharedRateLimitNoticesItsClientLeavingBeforeTheNextHeartbeat() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(1, server, prefix: "heldsse:", work: work, settings: """
            [rate_limits.everything]
            requests = 1000
            window_s = 3600
            applies_to = "*"
            key = "client"
            [bus]
            sse_heartbeat_ms = 60000
            """)
        defer { for node in nodes { _ = node.stop() } }
        func patterns() throws -> Int { Int(try server.cli("PUBSUB", "NUMPAT").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
        let before = try patterns()
        do {
            let client = try TestClient(port: nodes[0].port)
            try client.send("GET /api/v1/events/stream?topic=heldsse.only HTTP/1.1\r\nHost: t\r\n\(nodes[0].authorized(""))\r\n")
            XCTAssertEqual(try client.readHead().status, 200)
            let deadline = Date().addingTimeInterval(10)
            while try patterns() <= before && Date() < deadline { usleep(50_000) }
            XCTAssertEqual(try patterns(), before + 1, "the stream's pattern is subscribed in Redis")
        }
        // The client is gone (its socket closed): the instance notices and unsubscribes.
        let deadline = Date().addingTimeInterval(10)
        while try patterns() > before && Date() < deadline { usleep(50_000) }
        XCTAssertEqual(try patterns(), before, "the stream outlived its client (it would be noticed only at the next heartbeat)")
    }

    /// R1 and B5: `100 Continue` only after the shared decision admits (a refusal comes without
    /// it), and a held POST behind a full pipeline still reads the rest of its body.
    func testAHeldRequestGetsItsContinueOnlyWhenAdmittedAndReadsItsBodyAfterAFullPipeline() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let nodes = try instances(2, server, prefix: "heldcontinue:", work: work, settings: """
            [rate_limits.probe]
            requests = 3
            window_s = 3600
            applies_to = "plugin:bus-probe"
            key = "client"
            """)
        defer { for node in nodes { _ = node.stop() } }
        let auth = nodes[0].authorized("")
        func head(_ length: Int, expect: Bool = false) -> String {
            "POST /api/v1/probe/upper HTTP/1.1\r\nHost: t\r\n\(auth)\(expect ? "Expect: 100-continue\r\n" : "")Content-Length: \(length)\r\n\r\n"
        }
        // Admitted with `Expect`: 100 Continue, then the body, then the answer.
        let admitted = try TestClient(port: nodes[0].port)
        try admitted.send(head(5, expect: true))
        XCTAssertEqual(try admitted.readResponse().status, 100)
        try admitted.send("hello")
        XCTAssertEqual(try admitted.readResponse().text, "HELLO")
        // B5: 64 pipelined requests, then a held POST with half its body, in one write; the rest
        // of the body comes after the answers. Reading paused for the pipeline must resume.
        let pipelined = try TestClient(port: nodes[0].port, timeoutSeconds: 15)
        let health = "GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
        try pipelined.send(String(repeating: health, count: 64) + head(10) + "abcde")
        for _ in 0..<64 { XCTAssertEqual(try pipelined.readResponse().status, 200) }
        try pipelined.send("fghij")
        let late = try pipelined.readResponse()
        XCTAssertEqual(late.status, 200, late.text)
        XCTAssertEqual(late.text, "ABCDEFGHIJ")
        let third = try TestClient(port: nodes[0].port)
        try third.send(head(1) + "z")
        XCTAssertEqual(try third.readResponse().text, "Z")
        // Exhausted in the cluster (3 taken on instance 0) while instance 1's own buckets still
        // admit, with `Expect`: the shared 429 comes first, with no 100 Continue before it.
        let refused = try TestClient(port: nodes[1].port)
        try refused.send(head(100_000, expect: true))
        let answer = try refused.readResponse()
        XCTAssertEqual(answer.status, 429, "no 100 Continue for a request the shared limit refuses: \(answer.text)")
        XCTAssertTrue(refused.readsEOF())
        XCTAssertTrue(answer.text.contains("across the cluster"), answer.text)
        XCTAssertEqual(try nodes[1].get("/health").status, 200)
    }
}
