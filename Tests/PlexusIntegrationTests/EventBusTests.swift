import Foundation
import PlexusTesting
import XCTest

/// The event bus over HTTP and from inside a plugin, against the real runtime.
final class EventBusTests: XCTestCase {
    private func publish(_ plexus: TestRuntime, _ object: [String: Any]) throws -> TestResponse {
        try plexus.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n",
                           body: Array(try JSONSerialization.data(withJSONObject: object)))
    }

    private func stream(_ plexus: TestRuntime, _ query: String, lastEventID: String? = nil) throws -> SSEReader {
        let client = try TestClient(port: plexus.port)
        try client.send("GET /api/v1/events/stream?\(query) HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\(lastEventID.map { "Last-Event-ID: \($0)\r\n" } ?? "")\r\n")
        let head = try client.readHead()
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Type"), "text/event-stream")
        return SSEReader(client: client)
    }

    private func waitFor(_ what: String, timeout: TimeInterval = 10, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(20_000)
        }
        XCTFail("timed out waiting for \(what)")
    }

    func testLivePublishReachesSSEAndPluginRelaysIt() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureBusProbe.so"], cFixtures: [])
        let reader = try stream(plexus, "topic=probe.%23")
        usleep(100_000)
        XCTAssertEqual(try publish(plexus, ["topic": "probe.in.alpha", "payload": ["n": 1]]).status, 202)
        let first = try reader.next()
        XCTAssertEqual(first.event, "probe.in.alpha")
        XCTAssertEqual((first.json["payload"] as? [String: Any])?["n"] as? Int, 1)
        // The plugin subscribed to probe.in.+ and republished on probe.out.<x>, caused by the first event.
        let relayed = try reader.next()
        XCTAssertEqual(relayed.event, "probe.out.alpha")
        XCTAssertEqual(relayed.json["source"] as? String, "bus-probe")
        XCTAssertEqual(relayed.json["causation_id"] as? String, first.id)
        XCTAssertEqual(relayed.json["schema_version"] as? Int, 2)
        // The plugin's declared topics are in the catalogue.
        let catalogue = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/events/catalogue").body)) as! [[String: Any]]
        XCTAssertEqual(catalogue.first?["topic"] as? String, "probe.out.+")
        XCTAssertEqual(plexus.stop(), 0)
    }

    /// A stream says when its subscriptions are complete: one `event: subscribed` frame without
    /// `id:`, its patterns in the data; an event published after it arrives, in either format.
    func testAStreamSaysWhenItsSubscriptionsAreComplete() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        for format in ["", "&format=message"] {
            let reader = try stream(plexus, "topic=a.%23&topic=b.c\(format)")
            XCTAssertEqual(try reader.subscribed(), ["a.#", "b.c"], format)
            XCTAssertEqual(try publish(plexus, ["topic": "b.c", "payload": ["n": 1]]).status, 202)
            let event = try reader.next()
            XCTAssertNotNil(event.id)
            XCTAssertEqual(format.isEmpty ? event.event : event.json["topic"] as? String, "b.c", format)
        }
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testBadPublishesAreRefusedWithTheField() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        for (body, detail) in [(["topic": "a..b"], "field 'topic'"), (["payload": 1], "field 'topic' is required"),
                               (["topic": "a.b", "durable": "yes"], "field 'durable' must be true or false"),
                               (["topic": "a.#"], "field 'topic'")] as [([String: Any], String)] {
            let response = try publish(plexus, body)
            XCTAssertEqual(response.status, 400, "\(body)")
            XCTAssertTrue(response.text.contains(detail), response.text)
        }
        let badPattern = try plexus.get("/api/v1/events/stream?topic=a.%23.b")
        XCTAssertEqual(badPattern.status, 400)
    }

    func testSSEResumesFromLastEventIDWithNothingMissedOrRepeated() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        var ids: [String] = []
        for n in 0..<10 {
            let response = try publish(plexus, ["topic": "ledger.entry", "payload": ["n": n], "durable": true])
            XCTAssertEqual(response.status, 202)
            ids.append((try JSONSerialization.jsonObject(with: Data(response.body)) as! [String: Any])["id"] as! String)
        }
        XCTAssertEqual(ids, ids.sorted(), "durable ids sort by publish order")
        // A client saw up to the fourth event, disconnected, and comes back with Last-Event-ID.
        let reader = try stream(plexus, "topic=ledger.%23", lastEventID: ids[3])
        var seen: [String] = []
        for _ in 4..<10 { seen.append(try reader.next().id ?? "") }
        XCTAssertEqual(seen, Array(ids[4...]))
        // Live events follow the replay on the same stream.
        _ = try publish(plexus, ["topic": "ledger.entry", "payload": ["n": 10], "durable": true])
        XCTAssertEqual((try reader.next().json["payload"] as? [String: Any])?["n"] as? Int, 10)
        // The durable log can be queried too.
        let query = try plexus.get("/api/v1/events?topic=ledger.%23&since=\(ids[7])&limit=2")
        let page = try JSONSerialization.jsonObject(with: Data(query.body)) as! [[String: Any]]
        XCTAssertEqual(page.map { $0["id"] as! String }, [ids[8], ids[9]])
    }

    func testDurableGroupRetriesThenDeadLettersAndRedrive() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureBusProbe.so"], cFixtures: [],
                                                extra: "[bus]\nmax_attempts = 2\n")
        let good = try publish(plexus, ["topic": "orders.created", "payload": "ok", "durable": true])
        XCTAssertEqual(good.status, 202)
        let bad = try publish(plexus, ["topic": "orders.created", "payload": "fail", "durable": true])
        let badID = (try JSONSerialization.jsonObject(with: Data(bad.body)) as! [String: Any])["id"] as! String
        try waitFor("the good order to be acknowledged") {
            let stats = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/probe/stats").body)) as! [String: Any]
            return stats["acknowledged"] as? Int == 1
        }
        var letters: [[String: Any]] = []
        try waitFor("the failing order to be dead-lettered", timeout: 20) {
            letters = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/events/deadletters?group=probe-orders").body)) as! [[String: Any]]
            return !letters.isEmpty
        }
        XCTAssertEqual(letters.first?["event_id"] as? String, badID)
        let metrics = try plexus.get("/metrics").text
        XCTAssertTrue(metrics.contains(#"plexus_bus_acked_total{group="probe-orders"} 1"#), metrics)
        XCTAssertTrue(metrics.contains(#"plexus_bus_retried_total{group="probe-orders"} 2"#), metrics)
        XCTAssertTrue(metrics.contains("plexus_eventlog_appended"), metrics)
        XCTAssertEqual(letters.first?["attempts"] as? Int, 2)
        XCTAssertTrue((letters.first?["reason"] as? String ?? "").contains("payload asked to fail"))
        // The groups and their counts, for a console that lists them instead of asking for a name.
        let groups = (try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/events/deadletters/groups").body)) as! [String: Any])["groups"] as! [[String: Any]]
        XCTAssertEqual(groups.first { $0["group"] as? String == "probe-orders" }?["dead_letters"] as? Int, 1, "\(groups)")
        let redrive = try plexus.request("POST", "/api/v1/events/deadletters/redrive", body: Array(#"{"group":"probe-orders","id":"\#(badID)"}"#.utf8))
        XCTAssertEqual(redrive.status, 202, redrive.text)
    }

    func testServiceRequestReplyAndFailures() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureBusProbe.so"], cFixtures: [])
        XCTAssertEqual(try plexus.request("POST", "/api/v1/probe/upper", body: Array("shout".utf8)).text, "SHOUT")
        let missing = try plexus.request("POST", "/api/v1/probe/call/nobody.home", body: [])
        XCTAssertEqual(missing.status, 502)
        XCTAssertTrue(missing.text.contains("no running plugin offers service 'nobody.home'"), missing.text)
    }

    func testStalledSSEClientIsDisconnectedAndOthersKeepGoing() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: [])
        let stalled = try TestClient(port: plexus.port)
        try stalled.send("GET /api/v1/events/stream?topic=bulk.%23 HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        let healthy = try stream(plexus, "topic=bulk.%23")
        let big = String(repeating: "x", count: 60_000)
        // The stalled client never reads; its socket buffers fill and the server cuts it off.
        for n in 0..<120 {
            XCTAssertEqual(try publish(plexus, ["topic": "bulk.item", "payload_text": big, "priority": n % 3]).status, 202)
            _ = try healthy.next()
        }
        XCTAssertTrue(stalled.readsEOF(), "the stalled client must have been disconnected")
        XCTAssertEqual(try plexus.get("/health").status, 200)
        let metrics = try plexus.get("/metrics").text
        XCTAssertTrue(metrics.contains("plexus_bus_published_total"), metrics)
    }
}
