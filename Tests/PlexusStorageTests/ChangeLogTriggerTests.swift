import Foundation
@testable import PlexusStorage
import PostgresTestSupport
import XCTest

/// The cheaper change-log trigger (issue 21): one query per statement, the pruning clock read once
/// per transaction, names qualified instead of a per-call search path, no index on the log's `at`.
final class ChangeLogTriggerTests: XCTestCase {
    private func open(_ url: String) async throws -> StorageEngine {
        try await StorageEngine.open(pluginName: "logcost", postgres: PostgresSettings(url: url, poolSize: 2), configuration: testConfiguration())
    }

    private func logged(_ cluster: PostgresTestCluster, _ url: String) throws -> Int {
        Int(try cluster.execute("SELECT count(*) FROM plugin_logcost._plexus_changes", url: url).first ?? "") ?? -1
    }

    /// A transaction's first logged statement reads the pruning clock; its later statements do not
    /// (the minute passing meanwhile changes nothing), and the next transaction reads it again.
    func testThePruningClockIsReadOncePerTransaction() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let writer = try await open(url)
        try await writer.setChangeListening(true)
        try await writer.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
        try await writer.execute("INSERT INTO items SELECT g, 'old' FROM generate_series(1, 10) g")
        // The ten rows are two hours old; the engine's start pruned a moment ago (nothing to prune then).
        try cluster.execute("UPDATE plugin_logcost._plexus_changes SET at = at - 7200", url: url)

        try await writer.transaction { tx in
            try tx.execute("INSERT INTO items VALUES (100, 'first')")
            // The last pruning is now long ago, but this transaction has read the clock already.
            try cluster.execute("UPDATE plugin_logcost._plexus_changes_pruned SET at = 0", url: url)
            try tx.execute("INSERT INTO items VALUES (101, 'second')")
        }
        XCTAssertEqual(try logged(cluster, url), 12, "not pruned inside the transaction that read the clock before it moved")

        try await writer.execute("INSERT INTO items VALUES (102, 'next')")
        XCTAssertEqual(try logged(cluster, url), 3, "the next transaction read it and pruned the ten old rows")
        XCTAssertEqual(try cluster.execute("SELECT min(row_id) FROM plugin_logcost._plexus_changes", url: url), ["100"])
        await writer.close()
    }

    /// The trigger names the schema's tables in full: a change made by the administrator with
    /// another search path is logged in the plugin's log and reaches the listener; one statement
    /// that changes no row logs nothing.
    func testAChangeUnderAnotherSearchPathIsLoggedAndAStatementChangingNothingIsNot() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let engine = try await open(url)
        let batches = Locked<[[StorageChange]]>([])
        engine.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await engine.setChangeListening(true)
        try await engine.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
        try await engine.execute("INSERT INTO items VALUES (1, 'mine')")
        try await waitUntil { batches.current.count == 1 }

        try cluster.execute("SET search_path = public; UPDATE plugin_logcost.items SET name = 'x' WHERE id = 999", url: url)
        XCTAssertEqual(try logged(cluster, url), 1, "an update of no row logs nothing")
        try cluster.execute("SET search_path = public; INSERT INTO plugin_logcost.items VALUES (2, 'admin'), (3, 'admin')", url: url)
        try await waitUntil { batches.current.count == 2 }
        XCTAssertEqual(batches.current.last, [StorageChange(table: "items", operation: .insert, rowID: 2), StorageChange(table: "items", operation: .insert, rowID: 3)])
        XCTAssertEqual(try logged(cluster, url), 3)
        await engine.close()
    }

    /// An earlier version's index on the log's `at` (every write paid for it) is dropped at open;
    /// pruning reads the oldest rows by `seq` and deletes only those older than the retention.
    func testTheOldIndexIsDroppedAndPruningKeepsRecentRowsAmongTheOldest() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let first = try await open(url)
        try await first.setChangeListening(true)
        try await first.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
        try cluster.execute("CREATE INDEX _plexus_changes_at ON plugin_logcost._plexus_changes(at)", url: url)
        try await first.execute("INSERT INTO items SELECT g, 'row' FROM generate_series(1, 6) g")
        // Rows 1, 3 and 5 are old; 2, 4 and 6 recent: only the old ones go, whatever their place.
        try cluster.execute("UPDATE plugin_logcost._plexus_changes SET at = at - 7200 WHERE row_id % 2 = 1; UPDATE plugin_logcost._plexus_changes_pruned SET at = 0", url: url)
        let second = try await open(url)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM pg_indexes WHERE schemaname = 'plugin_logcost' AND indexname = '_plexus_changes_at'", url: url), ["0"])
        XCTAssertEqual(try cluster.execute("SELECT row_id FROM plugin_logcost._plexus_changes ORDER BY seq", url: url), ["2", "4", "6"])
        await second.close()
        await first.close()
    }
}
