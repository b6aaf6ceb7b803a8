import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// A plugin's subscription over the C ABI says when it is complete (ABI 1.10 `ready`,
/// `Subscription.ready()` in the SDK): the bus-probe fixture's `POST /api/v1/probe/watch`
/// subscribes and answers only after `ready()` returned. On PostgreSQL a pattern over
/// `storage.notes.…` is complete once the notes change log runs, so a note created through
/// another instance right after the answer reaches the plugin; on SQLite it is complete at once.
final class SubscriptionReadyLiveTests: XCTestCase {
    /// What the probe's watch subscriptions received, polled until `count` arrived (or 10 s).
    private func watched(_ plexus: TestRuntime, count: Int) throws -> [[String: String]] {
        var received: [[String: String]] = []
        for _ in 0..<200 {
            let response = try plexus.get("/api/v1/probe/watched")
            XCTAssertEqual(response.status, 200, response.text)
            received = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: String]] ?? []
            if received.count >= count { break }
            usleep(50_000)
        }
        return received
    }

    func testAPluginsSubscriptionIsReadyOnlyOnceTheLogRunsAndThenSeesAWriteThroughAnotherInstance() throws {
        let (cluster, url, a, b) = try Repository.twoInstancesOnOneDatabase(bPlugins: ["libPlexusFixtureNotes.so", "libPlexusFixtureBusProbe.so"])
        defer { _ = a.stop(); _ = b.stop() }
        XCTAssertEqual(try a.request("POST", "/api/v1/notes", body: Array("before".utf8)).status, 201)
        XCTAssertEqual(try Repository.notesChangeTriggerStates(cluster, url), ["D"], "nobody subscribes yet")

        let watch = try b.request("POST", "/api/v1/probe/watch", body: Array("storage.notes.#".utf8))
        XCTAssertEqual(watch.status, 200, watch.text)
        XCTAssertEqual(try Repository.notesChangeTriggerStates(cluster, url), ["O"], "the change log ran before the plugin was told ready")

        let created = try a.request("POST", "/api/v1/notes", body: Array("right after ready".utf8))
        XCTAssertEqual(created.status, 201, created.text)
        let received = try watched(b, count: 1)
        XCTAssertEqual(received.map { $0["topic"] }, ["storage.notes.notes.insert"], "\(received)")
    }

    /// While a transaction holds the notes table, the change log cannot start (enabling its
    /// triggers waits for the writes in flight), so the plugin's `ready()` must not return: the
    /// watch is answered only after the transaction ends. A runtime that called `ready` before the
    /// log runs answers at once, and fails here.
    func testAPluginsSubscriptionIsNotReadyWhileTheChangeLogWaits() throws {
        let (cluster, url, a, b) = try Repository.twoInstancesOnOneDatabase(bPlugins: ["libPlexusFixtureNotes.so", "libPlexusFixtureBusProbe.so"])
        defer { _ = a.stop(); _ = b.stop() }
        XCTAssertEqual(try b.request("POST", "/api/v1/notes", body: Array("opens B's notes storage".utf8)).status, 201)

        let holder = try PostgresTestSession(url: url)
        try holder.execute("BEGIN; LOCK TABLE plugin_notes.notes IN ROW EXCLUSIVE MODE")
        let answered = DispatchSemaphore(value: 0)
        let outcome = WatchOutcome()
        let (port, credential) = (b.port, b.authorized(""))
        Thread.detachNewThread {
            outcome.response = try? TestClient.request("POST", "/api/v1/probe/watch", port: port, headers: credential,
                                                       body: Array("storage.notes.#".utf8))
            answered.signal()
        }
        // Wait until the runtime's enabling of the triggers waits for the held table.
        var waiting = false
        for _ in 0..<400 where !waiting {
            waiting = try cluster.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                          + "AND query LIKE '%_plexus_feed_listen%'", url: url) != ["0"]
            if !waiting { usleep(25_000) }
        }
        XCTAssertTrue(waiting, "the change log's start waits for the held table")
        let early = answered.wait(timeout: .now() + 1) == .success
        XCTAssertFalse(early, "ready() returned while the change log could not run")
        XCTAssertEqual(try Repository.notesChangeTriggerStates(cluster, url), ["D"])

        try holder.execute("COMMIT")
        if !early { XCTAssertEqual(answered.wait(timeout: .now() + 30), .success) }
        XCTAssertEqual(outcome.response?.status, 200, outcome.response?.text ?? "no answer")
        XCTAssertEqual(try Repository.notesChangeTriggerStates(cluster, url), ["O"])
        XCTAssertEqual(try a.request("POST", "/api/v1/notes", body: Array("after ready".utf8)).status, 201)
        XCTAssertEqual(try watched(b, count: 1).map { $0["topic"] }, ["storage.notes.notes.insert"])
    }

    /// A change log that cannot be started (enabling its triggers outlasts the statement timeout
    /// while a transaction holds the table) is reported: `ready()` throws with a storage status
    /// (the probe answers 503), instead of returning as if the subscription were complete.
    func testAPluginIsToldWhenTheChangeLogCouldNotStart() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\npostgres_statement_timeout_ms = 1000\n"
        let b = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so", "libPlexusFixtureBusProbe.so"], cFixtures: [], extra: extra)
        defer { _ = b.stop() }
        XCTAssertEqual(try b.request("POST", "/api/v1/notes", body: Array("opens B's notes storage".utf8)).status, 201)

        let holder = try PostgresTestSession(url: url)
        try holder.execute("BEGIN; LOCK TABLE plugin_notes.notes IN ROW EXCLUSIVE MODE")
        let watch = try b.request("POST", "/api/v1/probe/watch", body: Array("storage.notes.#".utf8))
        try holder.execute("COMMIT")
        XCTAssertEqual(watch.status, 503, watch.text)
        XCTAssertTrue(watch.text.contains("is not complete: the change log could not be started"), watch.text)
        XCTAssertTrue(watch.text.contains("[status 32]"), "PLEXUS_E_STORAGE_BUSY: \(watch.text)")
    }

    func testOnSQLiteAPluginsSubscriptionIsReadyAtOnceAndSeesTheNextWrite() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so", "libPlexusFixtureBusProbe.so"], cFixtures: [])
        defer { _ = plexus.stop() }
        let watch = try plexus.request("POST", "/api/v1/probe/watch", body: Array("storage.notes.#".utf8))
        XCTAssertEqual(watch.status, 200, watch.text)
        XCTAssertEqual(try plexus.request("POST", "/api/v1/notes", body: Array("next".utf8)).status, 201)
        let received = try watched(plexus, count: 1)
        XCTAssertEqual(received.map { $0["topic"] }, ["storage.notes.notes.insert"], "\(received)")
        // A pattern the runtime refuses is answered 403, and nothing waits for it.
        XCTAssertEqual(try plexus.request("POST", "/api/v1/probe/watch", body: Array("bad..pattern".utf8)).status, 403)
    }
}

/// The answer a watch request got on its own thread (read after its semaphore is signalled).
private final class WatchOutcome: @unchecked Sendable {
    var response: TestResponse?
}
