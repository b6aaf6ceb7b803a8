import Foundation
@testable import PlexusStorage
import PostgresTestSupport
import XCTest

/// The change feed after its LISTEN connection was lost (issue 21): the changes committed through
/// another instance while the listener was away are reported once it listens again, each once.
final class ChangeFeedCatchUpTests: XCTestCase {
    private func open(_ url: String) async throws -> StorageEngine {
        try await StorageEngine.open(pluginName: "gaps", postgres: PostgresSettings(url: url, poolSize: 2), configuration: testConfiguration())
    }

    /// The pids of the database's LISTEN connections.
    private func listeners(_ cluster: PostgresTestCluster, _ database: String) throws -> [String] {
        try cluster.execute("SELECT pid FROM pg_stat_activity WHERE datname = '\(database)' AND application_name = 'plexus:gaps listen'")
    }

    func testChangesCommittedWhileTheListenerWasDownAreReportedOnceAfterItReconnects() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let database = PostgresTestCluster.databaseName(url)
        let listener = try await open(url)
        let writer = try await open(url)
        let batches = Locked<[[StorageChange]]>([])
        listener.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await listener.setChangeListening(true)
        try await writer.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
        try await writer.execute("INSERT INTO items VALUES (1, 'before')")
        try await waitUntil { batches.current.count == 1 }

        // Both engines' LISTEN connections are killed; the writes go on while they are away.
        let before = try listeners(cluster, database)
        XCTAssertEqual(before.count, 2, "one LISTEN connection per engine")
        try cluster.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND application_name = 'plexus:gaps listen'")
        try await waitUntil { ((try? self.listeners(cluster, database)) ?? ["?"]).isEmpty }
        for id in 2...6 { try await writer.execute("INSERT INTO items VALUES (?, 'while down')", [.integer(Int64(id))]) }
        try await writer.transaction { tx in
            try tx.execute("UPDATE items SET name = 'changed' WHERE id = 2")
            try tx.execute("DELETE FROM items WHERE id = 3")
        }

        // It reconnects (within about a second), reports the five inserts and the transaction, then live changes.
        try await waitUntil { batches.current.count >= 7 }
        try await writer.execute("INSERT INTO items VALUES (7, 'after')")
        try await waitUntil { batches.current.count >= 8 }
        XCTAssertEqual(batches.current, [[StorageChange(table: "items", operation: .insert, rowID: 1)]]
            + (2...6).map { [StorageChange(table: "items", operation: .insert, rowID: Int64($0))] }
            + [[StorageChange(table: "items", operation: .update, rowID: 2), StorageChange(table: "items", operation: .delete, rowID: 3)],
               [StorageChange(table: "items", operation: .insert, rowID: 7)]],
            "every committed change once, in order")
        // Both listeners are back (the writer's reconnects on its own pause, maybe after the listener's catch-up).
        try await waitUntil { ((try? self.listeners(cluster, database)) ?? []).count == 2 }
        await listener.close()
        await writer.close()
    }

    /// `seq`s are taken when rows are written, not when transactions commit: a transaction that
    /// wrote first and commits after more than the catch-up window of other changes is still
    /// reported live.
    func testALongTransactionCommittedAfterManyLaterChangesIsStillReported() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let listener = try await open(url)
        let long = try await open(url)
        let bulk = try await open(url)
        let batches = Locked<[[StorageChange]]>([])
        listener.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await listener.setChangeListening(true)
        try await bulk.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
        let written = DispatchSemaphore(value: 0), commit = DispatchSemaphore(value: 0)
        let longTransaction = Task {
            try await long.transaction { tx in
                try tx.execute("INSERT INTO items VALUES (0, 'long')")
                written.signal()
                commit.wait()
            }
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { written.wait(); continuation.resume() }
        }
        let later = Int(PostgresChangeListener.window) + 100
        for id in 1...later { try await bulk.execute("INSERT INTO items VALUES (?, 'later')", [.integer(Int64(id))]) }
        commit.signal()
        try await longTransaction.value
        let long0 = StorageChange(table: "items", operation: .insert, rowID: 0)
        try await waitUntil { batches.current.contains { $0.contains(long0) } }
        try await waitUntil { batches.current.count == later + 1 }
        XCTAssertEqual(Set(batches.current.flatMap { $0.map(\.rowID) }).count, later + 1, "every change once")
        await listener.close()
        await long.close()
        await bulk.close()
    }

    /// The log is pruned by whichever transaction writes (at most once a minute, at most 10,000
    /// rows older than an hour) and by every engine at start (while one listens, so changes are logged).
    func testTheChangeLogIsPrunedByWritersAndAtStartBoundedAndAtMostOnceAMinute() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let writer = try await open(url)
        try await writer.setChangeListening(true)
        try await writer.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
        try await writer.execute("INSERT INTO items SELECT g, 'old' FROM generate_series(1, 10050) g")
        func logged() throws -> Int { Int(try cluster.execute("SELECT count(*) FROM plugin_gaps._plexus_changes", url: url).first ?? "") ?? -1 }
        XCTAssertEqual(try logged(), 10050, "one log row per inserted row, from one statement")
        // The rows are two hours old now, and the last pruning long ago.
        try cluster.execute("UPDATE plugin_gaps._plexus_changes SET at = at - 7200; UPDATE plugin_gaps._plexus_changes_pruned SET at = 0", url: url)

        try await writer.execute("INSERT INTO items VALUES (20000, 'new')")
        XCTAssertEqual(try logged(), 51, "a write pruned 10,000 of the old rows (bounded), kept the rest and the new one")
        try await writer.execute("INSERT INTO items VALUES (20001, 'new')")
        XCTAssertEqual(try logged(), 52, "not again within the minute")

        // An engine's start prunes too (the minute having passed).
        try cluster.execute("UPDATE plugin_gaps._plexus_changes_pruned SET at = 0", url: url)
        let other = try await open(url)
        XCTAssertEqual(try logged(), 2, "the other 50 old rows pruned at start; the two recent ones kept")
        XCTAssertEqual(try cluster.execute("SELECT min(row_id) FROM plugin_gaps._plexus_changes", url: url), ["20000"])
        await other.close()
        await writer.close()
    }

    /// A catch-up reads the log in pages (1,000 rows each), and one that fails is retried (with a
    /// growing pause) until it succeeds, never dropping changes: here the plugin role may not read
    /// the log while 2,500 rows are written (by the administrator), then may again.
    func testAFailedCatchUpIsRetriedAndPagedAndReportsEveryChangeOnce() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let database = PostgresTestCluster.databaseName(url)
        let listener = try await open(url)
        let batches = Locked<[[StorageChange]]>([])
        listener.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await listener.setChangeListening(true)
        try await listener.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
        try await listener.execute("INSERT INTO items VALUES (1, 'before')")
        try await waitUntil { batches.current.count == 1 }
        let role = try XCTUnwrap(try cluster.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'plugin_gaps'", url: url).first)

        try cluster.execute("REVOKE SELECT ON plugin_gaps._plexus_changes FROM \(role)", url: url)
        try cluster.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND application_name = 'plexus:gaps listen'")
        try cluster.execute("INSERT INTO plugin_gaps.items SELECT g, 'while down' FROM generate_series(2, 2501) g", url: url)
        try await Task.sleep(nanoseconds: 2_500_000_000)
        XCTAssertEqual(batches.current.count, 1, "nothing reported while the catch-up query fails")
        try cluster.execute("GRANT SELECT ON plugin_gaps._plexus_changes TO \(role)", url: url)

        try await waitUntil { batches.current.flatMap { $0 }.count >= 2501 }
        try await listener.execute("INSERT INTO items VALUES (9999, 'after')")
        try await waitUntil { batches.current.flatMap { $0 }.count >= 2502 }
        let ids = batches.current.flatMap { $0.map(\.rowID) }
        XCTAssertEqual(ids, Array(1...2501).map(Int64.init) + [9999], "every committed change once, in order")
        await listener.close()
    }
}
