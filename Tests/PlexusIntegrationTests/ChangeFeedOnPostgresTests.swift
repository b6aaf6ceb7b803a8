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
    private func triggerStates(_ cluster: PostgresTestCluster, _ url: String) throws -> Set<String> {
        Set(try cluster.execute("""
            SELECT g.tgenabled FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
            WHERE c.relnamespace = 'plugin_notes'::regnamespace AND g.tgname LIKE '\\_plexus\\_changes%'
            """, url: url))
    }

    /// Two plexus instances with the notes fixture on one new database of the test cluster.
    private func twoInstancesOnOneDatabase() throws -> (PostgresTestCluster, String, TestRuntime, TestRuntime) {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: [], extra: extra)
        do {
            return (cluster, url, a, try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: [], extra: extra))
        } catch {
            _ = a.stop()
            throw error
        }
    }

    func testASubscriberOnBSeesAWriteThroughAAndTheLogRunsOnlyWhileItListens() throws {
        let (cluster, url, a, b) = try twoInstancesOnOneDatabase()
        defer { _ = a.stop(); _ = b.stop() }

        XCTAssertEqual(try a.request("POST", "/api/v1/notes", body: Array("unheard".utf8)).status, 201)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_notes._plexus_changes", url: url), ["0"], "nobody subscribes: nothing logged")
        XCTAssertEqual(try triggerStates(cluster, url), ["D"])

        let client = try WebSocketClient.open(port: b.port, credential: b.adminKey)
        try client.sendJSON(["op": "subscribe", "topic": "storage.notes.#"])
        let reply = try client.nextJSON()
        XCTAssertEqual(reply["op"] as? String, "subscribed", "\(reply)")
        XCTAssertEqual(try triggerStates(cluster, url), ["O"], "enabled before the subscription was answered")

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
            disabled = try triggerStates(cluster, url) == ["D"]
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
        let (cluster, url, a, b) = try twoInstancesOnOneDatabase()
        defer { _ = a.stop(); _ = b.stop() }
        XCTAssertEqual(try a.request("POST", "/api/v1/notes", body: Array("unheard".utf8)).status, 201)
        XCTAssertEqual(try triggerStates(cluster, url), ["D"])

        let client = try TestClient(port: b.port, timeoutSeconds: 10)
        try client.send("GET /api/v1/events/stream?topic=storage.notes.%23 HTTP/1.1\r\nHost: t\r\n\(b.authorized(""))\r\n")
        XCTAssertEqual(try client.readHead().status, 200)
        let reader = SSEReader(client: client)
        XCTAssertEqual(try reader.subscribed(), ["storage.notes.#"])
        XCTAssertEqual(try triggerStates(cluster, url), ["O"], "enabled before the stream said subscribed")

        let created = try a.request("POST", "/api/v1/notes", body: Array("heard on B".utf8))
        XCTAssertEqual(created.status, 201, created.text)
        let id = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any])?["id"] as? Int)
        let event = try reader.next()
        XCTAssertEqual(event.event, "storage.notes.notes.insert")
        XCTAssertEqual((event.json["payload"] as? [String: Any])?["rowid"] as? Int, id, event.data)
    }
}
