import Foundation
import PlexusStorage
import XCTest

/// A SQLite put without compare-and-set on the loop (issue 21): the engine's version and expiry
/// rules, and a write lock held by another connection sends it to the worker. (A one-statement
/// upsert for this path was tried and measured no faster in bench/storage.sh; these tests stay.)
final class LoopSQLitePutTests: XCTestCase {
    private func harness(clock: ManualClock? = nil) async throws -> LoopStorageTests.Harness {
        let engine = try await openEngine(self, clock: clock)
        let harness = LoopStorageTests.Harness(engine)
        addTeardownBlock {
            harness.stop()
            let closed = DispatchSemaphore(value: 0)
            engine.close { _ in closed.signal() }
            closed.wait()
        }
        return harness
    }

    /// Each put replaces the value and the expiry (none when no TTL is given), counts the version
    /// up while the key lives, and starts again at 1 once it has expired; the worker reads the same.
    func testVersionsAndExpiryFollowTheEngine() async throws {
        let clock = ManualClock()
        let h = try await harness(clock: clock)
        XCTAssertEqual(try h.put("t", [1], ttl: 10).get(), 1)
        XCTAssertEqual(try h.put("t", [2]).get(), 2, "a live key: +1")
        clock.advance(11)
        XCTAssertEqual(try h.get("t").get()?.value, [2], "the second put took the TTL away")
        XCTAssertEqual(try h.put("t", [3], ttl: 5).get(), 3)
        clock.advance(6)
        XCTAssertNil(try h.get("t").get())
        XCTAssertEqual(try h.put("t", [4]).get(), 1, "an expired key starts again at 1")
        XCTAssertEqual(h.onLoop, 6, "four puts and two gets")
        XCTAssertEqual(h.byWorkers, 0)
        let viaEngine = try await h.engine.get("t")
        XCTAssertEqual(viaEngine?.value, [4])
        XCTAssertEqual(viaEngine?.version, 1)
        XCTAssertNil(viaEngine?.expiresAt)
    }

    /// While another connection to the file holds the write lock, the loop's put does not wait:
    /// nothing is written there, the worker writes it once the lock is free, with the right version.
    func testAWriteLockHeldElsewhereSendsThePutToTheWorker() async throws {
        let h = try await harness()
        XCTAssertEqual(try h.put("k", [1]).get(), 1)
        let other = try await StorageEngine.open(at: h.engine.path, configuration: testConfiguration())
        let locked = DispatchSemaphore(value: 0)
        let held = Locked(false)
        other.transaction({ tx in
            try tx.execute("CREATE TABLE IF NOT EXISTS held (id INTEGER PRIMARY KEY)")
            try tx.execute("INSERT INTO held VALUES (1)")
            held.withLock { $0 = true }
            locked.signal()
            usleep(300_000)
        }, completion: { _ in })
        locked.wait()
        XCTAssertEqual(try h.put("k", [2]).get(), 2, "written by the worker after the other transaction")
        XCTAssertEqual(h.byWorkers, 1)
        XCTAssertEqual(try h.get("k").get()?.value, [2])
        XCTAssertEqual(try h.get("k").get()?.version, 2)
        XCTAssertTrue(held.current)
        await other.close()
    }
}
