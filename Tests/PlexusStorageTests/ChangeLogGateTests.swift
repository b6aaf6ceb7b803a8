import Foundation
@testable import PlexusStorage
import PostgresTestSupport
import XCTest

/// The change log runs only while someone listens (issue 21): the change-log triggers are
/// disabled while no engine on the database holds a live listener lease, enabled when one asks
/// (its `setChangeListening(true)` completes after the enabling commit), and disabled again when
/// the last one leaves or its lease expires.
final class ChangeLogGateTests: XCTestCase {
    private func open(_ url: String, checkEvery interval: TimeInterval = 30, leaseClock: ManualClock? = nil) async throws -> StorageEngine {
        var configuration = testConfiguration()
        configuration.changeListenerCheckInterval = interval
        if let leaseClock { configuration.changeListenerClock = { leaseClock.date.timeIntervalSince1970 } }
        return try await StorageEngine.open(pluginName: "gate", postgres: PostgresSettings(url: url, poolSize: 3), configuration: configuration)
    }

    private func logged(_ cluster: PostgresTestCluster, _ url: String) throws -> Int {
        Int(try cluster.execute("SELECT count(*) FROM plugin_gate._plexus_changes", url: url).first ?? "") ?? -1
    }

    /// The states of the change triggers of `plugin_gate`'s tables ('O' enabled, 'D' disabled), one per trigger.
    private func triggerStates(_ cluster: PostgresTestCluster, _ url: String) throws -> Set<String> {
        Set(try cluster.execute("""
            SELECT g.tgenabled FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
            WHERE c.relnamespace = 'plugin_gate'::regnamespace AND g.tgname LIKE '\\_plexus\\_changes%'
            """, url: url))
    }

    func testWithNobodyListeningWritesLogNothing() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let writer = try await open(url)
        try await writer.migrate([Migration(version: 1, sql: "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")])
        try await writer.execute("CREATE TABLE more (id BIGINT PRIMARY KEY)")
        try await writer.execute("INSERT INTO items VALUES (1, 'a'), (2, 'b')")
        try await writer.transaction { tx in
            try tx.execute("UPDATE items SET name = 'c' WHERE id = 1")
            try tx.execute("DELETE FROM items WHERE id = 2")
            try tx.execute("INSERT INTO more VALUES (3)")
        }
        XCTAssertEqual(try logged(cluster, url), 0, "nothing logged")
        XCTAssertEqual(try triggerStates(cluster, url), ["D"], "the triggers exist, disabled")
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid WHERE c.relnamespace = 'plugin_gate'::regnamespace AND g.tgname LIKE '\\_plexus\\_changes%'", url: url), ["6"])
        await writer.close()
    }

    /// An instance of the previous version still running on the schema (a handover, a rolling
    /// upgrade) calls the two-argument feed functions: they still answer once this version has
    /// opened the schema, enabling and disabling the triggers as before.
    func testThePreviousVersionsFeedCallsStillWork() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let engine = try await open(url)
        try await engine.execute("CREATE TABLE items (id BIGINT PRIMARY KEY)")
        XCTAssertEqual(try triggerStates(cluster, url), ["D"])
        XCTAssertEqual(try cluster.execute("SELECT plugin_gate._plexus_feed_listen('old-instance', 3600)", url: url).count, 1)
        XCTAssertEqual(try triggerStates(cluster, url), ["O"], "the old listen enabled the triggers")
        XCTAssertEqual(try cluster.execute("SELECT listener FROM plugin_gate._plexus_listeners", url: url), ["old-instance"])
        _ = try cluster.execute("SELECT plugin_gate._plexus_feed_leave('old-instance')", url: url)
        XCTAssertEqual(try triggerStates(cluster, url), ["D"], "the old leave disabled them again")
        await engine.close()
    }

    /// B listens; writes made through A (to a table that existed, and to one a migration creates
    /// while B listens) reach B. Then B leaves: the triggers are disabled and nothing more is logged.
    func testAListenerOnBSeesWritesThroughAUntilItLeaves() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let a = try await open(url), b = try await open(url)
        try await a.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT)")
        try await a.execute("INSERT INTO items VALUES (1, 'before anyone listens')")
        let batches = Locked<[[StorageChange]]>([])
        b.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await b.setChangeListening(true)
        XCTAssertEqual(try triggerStates(cluster, url), ["O"], "enabled once the call completed")
        XCTAssertEqual(try cluster.execute("SELECT listener FROM plugin_gate._plexus_listeners", url: url), [try XCTUnwrap(b.listenerID)])

        try await a.execute("INSERT INTO items VALUES (2, 'through A')")
        try await a.migrate([Migration(version: 1, sql: "CREATE TABLE later (id BIGINT PRIMARY KEY)")])
        try await a.execute("INSERT INTO later VALUES (3)")
        try await waitUntil { batches.current.count == 2 }
        XCTAssertEqual(batches.current, [[StorageChange(table: "items", operation: .insert, rowID: 2)], [StorageChange(table: "later", operation: .insert, rowID: 3)]])
        XCTAssertEqual(try triggerStates(cluster, url), ["O"], "the migrated table's triggers are enabled too")

        try await b.setChangeListening(false)
        XCTAssertEqual(try triggerStates(cluster, url), ["D"], "the last listener left: disabled")
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_gate._plexus_listeners", url: url), ["0"])
        let before = try logged(cluster, url)
        try await a.execute("INSERT INTO items VALUES (4, 'nobody listens')")
        XCTAssertEqual(try logged(cluster, url), before, "not logged")

        // Listening again, then closing the engine, leaves too.
        try await b.setChangeListening(true)
        XCTAssertEqual(try triggerStates(cluster, url), ["O"])
        await b.close()
        XCTAssertEqual(try triggerStates(cluster, url), ["D"], "closing the listening engine left")
        await a.close()
    }

    /// A listener that stops renewing because its instance crashed (its LISTEN session is gone)
    /// keeps the log running until its lease (the default: 4 renewals of 30 s) runs out; then the
    /// next engine's check disables the triggers. Two listeners: one leaving does not stop the
    /// other's log. The lease clock is the test's.
    func testACrashedListenersLeaseEndsWithinMinutesAndOneOfTwoLeavingDoesNot() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let clock = ManualClock()
        let checker = try await open(url, checkEvery: 0.2, leaseClock: clock)
        let crashed = try await open(url, checkEvery: 0, leaseClock: clock), other = try await open(url, checkEvery: 0, leaseClock: clock)
        try await checker.execute("CREATE TABLE items (id BIGINT PRIMARY KEY)")
        try await crashed.setChangeListening(true)
        try await other.setChangeListening(true)
        try await other.setChangeListening(false)
        XCTAssertEqual(try triggerStates(cluster, url), ["O"], "one listener is left")
        try await checker.execute("INSERT INTO items VALUES (1)")
        XCTAssertEqual(try logged(cluster, url), 1)

        // The crash: its lease stays, but no session holds its listener lock any more (the lease
        // is moved to a name nobody's connection holds; the engine itself stays open so that
        // closing it does not leave).
        let id = try XCTUnwrap(crashed.listenerID)
        try cluster.execute("UPDATE plugin_gate._plexus_listeners SET listener = 'crashed-' || listener WHERE listener = '\(id)'", url: url)
        clock.advance(119)  // four renewals of 30 s, less a second
        try await Task.sleep(nanoseconds: 600_000_000)  // three of the checker's checks
        XCTAssertEqual(try triggerStates(cluster, url), ["O"], "its lease has not run out yet")
        clock.advance(62)  // 3 minutes after its last renewal: ended (not after an hour)
        try await waitUntil { (try? self.triggerStates(cluster, url)) == ["D"] }
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_gate._plexus_listeners", url: url), ["0"], "the expired lease was removed")
        try await checker.execute("INSERT INTO items VALUES (2)")
        XCTAssertEqual(try logged(cluster, url), 1, "not logged after the lease expired")
        await crashed.close()
        await other.close()
        await checker.close()
    }

    /// A live listener whose renewal is late (a stalled thread, a slow database: here it does not
    /// renew at all) keeps its lease past its end while its LISTEN session lives, so the other
    /// engines' checks keep the log running and it loses no write; its next renewal extends it.
    func testALiveListenerWhoseRenewalIsLateLosesNoWrite() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let clock = ManualClock()
        let checker = try await open(url, checkEvery: 0.2, leaseClock: clock)
        let late = try await open(url, checkEvery: 0, leaseClock: clock)
        try await checker.execute("CREATE TABLE items (id BIGINT PRIMARY KEY)")
        let batches = Locked<[[StorageChange]]>([])
        late.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await late.setChangeListening(true)
        // A crashed listener beside it, whose lease ends at the same time.
        let id = try XCTUnwrap(late.listenerID)
        try cluster.execute("INSERT INTO plugin_gate._plexus_listeners SELECT 'crashed', until FROM plugin_gate._plexus_listeners WHERE listener = '\(id)'", url: url)

        clock.advance(StorageConfiguration().changeListenerLease * 3)  // both leases ran out long ago
        try await waitUntil { (try? cluster.execute("SELECT listener FROM plugin_gate._plexus_listeners", url: url)) == [id] }
        try await Task.sleep(nanoseconds: 600_000_000)  // three more checks
        XCTAssertEqual(try cluster.execute("SELECT listener FROM plugin_gate._plexus_listeners", url: url), [id],
                       "the crashed one's lease was removed, the late one's kept")
        XCTAssertEqual(try triggerStates(cluster, url), ["O"])
        try await checker.execute("INSERT INTO items VALUES (1)")
        try await waitUntil { batches.current.count == 1 }
        XCTAssertEqual(batches.current, [[StorageChange(table: "items", operation: .insert, rowID: 1)]], "the write was not lost")

        // The late renewal comes: the lease runs from the clock's time again.
        try await late.setChangeListening(true)
        let until = try XCTUnwrap(Double(try XCTUnwrap(try cluster.execute("SELECT until FROM plugin_gate._plexus_listeners", url: url).first)))
        XCTAssertEqual(until, clock.date.timeIntervalSince1970 + StorageConfiguration().changeListenerLease, accuracy: 0.01)

        // Once its engine is gone (closing leaves), the log stops.
        await late.close()
        try await waitUntil { (try? self.triggerStates(cluster, url)) == ["D"] }
        await checker.close()
    }

    /// Writers keep 4 sequences of inserts in flight while B subscribes: every insert that started
    /// after B's subscription completed is delivered, and what is delivered of each sequence is an
    /// unbroken run in order (once a write is logged, every later one is).
    func testWritesRacingASubscriptionAreAllDeliveredInOrderOnceItCompletes() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let a = try await open(url), b = try await open(url)
        try await a.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, writer INT)")
        let batches = Locked<[[StorageChange]]>([])
        b.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        // How many inserts each writer had started (the next one's number). The writers go on
        // until each has started 20 after the subscription completed, however long it takes.
        let started = Locked([Int](repeating: 0, count: 4))
        let stop = Locked(false)
        let writers = (0..<4).map { writer in
            Task {
                var index = 0
                while !stop.current {
                    started.withLock { $0[writer] = index + 1 }
                    try await a.execute("INSERT INTO items VALUES (?, ?)", [.integer(Int64(writer * 100_000 + index)), .integer(Int64(writer))])
                    index += 1
                }
                return index
            }
        }
        while started.current.min()! < 20 { try await Task.sleep(nanoseconds: 1_000_000) }
        try await b.setChangeListening(true)
        let atCompletion = started.current
        while zip(started.current, atCompletion).contains(where: { $0 < $1 + 20 }) { try await Task.sleep(nanoseconds: 1_000_000) }
        stop.withLock { $0 = true }
        var written: [Int] = []
        for writer in writers { written.append(try await writer.value) }

        try await waitUntil {
            let ids = Set(batches.current.flatMap { $0.map(\.rowID) })
            return (0..<4).allSatisfy { w in ids.contains(Int64(w * 100_000 + written[w] - 1)) }
        }
        let delivered = batches.current.flatMap { $0.map(\.rowID) }
        XCTAssertEqual(Set(delivered).count, delivered.count, "each once")
        for writer in 0..<4 {
            let mine = delivered.filter { $0 / 100_000 == Int64(writer) }.map { Int($0 % 100_000) }
            guard let first = mine.first else {
                XCTFail("writer \(writer): nothing delivered")
                continue
            }
            XCTAssertEqual(mine, Array(first..<written[writer]), "writer \(writer): an unbroken run in order to its last insert")
            // The insert numbered `atCompletion[writer]` (0-based) started after the subscription completed.
            XCTAssertLessThanOrEqual(first, atCompletion[writer], "writer \(writer): every insert started after the subscription completed is delivered")
        }
        await a.close()
        await b.close()
    }
}
