import Foundation
import PlexusTesting
import PostgresTestSupport
import WebSocketTestClient
import XCTest

/// The change feed on PostgreSQL runs only while someone subscribes (issue 21), through two real
/// plexus instances on one database: with no subscriber a write logs nothing; a WebSocket client
/// on B subscribed to `storage.notes.#` (its `subscribed` answer comes once the log runs) gets a
/// note created through A; when it goes, the triggers are disabled again.
final class ChangeFeedOnPostgresTests: XCTestCase {
    func testASubscriberOnBSeesAWriteThroughAAndTheLogRunsOnlyWhileItListens() throws {
        let (cluster, url, a, b) = try Repository.twoInstancesOnOneDatabase()
        defer { _ = a.stop(); _ = b.stop() }

        XCTAssertEqual(try a.request("POST", "/api/v1/notes", body: Array("unheard".utf8)).status, 201)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_notes._plexus_changes", url: url), ["0"], "nobody subscribes: nothing logged")
        XCTAssertEqual(try Repository.notesChangeTriggerStates(cluster, url), ["D"])

        let client = try WebSocketClient.open(port: b.port, credential: b.adminKey)
        try client.sendJSON(["op": "subscribe", "topic": "storage.notes.#"])
        let reply = try client.nextJSON()
        XCTAssertEqual(reply["op"] as? String, "subscribed", "\(reply)")
        XCTAssertEqual(try Repository.notesChangeTriggerStates(cluster, url), ["O"], "enabled before the subscription was answered")

        let created = try a.request("POST", "/api/v1/notes", body: Array("heard on B".utf8))
        XCTAssertEqual(created.status, 201, created.text)
        let id = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any])?["id"] as? Int)
        let event = try client.nextJSON()
        XCTAssertEqual(event["op"] as? String, "event", "\(event)")
        XCTAssertEqual(event["topic"] as? String, "storage.notes.notes.insert", "\(event)")
        XCTAssertEqual((event["payload"] as? [String: Any])?["rowid"] as? Int, id, "\(event)")

        // The client goes: B's last subscriber to the topics left, so B leaves and the triggers stop.
        try client.sendClose(1000)
        var disabled = false
        for _ in 0..<200 where !disabled {
            disabled = try Repository.notesChangeTriggerStates(cluster, url) == ["D"]
            if !disabled { usleep(50_000) }
        }
        XCTAssertTrue(disabled, "the triggers were disabled after the last subscriber left")
        let logged = try cluster.execute("SELECT count(*) FROM plugin_notes._plexus_changes", url: url)
        XCTAssertEqual(try a.request("POST", "/api/v1/notes", body: Array("unheard again".utf8)).status, 201)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_notes._plexus_changes", url: url), logged, "not logged")
    }

    /// An SSE client on B gets `event: subscribed` once the log runs (the triggers are enabled by
    /// then), and a note created through A right after it.
    func testAnSSESubscriberOnBIsToldWhenTheLogRuns() throws {
        let (cluster, url, a, b) = try Repository.twoInstancesOnOneDatabase()
        defer { _ = a.stop(); _ = b.stop() }
        XCTAssertEqual(try a.request("POST", "/api/v1/notes", body: Array("unheard".utf8)).status, 201)
        XCTAssertEqual(try Repository.notesChangeTriggerStates(cluster, url), ["D"])

        let client = try TestClient(port: b.port, timeoutSeconds: 10)
        try client.send("GET /api/v1/events/stream?topic=storage.notes.%23 HTTP/1.1\r\nHost: t\r\n\(b.authorized(""))\r\n")
        XCTAssertEqual(try client.readHead().status, 200)
        let reader = SSEReader(client: client)
        XCTAssertEqual(try reader.subscribed(), ["storage.notes.#"])
        XCTAssertEqual(try Repository.notesChangeTriggerStates(cluster, url), ["O"], "enabled before the stream said subscribed")

        let created = try a.request("POST", "/api/v1/notes", body: Array("heard on B".utf8))
        XCTAssertEqual(created.status, 201, created.text)
        let id = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any])?["id"] as? Int)
        let event = try reader.next()
        XCTAssertEqual(event.event, "storage.notes.notes.insert")
        XCTAssertEqual((event.json["payload"] as? [String: Any])?["rowid"] as? Int, id, event.data)
    }
}
