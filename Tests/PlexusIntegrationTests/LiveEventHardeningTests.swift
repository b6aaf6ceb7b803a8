import Foundation
import JWTMinting
import PlexusTesting
import XCTest
import WebSocketTestClient

/// The live-event surface against a hostile client, over the real binary: forged topics,
/// reserved topics, tenant pages, credentials that end while a stream is open, and the
/// single-use tickets browsers open streams with.
final class LiveEventHardeningTests: XCTestCase {
    private static let secret = "live-event-tests-hs256-secret-0123456789abcdef"

    private func publish(_ plexus: TestRuntime, _ object: [String: Any], bearer: String? = nil) throws -> TestResponse {
        try plexus.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n" + (bearer.map { "Authorization: Bearer \($0)\r\n" } ?? ""),
                           body: Array(try JSONSerialization.data(withJSONObject: object)))
    }

    /// Opens an SSE stream with exactly the given headers (no default credential).
    private func openStream(_ plexus: TestRuntime, _ query: String, headers: String) throws -> (status: Int, reader: SSEReader) {
        let client = try TestClient(port: plexus.port)
        try client.send("GET /api/v1/events/stream?\(query) HTTP/1.1\r\nHost: t\r\n\(headers)\r\n")
        let head = try client.readHead()
        return (head.status, SSEReader(client: client))
    }

    private func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    /// Reads until the stream ends; fails when it is still open after `seconds`.
    private func expectStreamEnds(_ reader: SSEReader, within seconds: Double, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            do {
                _ = try reader.next()
            } catch {
                if "\(error)".contains("stream ended") { return }
                if Date() >= deadline { break }
            }
        }
        XCTFail("the stream is still open after \(seconds) s", file: file, line: line)
    }

    /// Reads WebSocket frames until the server's close; returns its code.
    private func closeCode(_ client: WebSocketClient) throws -> (code: UInt16?, reason: String) {
        var frame = try client.readFrame()
        while frame.opcode != WebSocketClient.close { frame = try client.readFrame() }
        return (frame.closeCode, frame.text)
    }

    // MARK: Item: forged topics

    func testTopicsThatCouldForgeFramesAreRefusedAtEveryEntry() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureBusProbe.so"], cFixtures: [])
        let victim = try openStream(plexus, "topic=%23", headers: plexus.authorized(""))
        XCTAssertEqual(victim.status, 200)
        // HTTP publish.
        for (topic, expected) in [("a\nevent: forged\ndata: {}", "U+000A"), ("a\r\nid: 0", "U+000D"), ("a\u{0}b", "U+0000"),
                                  ("a b", "U+0020"), ("a.\u{2028}", "U+2028"), (String(repeating: "x", count: 100_000), "the limit is 256 bytes")] {
            let response = try publish(plexus, ["topic": topic])
            XCTAssertEqual(response.status, 400, topic.prefix(20).debugDescription)
            XCTAssertTrue(response.text.contains(expected), response.text)
            XCTAssertLessThan(response.body.count, 2_000, "the refusal quotes an excerpt, not the topic")
        }
        // HTTP subscribe: the SSE stream and the query.
        XCTAssertEqual(try plexus.get("/api/v1/events/stream?topic=a%0Aevent:%20x").status, 400)
        let query = try plexus.get("/api/v1/events?topic=a.%0D.%23")
        XCTAssertEqual(query.status, 400)
        XCTAssertTrue(query.text.contains("U+000D"), query.text)
        // WebSocket subscribe (query and message) and publish.
        let refusedHandshake = try WebSocketClient(port: plexus.port)
        try refusedHandshake.sendRaw(Array(WebSocketClient.upgradeRequest(path: "/api/v1/events/ws?topic=a%09b", credential: plexus.credential).utf8))
        XCTAssertEqual(try refusedHandshake.readHead().status, 400)
        let socket = try WebSocketClient.open(port: plexus.port, credential: plexus.credential)
        try socket.sendJSON(["op": "subscribe", "topic": "a\n.#"])
        let subscribeError = try socket.nextJSON()
        XCTAssertEqual(subscribeError["op"] as? String, "error")
        XCTAssertTrue((subscribeError["detail"] as? String ?? "").contains("U+000A"), "\(subscribeError)")
        try socket.sendJSON(["op": "publish", "topic": "a\r\nevent: forged"])
        let publishError = try socket.nextJSON()
        XCTAssertEqual(publishError["op"] as? String, "error")
        XCTAssertTrue((publishError["detail"] as? String ?? "").contains("U+000D"), "\(publishError)")
        // A plugin publishing through the host vtable.
        let fromPlugin = try plexus.request("POST", "/api/v1/probe/publish/a%0Aevent:%20forged")
        XCTAssertEqual(fromPlugin.status, 403)
        XCTAssertTrue(fromPlugin.text.contains("U+000A"), fromPlugin.text)
        // A plugin subscribing through the SDK and the host vtable: a NUL would cut the C string short.
        for (pattern, expected) in [("a\u{0}.#", "U+0000"), ("a\n.#", "U+000A"), ("a.\u{200B}", "U+200B")] {
            let response = try plexus.request("POST", "/api/v1/probe/subscribe", body: Array(pattern.utf8))
            XCTAssertEqual(response.status, 403, pattern.debugDescription)
            XCTAssertTrue(response.text.contains(expected), response.text)
        }
        XCTAssertEqual(try plexus.request("POST", "/api/v1/probe/subscribe", body: Array("fine.+".utf8)).status, 200)
        // The victim's stream carries only what was really published, one frame per event.
        XCTAssertEqual(try publish(plexus, ["topic": "clean.topic", "payload_text": "line one\nline two\r\nevent: nope"]).status, 202)
        let frame = try victim.reader.next()
        XCTAssertEqual(frame.event, "clean.topic")
        XCTAssertEqual(frame.json["payload_text"] as? String, "line one\nline two\r\nevent: nope")
        XCTAssertEqual(plexus.stop(), 0)
    }

    // MARK: Item: reserved topics

    func testReservedTopicsAreRefusedToClientsAndToOtherPlugins() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureBusProbe.so", "libPlexusDocCompare.so"], cFixtures: [])
        for topic in ["system.worker.recycled", "system.alert", "deadletter.probe-orders", "storage.doccompare.versions.insert",
                      "document.changed", "probe.out.alpha"] {
            let response = try publish(plexus, ["topic": topic, "payload": ["forged": true]])
            XCTAssertEqual(response.status, 403, "\(topic): \(response.text)")
            XCTAssertTrue(response.text.contains("reserved"), response.text)
        }
        XCTAssertTrue(try publish(plexus, ["topic": "document.changed"]).text.contains("plugin 'doccompare'"))
        XCTAssertEqual(try publish(plexus, ["topic": "orders.created"]).status, 202)
        XCTAssertEqual(try publish(plexus, ["topic": "document.archived"]).status, 202, "only declared topics are reserved")
        // Over WebSocket.
        let socket = try WebSocketClient.open(port: plexus.port, credential: plexus.credential)
        try socket.sendJSON(["op": "publish", "topic": "system.alert", "payload": ["severity": "critical"]])
        let refusal = try socket.nextJSON()
        XCTAssertEqual(refusal["op"] as? String, "error")
        XCTAssertEqual(refusal["status"] as? Int, 403)
        XCTAssertTrue((refusal["detail"] as? String ?? "").contains("reserved"), "\(refusal)")
        // A plugin: its own declared topics yes, another plugin's and the runtime's no.
        XCTAssertEqual(try plexus.request("POST", "/api/v1/probe/publish/probe.out.mine").status, 202)
        // A topic no plugin reserves but the probe's manifest does not declare: refused by a debug
        // runtime, counted by a release one (the test and the runtime are built alike).
        let undeclared = try plexus.request("POST", "/api/v1/probe/publish/orders.free")
        #if DEBUG
        XCTAssertEqual(undeclared.status, 403, undeclared.text)
        XCTAssertTrue(undeclared.text.contains("topic 'orders.free' is not declared by plugin 'bus-probe'"), undeclared.text)
        XCTAssertTrue(undeclared.text.contains("'probe.out.+'"), undeclared.text)
        #else
        XCTAssertEqual(undeclared.status, 202, undeclared.text)
        #endif
        let metrics = try plexus.get("/metrics").text
        XCTAssertTrue(metrics.contains("plexus_bus_undeclared_publishes_total{plugin=\"bus-probe\"} 1\n"), metrics)
        for topic in ["document.changed", "system.circuit.open", "storage.bus-probe.t.insert"] {
            let response = try plexus.request("POST", "/api/v1/probe/publish/\(topic)")
            XCTAssertEqual(response.status, 403, "\(topic): \(response.text)")
            XCTAssertTrue(response.text.contains("reserved"), response.text)
        }
        XCTAssertEqual(plexus.stop(), 0)
    }

    // MARK: Item: tenant pages

    func testEventQueryGivesFullPagesOfTheCallersTenant() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        let acme = try plexus.createAPIKey(name: "acme-app", tenant: "acme")
        let globex = try plexus.createAPIKey(name: "globex-app", tenant: "globex")
        for n in 0..<5 { XCTAssertEqual(try publish(plexus, ["topic": "ledger.entry", "payload": ["n": n], "durable": true], bearer: acme).status, 202) }
        for n in 0..<3 { XCTAssertEqual(try publish(plexus, ["topic": "ledger.entry", "payload": ["g": n], "durable": true], bearer: globex).status, 202) }
        let page = try plexus.get("/api/v1/events?topic=ledger.%23&limit=2", headers: "Authorization: Bearer \(globex)\r\n")
        XCTAssertEqual(page.status, 200)
        let events = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(page.body)) as? [[String: Any]])
        XCTAssertEqual(events.count, 2, page.text)
        XCTAssertEqual(events.compactMap { $0["tenant"] as? String }, ["globex", "globex"])
        XCTAssertEqual(events.compactMap { ($0["payload"] as? [String: Any])?["g"] as? Int }, [0, 1])
        XCTAssertEqual(plexus.stop(), 0)
    }

    // MARK: Item: credentials that end while a stream is open

    func testRevokingAKeyEndsItsOpenSSEAndWebSocketSessions() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        let key = try plexus.createAPIKey(name: "streamer")
        let other = try plexus.createAPIKey(name: "bystander")
        let stream = try openStream(plexus, "topic=%23", headers: "Authorization: Bearer \(key)\r\n")
        XCTAssertEqual(stream.status, 200)
        let bystander = try openStream(plexus, "topic=%23", headers: "Authorization: Bearer \(other)\r\n")
        let socket = try WebSocketClient.open(port: plexus.port, credential: key)
        try socket.sendJSON(["op": "publish", "topic": "before.revoke"])
        XCTAssertEqual(try socket.nextJSON()["op"] as? String, "published")
        XCTAssertEqual(try stream.reader.next().event, "before.revoke")
        XCTAssertEqual(try bystander.reader.next().event, "before.revoke")
        let revoke = try plexus.request("DELETE", "/admin/api-keys/streamer", headers: "Authorization: Bearer \(plexus.adminKey)\r\n")
        XCTAssertEqual(revoke.status, 204, revoke.text)
        let (code, reason) = try closeCode(socket)
        XCTAssertEqual(code, 1008, reason)
        XCTAssertTrue(reason.contains("revoked"), reason)
        // Nothing the socket sends after the close is published.
        try? socket.sendJSON(["op": "publish", "topic": "after.revoke"])
        expectStreamEnds(stream.reader, within: 5)
        XCTAssertEqual(try publish(plexus, ["topic": "still.live"]).status, 202)
        XCTAssertEqual(try bystander.reader.next().event, "still.live", "other keys' streams go on, and nothing was published after the revoke")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testAnExpiringTokenEndsItsStreamWhenItExpires() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [], extra: "[auth]\njwt_hs256_secret = \"\(Self.secret)\"\n")
        let token = try JWTMinter.hs256(JWTMinter.claims(subject: "brief", extra: ["exp": JWTMinter.now + 3]), secret: Self.secret)
        let stream = try openStream(plexus, "topic=%23", headers: "Authorization: Bearer \(token)\r\n")
        XCTAssertEqual(stream.status, 200)
        let socket = try WebSocketClient.open(port: plexus.port, credential: token)
        let started = Date()
        expectStreamEnds(stream.reader, within: 8)
        XCTAssertGreaterThan(Date().timeIntervalSince(started), 1, "not before the token expires")
        let (code, reason) = try closeCode(socket)
        XCTAssertEqual(code, 1008, reason)
        XCTAssertTrue(reason.contains("expired"), reason)
        XCTAssertEqual(plexus.stop(), 0)
    }

    // MARK: Stream tickets and the message format

    private func ticket(_ plexus: TestRuntime, bearer: String? = nil) throws -> String {
        let response = try plexus.request("POST", "/api/v1/events/tickets", headers: bearer.map { "Authorization: Bearer \($0)\r\n" } ?? "")
        XCTAssertEqual(response.status, 201, response.text)
        XCTAssertEqual(json(response)["expires_in"] as? Int, 30)
        return try XCTUnwrap(json(response)["ticket"] as? String)
    }

    func testTicketsOpenOneStreamEachAndAreNeverLogged() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        let acme = try plexus.createAPIKey(name: "browser-app", tenant: "acme")
        XCTAssertEqual(try plexus.request("POST", "/api/v1/events/tickets", anonymous: true).status, 401)
        // SSE with a ticket and the message format: no Authorization header at all.
        let sseTicket = try ticket(plexus, bearer: acme)
        let stream = try openStream(plexus, "topic=orders.%23&format=message&ticket=\(sseTicket)", headers: "")
        XCTAssertEqual(stream.status, 200)
        XCTAssertEqual(try publish(plexus, ["topic": "orders.created", "payload": ["n": 1]], bearer: acme).status, 202)
        XCTAssertEqual(try publish(plexus, ["topic": "orders.other", "payload": ["n": 2], "tenant": "globex"]).status, 202)
        XCTAssertEqual(try publish(plexus, ["topic": "orders.paid", "payload": ["n": 3]], bearer: acme).status, 202)
        let first = try stream.reader.next()
        XCTAssertNil(first.event, "message format: no event line, so EventSource.onmessage sees it")
        XCTAssertEqual(first.json["topic"] as? String, "orders.created")
        XCTAssertEqual(((first.json["data"] as? [String: Any])?["payload"] as? [String: Any])?["n"] as? Int, 1)
        XCTAssertEqual((first.json["data"] as? [String: Any])?["id"] as? String, first.id)
        XCTAssertEqual(try stream.reader.next().json["topic"] as? String, "orders.paid", "the ticket carries the caller's tenant")
        // Single use.
        XCTAssertEqual(try openStream(plexus, "topic=%23&ticket=\(sseTicket)", headers: "").status, 401)
        // WebSocket with a ticket.
        let wsTicket = try ticket(plexus, bearer: acme)
        let socket = try WebSocketClient(port: plexus.port)
        try socket.sendRaw(Array(WebSocketClient.upgradeRequest(path: "/api/v1/events/ws?ticket=\(wsTicket)&topic=orders.%23").utf8))
        XCTAssertEqual(try socket.readHead().status, 101)
        XCTAssertEqual(try socket.nextJSON()["op"] as? String, "subscribed")
        // Only the stream endpoints take tickets.
        let otherTicket = try ticket(plexus, bearer: acme)
        XCTAssertEqual(try plexus.get("/api/v1/events?ticket=\(otherTicket)", anonymous: true).status, 401)
        XCTAssertEqual(try openStream(plexus, "topic=%23&ticket=pxt_forged", headers: "").status, 401)
        // A bad format is named.
        let badFormat = try plexus.get("/api/v1/events/stream?topic=%23&format=xml")
        XCTAssertEqual(badFormat.status, 400)
        XCTAssertTrue(badFormat.text.contains("'format'"), badFormat.text)
        XCTAssertEqual(plexus.stop(), 0)
        for secret in [sseTicket, wsTicket, otherTicket] {
            XCTAssertFalse(plexus.log.contains(secret), "a ticket was logged")
            XCTAssertFalse(plexus.log.contains(String(secret.dropFirst(4).prefix(16))), "part of a ticket was logged")
        }
        XCTAssertTrue(plexus.log.contains("/api/v1/events/stream"), "the access log records the stream requests (without their query)")
    }
}
