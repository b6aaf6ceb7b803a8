import Foundation
import PlexusTesting
import XCTest
import WebSocketTestClient

/// The event bus over WebSocket (`GET /api/v1/events/ws`), against the real runtime and real sockets.
final class WebSocketTests: XCTestCase {
    private func publish(_ plexus: TestRuntime, _ object: [String: Any]) throws -> TestResponse {
        try plexus.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n",
                           body: Array(try JSONSerialization.data(withJSONObject: object)))
    }

    private func subscribe(_ client: WebSocketClient, _ topic: String) throws {
        try client.sendJSON(["op": "subscribe", "topic": topic])
        let reply = try client.nextJSON()
        XCTAssertEqual(reply["op"] as? String, "subscribed", "\(reply)")
        XCTAssertEqual(reply["topic"] as? String, topic)
    }

    /// Reads frames until the server's close; returns its code, then checks the socket ends.
    private func expectClose(_ client: WebSocketClient, _ code: UInt16, file: StaticString = #filePath, line: UInt = #line) throws {
        var frame = try client.readFrame()
        while frame.opcode != WebSocketClient.close { frame = try client.readFrame() }
        XCTAssertEqual(frame.closeCode, code, "close reason: \(frame.text)", file: file, line: line)
        XCTAssertTrue(client.readsEOF(), "the server must close the socket after its close frame", file: file, line: line)
    }

    func testHandshakeAcceptValueAndCloseHandshake() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        let client = try WebSocketClient(port: plexus.port)
        // Send the request and (in the same segment) a first frame: bytes after the head belong to the session.
        var bytes = Array(WebSocketClient.upgradeRequest(credential: plexus.adminKey).utf8)
        let ping: [UInt8] = [0x89, 0x82, 1, 2, 3, 4, UInt8(ascii: "h") ^ 1, UInt8(ascii: "i") ^ 2]
        bytes += ping
        try client.sendRaw(bytes)
        let head = try client.readHead()
        XCTAssertEqual(head.status, 101, "\(head.headers) \(head.text)")
        XCTAssertEqual(head.header("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        XCTAssertEqual(head.header("Upgrade")?.lowercased(), "websocket")
        XCTAssertEqual(head.header("Connection")?.lowercased(), "upgrade")
        let pong = try client.readFrame()
        XCTAssertEqual(pong.opcode, WebSocketClient.pong)
        XCTAssertEqual(pong.text, "hi")
        // Normal closure: the server answers 1000 and closes the socket.
        try client.sendClose(1000, reason: "bye")
        try expectClose(client, 1000)
        XCTAssertEqual(try plexus.get("/health").status, 200)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testBadHandshakesAreRefusedNamingTheHeader() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        // No Upgrade at all: 426 with Upgrade: websocket.
        let plain = try plexus.get("/api/v1/events/ws")
        XCTAssertEqual(plain.status, 426, plain.text)
        XCTAssertEqual(plain.header("Upgrade"), "websocket")
        XCTAssertEqual(plain.header("Content-Type"), "application/problem+json")

        let cases: [(request: String, status: Int, detail: String)] = [
            (WebSocketClient.upgradeRequest(key: "not base64!", credential: plexus.adminKey), 400, "Sec-WebSocket-Key"),
            (WebSocketClient.upgradeRequest(key: "c2hvcnQ=", credential: plexus.adminKey), 400, "Sec-WebSocket-Key"),
            (WebSocketClient.upgradeRequest(version: "8", credential: plexus.adminKey), 400, "Sec-WebSocket-Version"),
            (WebSocketClient.upgradeRequest(connection: "keep-alive", credential: plexus.adminKey), 400, "Connection"),
            (WebSocketClient.upgradeRequest(upgrade: "h2c", credential: plexus.adminKey), 426, "Upgrade"),
            (WebSocketClient.upgradeRequest(path: "/api/v1/events/ws?topic=a.%23.b", credential: plexus.adminKey), 400, "topic"),
            ("GET /api/v1/events/ws HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n", 400, "Sec-WebSocket-Key"),
        ]
        for (request, status, detail) in cases {
            let client = try WebSocketClient(port: plexus.port)
            try client.sendRaw(Array(request.utf8))
            let head = try client.readHead()
            XCTAssertEqual(head.status, status, request)
            XCTAssertTrue(head.text.contains(detail), "\(request) → \(head.text)")
            XCTAssertEqual(head.header("Content-Type"), "application/problem+json")
            if detail == "Sec-WebSocket-Version" { XCTAssertEqual(head.header("Sec-WebSocket-Version"), "13") }
            if request.contains("Connection: Upgrade") {
                // llhttp switched protocols at the head: nothing after it can be parsed as HTTP.
                XCTAssertTrue(client.readsEOF(), "a refused upgrade ends the connection: \(request)")
            }
        }
        XCTAssertEqual(try plexus.get("/health").status, 200)
    }

    func testSubscribeReceiveUnsubscribeAndProtocolErrors() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        let client = try WebSocketClient.open(port: plexus.port, credential: plexus.adminKey)
        try subscribe(client, "orders.#")
        XCTAssertEqual(try publish(plexus, ["topic": "orders.created", "payload": ["n": 1]]).status, 202)
        XCTAssertEqual(try publish(plexus, ["topic": "other.thing", "payload": ["n": 2]]).status, 202)
        XCTAssertEqual(try publish(plexus, ["topic": "orders.paid", "payload_text": "three"]).status, 202)
        let first = try client.nextJSON()
        XCTAssertEqual(first["op"] as? String, "event")
        XCTAssertEqual(first["topic"] as? String, "orders.created")
        XCTAssertEqual((first["payload"] as? [String: Any])?["n"] as? Int, 1)
        XCTAssertNotNil(first["id"] as? String)
        XCTAssertEqual(first["source"] as? String, "http")
        let second = try client.nextJSON()
        XCTAssertEqual(second["topic"] as? String, "orders.paid", "other.thing must not arrive")
        XCTAssertEqual(second["payload_text"] as? String, "three")

        // Publishing over the socket reaches its own subscription.
        try client.sendJSON(["op": "publish", "topic": "orders.shipped", "payload": ["n": 4]])
        var replies = [try client.nextJSON(), try client.nextJSON()]
        replies.sort { ($0["op"] as? String ?? "") < ($1["op"] as? String ?? "") }
        XCTAssertEqual(replies.map { $0["op"] as? String }, ["event", "published"])
        XCTAssertEqual(replies[0]["topic"] as? String, "orders.shipped")
        XCTAssertEqual(replies[1]["id"] as? String, replies[0]["id"] as? String)

        // Bad messages get an error and the session goes on.
        for (message, detail) in [(#"{"op":"dance"}"#, "unknown op 'dance'"), (#"{"op":"subscribe","topic":"a.#.b"}"#, "field 'topic'"),
                                  ("not json", "JSON object"), (#"{"topic":"a"}"#, "field 'op' is required"),
                                  (#"{"op":"unsubscribe","topic":"never.#"}"#, "not subscribed"),
                                  (#"{"op":"publish","topic":"a..b"}"#, "publish: field 'topic'")] {
            try client.sendFrame(WebSocketClient.text, Array(message.utf8))
            let reply = try client.nextJSON()
            XCTAssertEqual(reply["op"] as? String, "error", message)
            XCTAssertTrue((reply["detail"] as? String ?? "").contains(detail), "\(message) → \(reply)")
        }

        // Unsubscribing stops the events: later ones never arrive, a marker subscription still works.
        try client.sendJSON(["op": "unsubscribe", "topic": "orders.#"])
        let unsubscribed = try client.nextJSON()
        XCTAssertEqual(unsubscribed["op"] as? String, "unsubscribed")
        XCTAssertEqual(unsubscribed["topic"] as? String, "orders.#")
        XCTAssertEqual(try publish(plexus, ["topic": "orders.late", "payload": 5]).status, 202)
        try subscribe(client, "marker.#")
        XCTAssertEqual(try publish(plexus, ["topic": "marker.done", "payload": 6]).status, 202)
        let next = try client.nextJSON()
        XCTAssertEqual(next["topic"] as? String, "marker.done", "nothing from orders.# after unsubscribing: \(next)")
        try client.sendClose(1000)
        try expectClose(client, 1000)
    }

    func testPingsBothWays() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [], extra: "[bus]\nws_ping_ms = 300\n")
        let client = try WebSocketClient.open(port: plexus.port, query: "?topic=x.%23", credential: plexus.adminKey)
        XCTAssertEqual(try client.nextJSON()["op"] as? String, "subscribed", "the query's topic subscribes at once")
        try client.sendFrame(WebSocketClient.ping, Array("are you there".utf8))
        var frame = try client.readFrame()
        while frame.opcode == WebSocketClient.ping { frame = try client.readFrame() }
        XCTAssertEqual(frame.opcode, WebSocketClient.pong)
        XCTAssertEqual(frame.text, "are you there")
        // The server pings on its own every ws_ping_ms.
        let started = Date()
        frame = try client.readFrame()
        XCTAssertEqual(frame.opcode, WebSocketClient.ping)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        try client.sendFrame(WebSocketClient.pong, frame.payload)
    }

    func testProtocolViolationsCloseWithTheirCodes() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        // Client frames must be masked.
        let unmasked = try WebSocketClient.open(port: plexus.port, credential: plexus.adminKey)
        try unmasked.sendFrame(WebSocketClient.text, Array(#"{"op":"subscribe","topic":"a.#"}"#.utf8), masked: false)
        try expectClose(unmasked, 1002)
        // Binary frames are unsupported data.
        let binary = try WebSocketClient.open(port: plexus.port, credential: plexus.adminKey)
        try binary.sendFrame(WebSocketClient.binary, [1, 2, 3])
        try expectClose(binary, 1003)
        // A message over the limit is too big.
        let big = try WebSocketClient.open(port: plexus.port, credential: plexus.adminKey)
        try big.sendFrame(WebSocketClient.text, Array(String(repeating: " ", count: 70_000).utf8))
        try expectClose(big, 1009)
        // An unknown opcode is a protocol error too.
        let reserved = try WebSocketClient.open(port: plexus.port, credential: plexus.adminKey)
        try reserved.sendFrame(3, [])
        try expectClose(reserved, 1002)
        XCTAssertEqual(try plexus.get("/health").status, 200)
    }

    func testStalledClientIsDisconnectedWhileAnotherKeepsReceiving() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        let stalled = try WebSocketClient.open(port: plexus.port, receiveBuffer: 4096, credential: plexus.adminKey)
        try subscribe(stalled, "bulk.#")
        let healthy = try WebSocketClient.open(port: plexus.port, credential: plexus.adminKey)
        try subscribe(healthy, "bulk.#")
        let big = String(repeating: "x", count: 60_000)
        // The stalled client never reads again; its socket buffers fill and the server cuts it off.
        for n in 0..<120 {
            XCTAssertEqual(try publish(plexus, ["topic": "bulk.item", "payload_text": big, "priority": n % 3]).status, 202)
            let event = try healthy.nextJSON()
            XCTAssertEqual(event["topic"] as? String, "bulk.item")
            XCTAssertEqual((event["payload_text"] as? String)?.count, 60_000)
        }
        XCTAssertTrue(stalled.readsEOF(), "the stalled client must have been disconnected")
        XCTAssertEqual(try plexus.get("/health").status, 200)
        try healthy.sendClose(1000)
        try expectClose(healthy, 1000)
    }

    func testShutdownSendsGoingAway() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        let client = try WebSocketClient.open(port: plexus.port, credential: plexus.adminKey)
        try subscribe(client, "a.#")
        kill(plexus.process.processIdentifier, SIGTERM)
        var frame = try client.readFrame()
        while frame.opcode != WebSocketClient.close { frame = try client.readFrame() }
        XCTAssertEqual(frame.closeCode, 1001, frame.text)
        try client.sendClose(1001)
        XCTAssertTrue(client.readsEOF())
        plexus.process.waitUntilExit()
        XCTAssertEqual(plexus.process.terminationStatus, 0, plexus.log)
    }
}
