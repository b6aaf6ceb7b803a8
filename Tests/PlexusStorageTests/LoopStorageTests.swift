import CLibPQ
import Foundation
import PlexusStorage
import PostgresTestSupport
import XCTest

/// `LoopStorage` on a loop thread of its own: key-value calls answered on the loop (SQLite
/// point reads, PostgreSQL's non-blocking connection) or by the workers, with the engine's semantics.
final class LoopStorageTests: XCTestCase {
    /// A loop thread and the loop side of one engine; calls made from the test wait for their completion.
    final class Harness: @unchecked Sendable {
        let thread = StorageLoopThread()
        let engine: StorageEngine
        /// PostgreSQL: the database's name.
        let database: String
        private(set) var storage: LoopStorage!

        init(_ engine: StorageEngine, database: String = "") {
            self.engine = engine
            self.database = database
            storage = thread.sync { LoopStorage(engine: engine, loop: self.thread.loop) }
        }

        func get(_ key: String) -> Result<KeyValueEntry?, StorageError> {
            let box = Locked<Result<KeyValueEntry?, StorageError>?>(nil)
            thread.wait { done in self.storage.get(key) { result in box.withLock { $0 = result }; done() } }
            return box.current!
        }

        func put(_ key: String, _ value: [UInt8], ttl: Double? = nil, expected: Int64? = nil) -> Result<Int64, StorageError> {
            let box = Locked<Result<Int64, StorageError>?>(nil)
            thread.wait { done in
                self.storage.put(key, value: value, ttl: ttl, expectedVersion: expected) { result in box.withLock { $0 = result }; done() }
            }
            return box.current!
        }

        func delete(_ key: String, expected: Int64? = nil) -> Result<Bool, StorageError> {
            let box = Locked<Result<Bool, StorageError>?>(nil)
            thread.wait { done in
                self.storage.delete(key, expectedVersion: expected) { result in box.withLock { $0 = result }; done() }
            }
            return box.current!
        }

        var onLoop: Int { thread.sync { self.storage.answeredOnLoop } }
        var byWorkers: Int { thread.sync { self.storage.answeredByWorkers } }
        var loopConnections: Int { thread.sync { self.storage.loopConnections } }

        /// Waits (up to 10 s) until the loop's PostgreSQL connection is up, asking it to connect.
        func waitForLoopConnection(_ count: Int = 1) -> Bool {
            for _ in 0..<1_000 {
                if loopConnections >= count { return true }
                _ = get("connect")
                usleep(10_000)
            }
            return false
        }

        func stop() {
            thread.sync { self.storage.close() }
            thread.stop()
        }
    }

    private func harness(_ backend: TestBackend, clock: ManualClock? = nil, timeoutMilliseconds: Int? = nil, poolSize: Int = 4) async throws -> Harness {
        let engine: StorageEngine
        var database = ""
        if backend == .postgresql {
            let url = try PostgresTestCluster.get().newDatabaseURL()
            database = PostgresTestCluster.databaseName(url)
            engine = try await StorageEngine.open(
                pluginName: "loop-test", postgres: PostgresSettings(url: url, poolSize: poolSize, statementTimeoutMilliseconds: timeoutMilliseconds ?? 5_000),
                configuration: testConfiguration(clock: clock))
        } else {
            engine = try await openEngine(self, backend: backend, clock: clock)
        }
        let harness = Harness(engine, database: database)
        addTeardownBlock {
            harness.stop()
            let closed = DispatchSemaphore(value: 0)
            engine.close { _ in closed.signal() }
            closed.wait()
        }
        return harness
    }

    private static func describe<T>(_ result: Result<T, StorageError>) -> String {
        switch result {
        case .success(let value): "\(value)"
        case .failure(let error): "\(error.kind): \(error.message)"
        }
    }

    // MARK: SQLite

    func testSQLiteGetAndPutAreAnsweredOnTheLoop() async throws {
        let h = try await harness(.sqlite)
        XCTAssertEqual(try h.put("a", [1, 2, 3]).get(), 1)
        XCTAssertEqual(try h.put("a", [4]).get(), 2)
        let entry = try h.get("a").get()
        XCTAssertEqual(entry?.value, [4])
        XCTAssertEqual(entry?.version, 2)
        XCTAssertNil(try h.get("missing").get())
        XCTAssertEqual(h.onLoop, 4, "the writes and reads ran on the loop's connection")
        XCTAssertEqual(h.byWorkers, 0)
        // The engine's own read agrees.
        let viaEngine = try await h.engine.get("a")
        XCTAssertEqual(viaEngine, entry)
    }

    func testSQLiteGetQueuedBehindAWriteNeverOvertakesIt() async throws {
        let h = try await harness(.sqlite)
        _ = try h.put("k", [1]).get()
        // In one loop turn: a transaction that writes is queued on the worker (and held there until
        // the calls below are made), then a read and a compare-and-set are asked.
        let release = DispatchSemaphore(value: 0)
        let read = Locked<KeyValueEntry??>(nil)
        let written = Locked<Int64?>(nil)
        h.thread.wait { done in
            h.engine.transaction({ tx in
                release.wait()
                return try tx.put("k", value: [2])
            }, completion: { _ in })
            h.storage.get("k") { result in read.withLock { $0 = try? result.get() } }
            h.storage.put("k", value: [3], expectedVersion: 2) { result in
                written.withLock { $0 = try? result.get() }
                done()
            }
            release.signal()
        }
        XCTAssertEqual(read.current??.value, [2], "the read saw the write queued before it")
        XCTAssertEqual(read.current??.version, 2)
        XCTAssertEqual(written.current, 3, "the compare-and-set ran after the queued write")
        XCTAssertEqual(h.byWorkers, 1, "the read went to the busy worker")
        XCTAssertEqual(h.thread.sync { h.storage.heldBehindOtherPath }, 1, "the compare-and-set was held until the read was answered")
        XCTAssertEqual(h.onLoop, 2, "then it ran on the loop, the worker being free")
    }

    func testSQLiteLargeValueIsReadByTheWorkerWhole() async throws {
        let h = try await harness(.sqlite)
        let large = (0..<100_000).map { UInt8(truncatingIfNeeded: $0) }
        XCTAssertEqual(try h.put("large", large).get(), 1)
        XCTAssertEqual(try h.get("large").get()?.value, large)
        XCTAssertEqual(h.byWorkers, 2, "a value over the loop's limit is written and read by the worker")
        XCTAssertEqual(h.onLoop, 0)
    }

    /// The loop's read takes the value's length from the value it loaded (NULL: over the limit):
    /// an empty value, one at the loop's limit (64 KiB, on overflow pages) and one byte over it.
    func testSQLiteValuesAtTheLoopsLimitAreReadWhereTheyWereWritten() async throws {
        let h = try await harness(.sqlite)
        let limit = 64 * 1024
        let atLimit = (0..<limit).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let overLimit = atLimit + [0xff]
        XCTAssertEqual(try h.put("empty", []).get(), 1)
        XCTAssertEqual(try h.put("at", atLimit).get(), 1)
        XCTAssertEqual([h.onLoop, h.byWorkers], [2, 0], "values up to the limit are written on the loop")
        XCTAssertEqual(try h.put("over", overLimit).get(), 1)
        XCTAssertEqual(h.byWorkers, 1, "one byte over: written by the worker")
        let empty = try h.get("empty").get()
        XCTAssertEqual(empty?.value, [], "an empty value is an entry, not a missing key")
        XCTAssertEqual(empty?.version, 1)
        XCTAssertEqual(try h.get("at").get()?.value, atLimit)
        XCTAssertEqual([h.onLoop, h.byWorkers], [4, 1], "read on the loop, whole")
        XCTAssertEqual(try h.get("over").get()?.value, overLimit)
        XCTAssertEqual([h.onLoop, h.byWorkers], [4, 2], "one byte over: read by the worker, whole")
    }

    func testSQLiteExpiredEntryIsInvisibleOnTheLoop() async throws {
        let clock = ManualClock()
        let h = try await harness(.sqlite, clock: clock)
        _ = try h.put("session", [9], ttl: 10).get()
        XCTAssertEqual(try h.get("session").get()?.value, [9])
        clock.advance(11)
        XCTAssertNil(try h.get("session").get())
        XCTAssertEqual(try h.put("session", [8]).get(), 1, "an expired key starts again at version 1")
        XCTAssertEqual(h.onLoop, 4)
        guard case .failure(let error) = h.put("session", [7], ttl: 0) else { return XCTFail("a zero TTL must be refused") }
        XCTAssertEqual(error.kind, .misuse)
    }

    func testSQLiteCompareAndSetThroughTheLoopKeepsItsConflict() async throws {
        let h = try await harness(.sqlite)
        _ = try h.put("c", [1]).get()
        guard case .failure(let error) = h.put("c", [2], expected: 5) else { return XCTFail("expected a conflict") }
        XCTAssertEqual(error.kind, .conflict)
        XCTAssertEqual(error.currentVersion, 1)
        XCTAssertEqual(try h.put("c", [2], expected: 1).get(), 2)
        guard case .failure(let exists) = h.put("c", [3], expected: 0) else { return XCTFail("expected a conflict") }
        XCTAssertEqual(exists.currentVersion, 2)
        XCTAssertEqual(h.onLoop, 4)
    }

    func testSQLiteLoopWritesAreCheckpointedByTheWorker() async throws {
        let h = try await harness(.sqlite)
        let value = [UInt8](repeating: 7, count: 2_000)
        // One at a time, as single calls come: a write that finds the worker checkpointing goes to
        // the worker, the others run on the loop.
        let failures = Locked(0)
        for i in 0..<3_000 {
            h.thread.wait { done in
                h.storage.put("bulk-\(i)", value: value) { result in
                    if (try? result.get()) != 1 { failures.withLock { $0 += 1 } }
                    done()
                }
            }
        }
        XCTAssertEqual(failures.current, 0)
        XCTAssertEqual(h.onLoop + h.byWorkers, 3_000)
        XCTAssertGreaterThan(h.onLoop, 2_000, "a checkpoint asked for holds the worker only briefly (by workers: \(h.byWorkers))")
        // The worker's queue (the last checkpoint) drains; the next write starts the checkpointed WAL over.
        _ = try await h.engine.get("bulk-0")
        _ = try h.put("last", [1]).get()
        let wal = try FileManager.default.attributesOfItem(atPath: h.engine.path + "-wal")[.size] as? Int ?? 0
        // Without checkpoints 3,000 writes of 2 KB (a few pages each) would leave a WAL of over 20 MB.
        XCTAssertLessThan(wal, 8 << 20, "the WAL was checkpointed (size \(wal))")
        XCTAssertEqual(try h.get("bulk-2999").get()?.value, value)
    }

    // MARK: PostgreSQL

    func testPostgresManyInFlightOnTheLoopConnection() async throws {
        let h = try await harness(.postgresql)
        XCTAssertTrue(h.waitForLoopConnection())
        let count = 300
        let failures = Locked<[String]>([])
        let onLoopBefore = h.onLoop
        h.thread.wait { done in
            var remaining = count
            for i in 0..<count {
                h.storage.put("many-\(i)", value: Array("v\(i)".utf8)) { result in
                    if (try? result.get()) != 1 { failures.withLock { $0.append("put \(i): \(result)") } }
                    remaining -= 1
                    if remaining == 0 { done() }
                }
            }
        }
        h.thread.wait { done in
            var remaining = count
            for i in 0..<count {
                h.storage.get("many-\(i)") { result in
                    if (try? result.get())??.value != Array("v\(i)".utf8) { failures.withLock { $0.append("get \(i): \(result)") } }
                    remaining -= 1
                    if remaining == 0 { done() }
                }
            }
        }
        XCTAssertEqual(failures.current, [])
        XCTAssertEqual(h.onLoop - onLoopBefore, 2 * count, "every call was answered by the loop's connection")
        XCTAssertEqual(h.loopConnections, 1)
        let viaEngine = try await h.engine.get("many-\(count - 1)")
        XCTAssertEqual(viaEngine?.value, Array("v\(count - 1)".utf8))
    }

    /// With one pool connection (`postgres_pool_size = 1`): a put on the loop's connection made
    /// while a transaction of the same plugin runs on the pool waits for it (it does not overtake
    /// it), and a pool call made after that held put waits for the put in turn.
    func testPostgresKeyValueCallsNeverOvertakeEarlierPoolCalls() async throws {
        let h = try await harness(.postgresql, poolSize: 1)
        XCTAssertTrue(h.waitForLoopConnection())
        XCTAssertEqual(try h.put("k", [0]).get(), 1)
        let order = Locked<[String]>([])
        let seenByLaterPoolCall = Locked<[UInt8]?>(nil)
        let release = DispatchSemaphore(value: 0)
        // The transaction is held on its worker for 300 ms after the put is made: without the
        // order, the put is answered by the loop's connection long before.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(300)) { release.signal() }
        h.thread.wait { done in
            h.storage.onWorkers({ engine, finish in
                engine.transaction({ tx in
                    release.wait()
                    return try tx.put("k", value: [1])
                }, completion: finish)
            }, completion: { (_: Result<Int64, StorageError>) in order.withLock { $0.append("transaction") } })
            h.storage.put("k", value: [2]) { result in order.withLock { $0.append("put \(Self.describe(result))") } }
            h.storage.onWorkers({ engine, finish in engine.get("k", completion: finish) }, completion: { result in
                seenByLaterPoolCall.withLock { $0 = (try? result.get())??.value }
                done()
            })
        }
        XCTAssertEqual(order.current, ["transaction", "put 3"], "the put waited for the transaction made before it")
        XCTAssertEqual(seenByLaterPoolCall.current, [2], "the pool call made after the put saw it")
        XCTAssertEqual(try h.get("k").get()?.value, [2])
        XCTAssertEqual(h.thread.sync { h.storage.heldBehindOtherPath }, 2)
    }

    func testPostgresLoopConnectionKeepsTheEngineSemantics() async throws {
        let clock = ManualClock()
        let h = try await harness(.postgresql, clock: clock)
        XCTAssertTrue(h.waitForLoopConnection())
        let onLoopBefore = h.onLoop
        // Create-only, then stale and fresh compare-and-set, each conflict carrying the live version.
        XCTAssertEqual(try h.put("k", [1], expected: 0).get(), 1)
        guard case .failure(let exists) = h.put("k", [2], expected: 0) else { return XCTFail("create-only on an existing key succeeded") }
        XCTAssertEqual(exists.kind, .conflict)
        XCTAssertEqual(exists.currentVersion, 1)
        XCTAssertEqual(try h.put("k", [2], expected: 1).get(), 2)
        guard case .failure(let stale) = h.put("k", [3], expected: 1) else { return XCTFail("a stale compare-and-set succeeded") }
        XCTAssertEqual(stale.currentVersion, 2)
        guard case .failure(let missing) = h.put("nope", [1], expected: 3) else { return XCTFail("a compare-and-set of a missing key succeeded") }
        XCTAssertEqual(missing.currentVersion, 0)
        XCTAssertEqual(try h.get("k").get()?.value, [2], "a failed compare-and-set writes nothing")
        // Deletes, plain and compare-and-delete.
        guard case .failure(let staleDelete) = h.delete("k", expected: 1) else { return XCTFail("a stale compare-and-delete succeeded") }
        XCTAssertEqual(staleDelete.kind, .conflict)
        XCTAssertEqual(staleDelete.currentVersion, 2)
        XCTAssertEqual(try h.delete("k", expected: 2).get(), true)
        XCTAssertEqual(try h.delete("k").get(), false)
        XCTAssertNil(try h.get("k").get())
        // TTLs follow the engine's clock; an expired key is absent and starts again at version 1.
        XCTAssertEqual(try h.put("session", [9], ttl: 10).get(), 1)
        XCTAssertEqual(try h.get("session").get()?.expiresAt, clock.date.addingTimeInterval(10))
        clock.advance(11)
        XCTAssertNil(try h.get("session").get())
        XCTAssertEqual(try h.put("session", [8], expected: 0).get(), 1)
        // Keys that look like SQL are just keys; a 1 MB value goes through the non-blocking send whole.
        for key in ["'; DROP TABLE _plexus_kv; --", "%", "ключ"] {
            XCTAssertEqual(try h.put(key, Array(key.utf8)).get(), 1)
            XCTAssertEqual(try h.get(key).get()?.value, Array(key.utf8))
        }
        let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        XCTAssertEqual(try h.put("big", big).get(), 1)
        XCTAssertEqual(try h.get("big").get()?.value, big)
        XCTAssertEqual(h.onLoop - onLoopBefore, 22, "every call was answered by the loop's connection")
        XCTAssertEqual(h.loopConnections, 1)
        // Bad arguments are refused as the engine refuses them.
        guard case .failure(let zeroTTL) = h.put("k", [1], ttl: 0) else { return XCTFail("a zero TTL must be refused") }
        XCTAssertEqual(zeroTTL.kind, .misuse)
        guard case .failure(let badVersion) = h.put("k", [1], expected: -2) else { return XCTFail("a negative version must be refused") }
        XCTAssertEqual(badVersion.kind, .misuse)
        let viaEngine = try await h.engine.get("big")
        XCTAssertEqual(viaEngine?.value, big)
    }

    func testPostgresErrorMidPipelineFailsOnlyThatStatement() async throws {
        let h = try await harness(.postgresql, timeoutMilliseconds: 300)
        XCTAssertTrue(h.waitForLoopConnection())
        _ = try h.put("locked", [0]).get()
        _ = try h.put("cas", [0]).get()
        // Another session holds the row lock of "locked": a write of it waits until the statement timeout.
        let schema = String(h.engine.path.dropFirst("postgresql:".count))
        let url = try PostgresTestCluster.get().url(database: h.database)
        let blocker = PQconnectdb(url)
        defer { PQfinish(blocker) }
        XCTAssertEqual(PQstatus(blocker), CONNECTION_OK)
        PQclear(PQexec(blocker, "BEGIN"))
        let locked = PQexec(blocker, "SELECT 1 FROM \(schema)._plexus_kv WHERE key = 'locked' FOR UPDATE")
        XCTAssertEqual(PQresultStatus(locked), PGRES_TUPLES_OK)
        PQclear(locked)

        let results = Locked<[String: String]>([:])
        h.thread.wait { done in
            var remaining = 5
            func record(_ name: String, _ text: String) {
                results.withLock { $0[name] = text }
                remaining -= 1
                if remaining == 0 { done() }
            }
            h.storage.put("before", value: [1]) { record("before", Self.describe($0)) }
            h.storage.put("locked", value: [2]) { result in
                if case .failure(let error) = result { record("locked", "\(error.kind)") } else { record("locked", "succeeded") }
            }
            h.storage.put("cas", value: [3], expectedVersion: 7) { result in
                if case .failure(let error) = result { record("cas", "\(error.kind) \(error.currentVersion ?? -1)") } else { record("cas", "succeeded") }
            }
            h.storage.put("after", value: [4]) { record("after", Self.describe($0)) }
            h.storage.get("before") { record("get", "\((try? $0.get())??.value ?? [])") }
        }
        PQclear(PQexec(blocker, "ROLLBACK"))
        XCTAssertEqual(results.current["before"], "1")
        XCTAssertEqual(results.current["locked"], "timeout", "the statement waiting for the lock hit the statement timeout")
        XCTAssertEqual(results.current["cas"], "conflict 1", "a compare-and-set behind the failed statement still runs")
        XCTAssertEqual(results.current["after"], "1")
        XCTAssertEqual(results.current["get"], "[1]")
        XCTAssertEqual(h.loopConnections, 1, "a failed statement does not cost the connection")
        XCTAssertEqual(try h.put("locked", [5]).get(), 2, "the lock released, the key is written")
    }

    func testPostgresLoopConnectionReconnectsAfterItsBackendIsTerminated() async throws {
        let h = try await harness(.postgresql)
        XCTAssertTrue(h.waitForLoopConnection())
        _ = try h.put("kept", [7]).get()
        let cluster = try PostgresTestCluster.get()
        let database = h.database
        let terminated = try cluster.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND application_name LIKE '% loop'")
        XCTAssertEqual(terminated, ["t"])
        // Calls go on: at most the one sent on the dead connection fails (.unavailable), the others
        // are answered by the workers until the loop connection is back.
        var failures: [StorageError] = []
        for _ in 0..<1_000 where h.loopConnections < 2 {
            switch h.get("kept") {
            case .success(let entry): XCTAssertEqual(entry?.value, [7])
            case .failure(let error): failures.append(error)
            }
            usleep(5_000)
        }
        XCTAssertEqual(h.loopConnections, 2, "the loop connected again")
        XCTAssertLessThanOrEqual(failures.count, 1)
        XCTAssertTrue(failures.allSatisfy { $0.kind == .unavailable }, "\(failures)")
        let onLoopBefore = h.onLoop
        XCTAssertEqual(try h.get("kept").get()?.value, [7])
        XCTAssertEqual(h.onLoop, onLoopBefore + 1, "answered by the new loop connection")
    }

    func testPostgresRestartedFailsClearlyThenTheLoopConnectionRecovers() async throws {
        let h = try await harness(.postgresql)
        XCTAssertTrue(h.waitForLoopConnection())
        XCTAssertEqual(try h.put("a", [1]).get(), 1)
        let cluster = try PostgresTestCluster.get()
        try cluster.stop()
        var restarted = false
        defer { if !restarted { try? cluster.start() } }
        // Sent on the connection the server closed, or to the workers once the loop saw it close:
        // either way a clear `.unavailable` (503 to clients) naming PostgreSQL.
        guard case .failure(let down) = h.put("a", [2]) else { return XCTFail("a write to a stopped server succeeded") }
        XCTAssertEqual(down.kind, .unavailable, "\(down)")
        XCTAssertTrue(down.message.contains("PostgreSQL"), down.message)
        guard case .failure(let read) = h.get("a") else { return XCTFail("a read from a stopped server succeeded") }
        XCTAssertEqual(read.kind, .unavailable, "\(read)")
        try cluster.start()
        restarted = true
        // The workers answer at once; the loop's connection comes back after its backoff (at most 5 s).
        XCTAssertEqual(try h.put("a", [3]).get(), 2, "the write while down did not happen")
        XCTAssertTrue(h.waitForLoopConnection(2), "the loop connected again")
        let onLoopBefore = h.onLoop
        XCTAssertEqual(try h.get("a").get()?.value, [3])
        XCTAssertEqual(h.onLoop, onLoopBefore + 1, "answered by the new loop connection")
    }

    func testPostgresCallsFallBackToWorkersWhileTheLoopConnects() async throws {
        let h = try await harness(.postgresql)
        // The very first call starts connecting off the loop and is answered by a worker.
        XCTAssertEqual(try h.put("first", [1]).get(), 1)
        XCTAssertEqual(h.byWorkers, 1)
        XCTAssertTrue(h.waitForLoopConnection())
        XCTAssertEqual(try h.get("first").get()?.value, [1])
    }

    /// A server that vanishes without closing its connections (a relay the test owns stops
    /// carrying bytes, no FIN, no RST): a call in flight on the loop's connection and one on the
    /// pool each fail as `.unavailable` once the client-side deadline (statement timeout 1 s +
    /// 2 s) passes, instead of waiting without end; both connections are dropped, and the next
    /// calls connect again (through the relay, which carries new connections) and succeed.
    func testPostgresServerThatStopsAnsweringFailsAtTheClientDeadlineAndConnectsAgain() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let relay = try StallingRelay(upstreamPort: cluster.port)
        defer { relay.stop() }
        let relayed = relay.relaying(url, upstreamPort: cluster.port)
        XCTAssertNotEqual(relayed, url)
        let engine = try await StorageEngine.open(
            pluginName: "vanish", postgres: PostgresSettings(url: relayed, poolSize: 1, statementTimeoutMilliseconds: 1_000),
            configuration: testConfiguration())
        let h = Harness(engine, database: PostgresTestCluster.databaseName(url))
        addTeardownBlock {
            h.stop()
            relay.stop()
            let closed = DispatchSemaphore(value: 0)
            engine.close { _ in closed.signal() }
            _ = closed.wait(timeout: .now() + 10)
        }
        XCTAssertTrue(h.waitForLoopConnection())
        XCTAssertEqual(try h.put("a", [1]).get(), 1)
        let first = try await engine.get("a")
        XCTAssertEqual(first?.value, [1], "the pool's connection is up")

        relay.stall()
        // Each call is waited for at most 20 s here: without a deadline it would never end.
        let onLoop = Locked<Result<KeyValueEntry?, StorageError>?>(nil)
        let onPool = Locked<Result<KeyValueEntry?, StorageError>?>(nil)
        let answered = DispatchSemaphore(value: 0)
        h.thread.sync { h.storage.get("a") { result in onLoop.withLock { $0 = result }; answered.signal() } }
        engine.get("a") { result in onPool.withLock { $0 = result }; answered.signal() }
        let loopAnswered = answered.wait(timeout: .now() + 20), poolAnswered = answered.wait(timeout: .now() + 20)
        // Not answered: the pool's only worker would stay blocked, so the rest cannot run.
        guard loopAnswered == .success, poolAnswered == .success else { return XCTFail("a call to the stalled server was not answered within 20 s") }
        for (path, result) in [("loop", onLoop.current), ("pool", onPool.current)] {
            guard case .failure(let error)? = result else { XCTFail("\(path): \(String(describing: result))"); continue }
            XCTAssertEqual(error.kind, .unavailable, "\(path): \(error)")
            XCTAssertTrue(error.message.contains("did not answer within 3000 ms"), "\(path): \(error.message)")
        }

        // New connections (the relay carries them): the pool at once, the loop after its backoff.
        let before = relay.accepted
        let again = try await engine.get("a")
        XCTAssertEqual(again?.value, [1], "the pool connected again")
        XCTAssertTrue(h.waitForLoopConnection(2), "the loop connected again")
        XCTAssertEqual(try h.put("a", [2]).get(), 2)
        XCTAssertGreaterThanOrEqual(relay.accepted, before + 2)
    }
}
