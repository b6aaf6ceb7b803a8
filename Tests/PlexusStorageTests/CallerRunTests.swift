import Dispatch
import Foundation
@testable import PlexusStorage
import XCTest

/// Issue 21 (the SQLite SQL row): an `async` call from a task on the global executor runs its
/// operation on the caller's own thread while the worker is free, so no thread is woken (counted
/// as jobs handed to a worker's queue, not timed); a busy worker, an actor-isolated caller or a
/// long recent operation sends it to the worker as before, in order. And the loop's calls made
/// while the worker checkpoints wait on the loop, not one by one on the worker.
final class CallerRunTests: XCTestCase {
    /// An engine whose caller runs are not limited by time (the tests count hops, not durations).
    private func engine(limit: TimeInterval? = 3_600) async throws -> StorageEngine {
        let directory = try makeTemporaryDirectory(self)
        var configuration = testConfiguration()
        configuration.callerRunLimit = limit
        let engine = try await StorageEngine.open(pluginName: "caller-run", dataDirectory: directory, configuration: configuration)
        addTeardownBlock { await engine.close() }
        try await engine.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        return engine
    }

    private func dispatched(_ engine: StorageEngine) -> Int { engine.pool.dispatched.load(ordering: .relaxed) }

    /// 40 transactions, queries, puts and gets from a task on an idle engine: none is handed to
    /// the worker's thread, and each body runs on the thread that made the call. (Before: 160 hops.)
    func testAsyncCallsOnAFreeEngineRunOnTheCallersThreadAndWakeNoWorker() async throws {
        let engine = try await engine()
        let before = dispatched(engine)
        let (sameThread, rows) = try await Task.detached { () async throws -> (Int, Int64) in
            var sameThread = 0
            for i in 0..<40 {
                let caller = pthread_self()
                let ranOn = try await engine.transaction { tx -> pthread_t in
                    try tx.execute("INSERT INTO notes (id, body) VALUES (?, ?)", [.integer(Int64(i)), .text("n\(i)")])
                    return pthread_self()
                }
                if pthread_equal(caller, ranOn) != 0 { sameThread += 1 }
                _ = try await engine.query("SELECT body FROM notes WHERE id = ?", [.integer(Int64(i))])
                try await engine.put("k\(i)", value: [UInt8(i)])
                _ = try await engine.get("k\(i)")
            }
            return (sameThread, try await engine.query("SELECT count(*) FROM notes").rows[0][0].integerValue ?? -1)
        }.value
        XCTAssertEqual(dispatched(engine) - before, 0, "no operation was handed to the worker's thread")
        XCTAssertEqual(sameThread, 40, "every transaction body ran on its caller's thread")
        XCTAssertEqual(rows, 40)
        let stored = try await engine.get("k39")
        XCTAssertEqual(stored?.value, [39])
    }

    /// With `callerRunLimit` nil every async call hops to the worker, as before.
    func testWithNoLimitEveryCallHopsToTheWorker() async throws {
        let engine = try await engine(limit: nil)
        let before = dispatched(engine)
        try await Task.detached {
            for i in 0..<10 { try await engine.execute("INSERT INTO notes (id, body) VALUES (?, 'x')", [.integer(Int64(i))]) }
        }.value
        XCTAssertEqual(dispatched(engine) - before, 10)
    }

    /// While the worker runs an earlier operation, an async call does not overtake it: it waits
    /// on the worker and runs after it.
    func testABusyWorkerTakesTheCallAfterTheEarlierOne() async throws {
        let engine = try await engine()
        let order = Locked<[String]>([])
        let started = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        let first = DispatchSemaphore(value: 0)
        engine.transaction({ tx in
            started.signal()
            gate.wait()
            try tx.execute("INSERT INTO notes (id, body) VALUES (1, 'first')")
            order.withLock { $0.append("first") }
        }, completion: { _ in first.signal() })
        started.wait()
        let before = dispatched(engine)
        let second = Task.detached {
            try await engine.transaction { tx in
                try tx.execute("INSERT INTO notes (id, body) VALUES (2, 'second')")
                order.withLock { $0.append("second") }
            }
        }
        // Whatever the second call does meanwhile, it cannot run before the gate opens.
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { gate.signal() }
        try await second.value
        first.wait()
        XCTAssertEqual(order.current, ["first", "second"])
        XCTAssertEqual(dispatched(engine) - before, 1, "the second call was queued to the worker")
    }

    /// An actor-isolated caller (as code on a loop's executor would be) always hops to the worker:
    /// the operation never runs on the actor's thread.
    func testACallFromAnActorHopsToTheWorker() async throws {
        let engine = try await engine()
        let caller = ActorCaller()
        let before = dispatched(engine)
        for id in 0..<5 { try await caller.insert(engine, Int64(id)) }
        XCTAssertEqual(dispatched(engine) - before, 10)
        let rows = try await count(engine, "notes")
        XCTAssertEqual(rows, 5)
    }

    /// A call made right after a long operation hops to the worker (the moving average is over
    /// the limit); short operations bring it back under.
    func testAfterALongOperationTheNextCallHops() async throws {
        let engine = try await engine(limit: 0.005)
        let before = dispatched(engine)
        try await Task.detached {
            try await engine.transaction { tx in
                try tx.execute("INSERT INTO notes (id, body) VALUES (1, 'slow')")
                usleep(100_000)
            }
        }.value
        XCTAssertEqual(dispatched(engine) - before, 0, "the first ran on the caller's thread (nothing known yet)")
        try await Task.detached { _ = try await engine.query("SELECT 1") }.value
        XCTAssertEqual(dispatched(engine) - before, 1, "the call after it hopped")
    }

    /// The policy: a quarter weight for each new duration; allowed at or under the limit.
    func testThePolicyAveragesDurations() {
        let policy = CallerRunPolicy(limit: 0.001)
        XCTAssertTrue(policy.allows)
        policy.record(nanoseconds: 40_000_000)
        XCTAssertFalse(policy.allows, "10 ms average")
        var shortOnes = 0
        while !policy.allows && shortOnes < 100 {
            policy.record(nanoseconds: 50_000)
            shortOnes += 1
        }
        XCTAssertEqual(shortOnes, 9, "10 ms back under 1 ms with 50 µs operations")
        XCTAssertFalse(CallerRunPolicy(limit: 0).allows)
    }

    /// 64 puts in flight from the loop while the worker checkpoints: the first goes to the
    /// worker, behind the checkpoint; the others are held on the loop until it is answered and
    /// then run on the loop (the worker being free), instead of each taking its turn on the
    /// worker and keeping it busy for the next. A second checkpoint request while one is queued is dropped. (Seen failing without
    /// the holding: 64 answered by the worker.)
    func testCallsMadeWhileTheWorkerCheckpointsWaitOnTheLoopNotOnTheWorker() async throws {
        let engine = try await engine()
        let h = LoopStorageTests.Harness(engine)
        addTeardownBlock { h.stop() }
        XCTAssertEqual(try h.put("a", [1]).get(), 1)
        let gate = DispatchSemaphore(value: 0)
        engine.pool.broadcast { _ in gate.wait() }  // holds the worker's queue, outside the pool's count
        engine.checkpointOnWorker()
        engine.checkpointOnWorker()
        XCTAssertFalse(engine.loopMayRunSQLite, "the checkpoint is queued")
        let answered = Locked(0)
        h.thread.wait { done in
            for i in 0..<64 {
                h.storage.put("p\(i)", value: [UInt8(i)]) { result in
                    XCTAssertEqual(try? result.get(), 1)
                    if answered.withLock({ $0 += 1; return $0 }) == 64 { done() }
                }
            }
            gate.signal()
        }
        // The first went to the worker; a held one finding the worker not yet marked free (its
        // answer can reach the loop just before) goes there too, and the rest wait again.
        XCTAssertEqual(h.onLoop + h.byWorkers, 65)
        XCTAssertLessThan(h.byWorkers, 8, "held on the loop, not queued on the worker")
        XCTAssertGreaterThanOrEqual(h.thread.sync { h.storage.heldBehindOtherPath }, 63)
        XCTAssertEqual(engine.checkpointsRun.load(ordering: .relaxed), 1, "the second request was dropped")
        engine.checkpointOnWorker()
        _ = try await engine.query("SELECT 1")
        XCTAssertEqual(engine.checkpointsRun.load(ordering: .relaxed), 2)
        XCTAssertEqual(try h.get("p63").get()?.value, [63])
    }
}

/// A caller isolated to an actor of its own.
private actor ActorCaller {
    func insert(_ engine: StorageEngine, _ id: Int64) async throws {
        try await engine.transaction { tx in try tx.execute("INSERT INTO notes (id, body) VALUES (?, 'a')", [.integer(id)]) }
        _ = try await engine.query("SELECT 1")
    }
}
