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
        XCTAssertEqual(try listeners(cluster, database).count, 2, "both listeners are back")
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
}
