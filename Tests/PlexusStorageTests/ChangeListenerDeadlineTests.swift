import CLibPQ
import Foundation
@testable import PlexusStorage
import PostgresTestSupport
import XCTest

    /// An engine of `plugin` whose one connection goes through `relay` (statement timeout 1 s),
    /// listening to its changes, with table `items` created and row 1 delivered.
    private func listeningThrough(_ relay: StallingRelay, to url: String, port: Int, plugin: String,
                                  configuration: StorageConfiguration) async throws -> (StorageEngine, Locked<[[StorageChange]]>) {
        let relayed = relay.relaying(url, upstreamPort: port)
        XCTAssertNotEqual(relayed, url)
        let listener = try await StorageEngine.open(
            pluginName: plugin, postgres: PostgresSettings(url: relayed, poolSize: 1, statementTimeoutMilliseconds: 1_000),
            configuration: configuration)
        let batches = Locked<[[StorageChange]]>([])
        listener.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await listener.setChangeListening(true)
        try await listener.execute("CREATE TABLE items (id BIGINT PRIMARY KEY)")
        try await listener.execute("INSERT INTO items VALUES (1)")
        try await waitUntil { batches.current.count == 1 }
        return (listener, batches)
    }

    /// Waits until rows 1 to 4 were delivered, checks they came once and in order through a new
    /// connection (`before`: the relay's accepted count when it stalled), then closes `listener`.
    private func assertCaughtUp(_ batches: Locked<[[StorageChange]]>, relay: StallingRelay, newConnectionSince before: Int,
                                closing listener: StorageEngine, after what: String,
                                file: StaticString = #filePath, line: UInt = #line) async throws {
        for _ in 0..<2000 where batches.current.flatMap({ $0 }).count < 4 { try await Task.sleep(nanoseconds: 10_000_000) }
        XCTAssertEqual(batches.current.flatMap { $0.map(\.rowID) }, [1, 2, 3, 4], "every change once, in order, after the \(what)", file: file, line: line)
        XCTAssertGreaterThan(relay.accepted, before, "a new connection was made", file: file, line: line)
        let closed = DispatchSemaphore(value: 0)
        listener.close { _ in closed.signal() }
        _ = closed.wait(timeout: .now() + 10)
    }

/// The change listener's queries have the pool's client deadline (issue 21): a catch-up whose
/// server stops answering mid-query (a relay that carries no byte more, no FIN, no RST) fails
/// once the statement timeout plus 2 s passed; the listener connects again and catches up. An
/// idle one is pinged, so a stalled connection is noticed without a query of its own.
final class ChangeListenerDeadlineTests: XCTestCase {
    func testACatchUpWhoseServerStopsAnsweringFailsAtTheDeadlineAndIsMadeAgain() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let database = PostgresTestCluster.databaseName(url)
        let relay = try StallingRelay(upstreamPort: cluster.port)
        defer { relay.stop() }
        let (listener, batches) = try await listeningThrough(relay, to: url, port: cluster.port, plugin: "stall", configuration: testConfiguration())

        // The log is locked, so the listener's catch-up after its connection was killed waits in a query.
        let holder = PQconnectdb(url)
        defer { PQfinish(holder) }
        XCTAssertEqual(PQstatus(holder), CONNECTION_OK)
        let locked = PQexec(holder, "BEGIN; LOCK TABLE plugin_stall._plexus_changes IN ACCESS EXCLUSIVE MODE")
        XCTAssertEqual(PQresultStatus(locked), PGRES_COMMAND_OK)
        PQclear(locked)
        let listening = "application_name = 'plexus:stall listen' AND datname = '\(database)'"
        try cluster.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE \(listening)")
        var waiting = false
        for _ in 0..<500 where !waiting {
            let rows = try cluster.execute("SELECT count(*) FROM pg_stat_activity WHERE \(listening) AND wait_event_type = 'Lock'")
            waiting = rows.first.flatMap { Int($0) }.map { $0 > 0 } ?? false
            if !waiting { usleep(20_000) }
        }
        XCTAssertTrue(waiting, "the reconnected listener's catch-up waits for the log")
        // The server's answers no longer reach the listener; the log is free again and written.
        relay.stall()
        usleep(200_000)  // a relay thread inside its 50 ms poll when stalled may still forward what arrives then
        PQclear(PQexec(holder, "ROLLBACK"))
        let before = relay.accepted
        // Written by another session (the administrator: the only LISTEN connection is the listener's).
        for id in 2...4 { try cluster.execute("INSERT INTO plugin_stall.items VALUES (\(id))", url: url) }

        // Within the deadline (1 s + 2 s) and a reconnect, the catch-up is made again and reports them.
        try await assertCaughtUp(batches, relay: relay, newConnectionSince: before, closing: listener, after: "stalled catch-up")
    }

    /// An idle LISTEN connection whose server stops answering while the relay still holds the
    /// connection (nothing is lost, so no error ever arrives) is pinged after half a second of
    /// silence: the ping fails at the deadline (1 s + 2 s), the listener reconnects and catches up
    /// the writes it was not told about.
    func testAnIdleListenerBehindAStalledRelayNoticesAtItsPingAndCatchesUp() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let relay = try StallingRelay(upstreamPort: cluster.port)
        defer { relay.stop() }
        var configuration = testConfiguration()
        configuration.changeListenerCheckInterval = 0.5
        let (listener, batches) = try await listeningThrough(relay, to: url, port: cluster.port, plugin: "idle", configuration: configuration)

        relay.stall()
        usleep(200_000)  // a relay thread inside its 50 ms poll when stalled may still forward what arrives then
        let before = relay.accepted
        // Written by the administrator, not through the relay; the notifications stop at the relay.
        for id in 2...4 { try cluster.execute("INSERT INTO plugin_idle.items VALUES (\(id))", url: url) }

        try await assertCaughtUp(batches, relay: relay, newConnectionSince: before, closing: listener, after: "stalled connection")
    }
}
