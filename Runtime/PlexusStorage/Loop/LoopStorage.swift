import Foundation

/// A `StorageEngine`'s key-value calls as made from one event loop, without the two thread hops
/// (loop → worker → loop) of the engine's own methods where that is safe:
///
/// - SQLite: `get` and `put` run on a connection owned by the loop (`LoopSQLiteKeyValue`: one
///   bounded primary-key lookup or one-row upsert in WAL mode, never waiting for a lock, never
///   syncing; checkpoints stay on the worker), and only while the engine's worker has nothing
///   queued or running and no backup runs, so a call never overtakes an earlier one. Deletes,
///   listings, SQL and transactions stay on the worker.
/// - PostgreSQL: `get`, `put` and `delete` are single statements sent without blocking on a
///   connection the loop drives (`PostgresLoopClient`, pipeline mode, many in flight), with the
///   pool's role, schema and statement timeout. While that connection is down or (re)connecting,
///   or for a compare-and-delete of "must not exist" (two statements), the worker pool runs them.
///
/// SQLite: a `get` or `put` made while this loop's calls are in flight on the worker (it was
/// busy: a transaction, a checkpoint) is held on the loop until they are answered, and then runs
/// on the loop if the worker is free. Sending it to the worker too would keep the worker busy
/// while calls keep coming (64 in flight: each answer brings the next call), so the calls would
/// stay on the worker, a hop each, long after what made it busy ended.
///
/// Order on PostgreSQL: a call never overtakes an earlier call of the same plugin on the other
/// path. A key-value call made while calls on the worker pool (``onWorkers(_:completion:)``: SQL,
/// transactions, listings, key-value calls the pool runs) are in flight is held until they are
/// answered, as SQLite's path leaves such a call to its busy worker; a pool call made while
/// key-value calls are in flight on the loop's connection, or held, waits for them in turn.
/// Calls on one path keep that path's order (the loop connection's pipeline is in order).
///
/// Semantics (versions, compare-and-set, TTLs, errors and their messages) are the engine's.
/// Every method must be called on the loop thread, and every completion runs there: at once,
/// inside the call, when the answer was available without waiting (a SQLite read), else later.
/// Transactions, SQL, listings and migrations: use the engine.
public final class LoopStorage {
    /// The engine behind this loop's calls.
    public let engine: StorageEngine
    private let loop: StorageLoop
    private var sqlite: LoopSQLiteKeyValue?
    private var sqliteFailed = false
    private var client: PostgresLoopClient?
    private var closed = false

    /// PostgreSQL: calls in flight on the loop's connection and on the worker pool, and the calls
    /// held until the other path is quiet (in the order they were made).
    private var inFlightOnLoop = 0
    private var inFlightOnWorkers = 0
    private var held: [(onLoop: Bool, start: () -> Void)] = []

    /// Calls answered on the loop, without a worker (for tests and metrics).
    public private(set) var answeredOnLoop = 0
    /// Calls that were held behind calls on the other path (for tests and metrics).
    public private(set) var heldBehindOtherPath = 0
    /// Calls handed to the engine's workers.
    public private(set) var answeredByWorkers = 0

    /// The loop side of `engine` on `loop`; call on the loop thread.
    public init(engine: StorageEngine, loop: StorageLoop) {
        self.engine = engine
        self.loop = loop
        if engine.dialect == .postgresql, let parameters = engine.postgresParameters {
            client = PostgresLoopClient(loop: loop, parameters: parameters)
        }
    }

    deinit {
        // close() should have run on the loop; this keeps the descriptor from leaking.
        sqlite?.close()
    }

    /// Connections the loop's PostgreSQL client has made (0 on SQLite).
    public var loopConnections: Int { client?.connections ?? 0 }

    /// Closes the loop's own connection (not the engine); calls in flight on it fail with `.closed`.
    public func close() {
        closed = true
        sqlite?.close()
        sqlite = nil
        client?.close()
        // Held calls start now (on the workers: the loop's connection is closed).
        releaseHeld()
    }

    private var now: Double { engine.configuration.clock().timeIntervalSince1970 }

    // MARK: Order between the two paths (PostgreSQL)

    /// Runs one operation on the engine's worker pool (`start` calls the engine; its completion
    /// may run on any thread), `completion` on the loop. On PostgreSQL it waits for the key-value
    /// calls made before it that are in flight on the loop's connection or held.
    public func onWorkers<T>(_ start: @escaping (StorageEngine, @escaping @Sendable (Result<T, StorageError>) -> Void) -> Void,
                             completion: @escaping (Result<T, StorageError>) -> Void) {
        admit(onLoop: false) { [self] in start(engine, loop.bounce(trackedOnWorkers(completion))) }
    }

    /// Starts `body` now, or holds it (PostgreSQL) while calls are held before it or the other
    /// path has calls in flight.
    private func admit(onLoop: Bool, _ body: @escaping () -> Void) {
        if startsNow(onLoop: onLoop) { return body() }
        heldBehindOtherPath += 1
        held.append((onLoop, body))
    }

    /// Whether a call on the loop's path (`onLoop`) or the workers' may start now, with nothing
    /// held or in flight on the other path to wait behind (what `admit` checks; get and put ask
    /// first, so the common case makes no closure to hold).
    private func startsNow(onLoop: Bool) -> Bool {
        closed || (held.isEmpty && (onLoop ? inFlightOnWorkers : inFlightOnLoop) == 0)
    }

    /// Starts the held calls whose turn came, in order.
    private func releaseHeld() {
        while let next = held.first, (next.onLoop ? inFlightOnWorkers : inFlightOnLoop) == 0 || closed {
            held.removeFirst()
            next.start()
        }
    }

    /// `completion`, counted as a call in flight on the worker pool until it runs (on the loop).
    private func trackedOnWorkers<T>(_ completion: @escaping (Result<T, StorageError>) -> Void) -> (Result<T, StorageError>) -> Void {
        inFlightOnWorkers += 1
        return { [weak self] result in
            self?.inFlightOnWorkers -= 1
            completion(result)
            self?.releaseHeld()
        }
    }

    /// Sends on the loop's connection with `completion` counted as in flight there until it runs;
    /// false (nothing counted, `completion` dropped) when the connection cannot take it.
    private func sendOnLoop<T>(_ completion: @escaping (Result<T, StorageError>) -> Void,
                               _ send: (@escaping (Result<T, StorageError>) -> Void) -> Bool) -> Bool {
        inFlightOnLoop += 1
        let sent = send { [weak self] result in
            self?.inFlightOnLoop -= 1
            completion(result)
            self?.releaseHeld()
        }
        if !sent { inFlightOnLoop -= 1 }
        return sent
    }

    // MARK: Key-value

    /// Reads a key; nil if it does not exist or has expired. See `StorageEngine.get`.
    public func get(_ key: String, completion: @escaping (Result<KeyValueEntry?, StorageError>) -> Void) {
        if startsNow(onLoop: true) { return getNow(key, completion: completion) }
        admit(onLoop: true) { [self] in getNow(key, completion: completion) }
    }

    private func getNow(_ key: String, completion: @escaping (Result<KeyValueEntry?, StorageError>) -> Void) {
        if !closed, let sqlite = sqliteConnection(), engine.loopMayRunSQLite {
            if case .answered(let result) = sqlite.get(key) {
                answeredOnLoop += 1
                completion(result.mapError { $0.located(operation: "get(\"\(key)\")", path: engine.path) })
                return
            }
        }
        let operation = "get(\"\(key)\")"
        if !closed, let client {
            let path = engine.path
            let sent = sendOnLoop(completion) { done in
                client.send(.get, [.text(key), .real(now)]) { [weak self] outcome in
                    self?.answeredOnLoop += 1
                    done(outcome.map { $0.result.rows.first.map(Self.entry) }.mapError { $0.located(operation: operation, path: path) })
                }
            }
            if sent { return }
        }
        answeredByWorkers += 1
        engine.get(key, completion: loop.bounce(trackedOnWorkers(completion)))
    }

    /// Writes a key and returns its new version. See `StorageEngine.put`.
    public func put(
        _ key: String, value: [UInt8], ttl: Double? = nil, expectedVersion: Int64? = nil,
        completion: @escaping (Result<Int64, StorageError>) -> Void
    ) {
        if startsNow(onLoop: true) { return putNow(key, value: value, ttl: ttl, expectedVersion: expectedVersion, completion: completion) }
        admit(onLoop: true) { [self] in putNow(key, value: value, ttl: ttl, expectedVersion: expectedVersion, completion: completion) }
    }

    private func putNow(_ key: String, value: [UInt8], ttl: Double?, expectedVersion: Int64?, completion: @escaping (Result<Int64, StorageError>) -> Void) {
        if !closed, let sqlite = sqliteConnection(), engine.loopMayRunSQLite {
            if case .answered(let result) = sqlite.put(key, value, ttl: ttl, expectedVersion: expectedVersion) {
                answeredOnLoop += 1
                if sqlite.needsCheckpoint {
                    sqlite.checkpointRequested()
                    engine.checkpointOnWorker()
                }
                completion(result.mapError { $0.located(operation: "put(\"\(key)\")", path: engine.path) })
                return
            }
        }
        if !closed, let client, ttl.map({ $0 > 0 }) ?? true, (expectedVersion ?? 0) >= 0 {
            let operation = "put(\"\(key)\")"
            let now = self.now
            let expiresAt: StorageValue = ttl.map { .real(now + $0) } ?? .null
            let (statement, parameters): (PostgresLoopClient.Statement, [StorageValue]) = switch expectedVersion {
            case nil: (.put, [.text(key), .blob(value), expiresAt, .real(now)])
            case 0?: (.putNew, [.text(key), .blob(value), expiresAt, .real(now)])
            case let expected?: (.putExpected, [.text(key), .blob(value), expiresAt, .integer(expected), .real(now)])
            }
            let path = engine.path
            let sent = sendOnLoop(completion) { done in
                client.send(statement, parameters) { [weak self] outcome in
                    guard let self else { return }
                    self.answeredOnLoop += 1
                    switch outcome {
                    case .failure(let error):
                        done(.failure(error.located(operation: operation, path: path)))
                    case .success(let result):
                        if let version = result.result.rows.first?[0].integerValue {
                            done(.success(version))
                        } else {
                            self.conflict(key, expected: expectedVersion ?? 0, operation: operation) { done(.failure($0)) }
                        }
                    }
                }
            }
            if sent { return }
        }
        answeredByWorkers += 1
        engine.put(key, value: value, ttl: ttl, expectedVersion: expectedVersion, completion: loop.bounce(trackedOnWorkers(completion)))
    }

    /// Deletes a key; returns whether it existed. See `StorageEngine.delete`.
    public func delete(_ key: String, expectedVersion: Int64? = nil, completion: @escaping (Result<Bool, StorageError>) -> Void) {
        admit(onLoop: true) { [self] in deleteNow(key, expectedVersion: expectedVersion, completion: completion) }
    }

    private func deleteNow(_ key: String, expectedVersion: Int64?, completion: @escaping (Result<Bool, StorageError>) -> Void) {
        if !closed, let client, expectedVersion.map({ $0 > 0 }) ?? true {
            let operation = "delete(\"\(key)\")"
            let path = engine.path
            let (statement, parameters): (PostgresLoopClient.Statement, [StorageValue]) = if let expected = expectedVersion {
                (.deleteExpected, [.text(key), .integer(expected), .real(now)])
            } else {
                (.delete, [.text(key), .real(now)])
            }
            let sent = sendOnLoop(completion) { done in
                client.send(statement, parameters) { [weak self] outcome in
                    guard let self else { return }
                    self.answeredOnLoop += 1
                    switch outcome {
                    case .failure(let error):
                        done(.failure(error.located(operation: operation, path: path)))
                    case .success(let result):
                        if let expected = expectedVersion {
                            if result.result.rows.isEmpty {
                                self.conflict(key, expected: expected, operation: operation) { done(.failure($0)) }
                            } else {
                                done(.success(true))
                            }
                        } else {
                            done(.success(result.result.rows.first?[0].integerValue == 1))
                        }
                    }
                }
            }
            if sent { return }
        }
        answeredByWorkers += 1
        engine.delete(key, expectedVersion: expectedVersion, completion: loop.bounce(trackedOnWorkers(completion)))
    }

    // MARK: Helpers

    /// The `.conflict` error for a compare-and-set that matched no row, carrying the live version.
    private func conflict(_ key: String, expected: Int64, operation: String, _ done: @escaping (StorageError) -> Void) {
        let path = engine.path
        let report: (Result<Int64, StorageError>) -> Void = { result in
            switch result {
            case .success(let current):
                done(StorageError(.conflict, "key \"\(key)\" is at version \(current), expected \(expected)", currentVersion: current)
                    .located(operation: operation, path: path))
            case .failure(let error):
                done(error.located(operation: operation, path: path))
            }
        }
        let sent = client?.send(.version, [.text(key), .real(now)]) { outcome in
            report(outcome.map { $0.result.rows.first?[0].integerValue ?? 0 })
        } ?? false
        if !sent {
            done(StorageError(.unavailable, "PostgreSQL is unavailable: the connection was lost before the current version was read")
                .located(operation: operation, path: path))
        }
    }

    private func sqliteConnection() -> LoopSQLiteKeyValue? {
        if let sqlite { return sqlite }
        guard engine.dialect == .sqlite, !sqliteFailed else { return nil }
        sqlite = LoopSQLiteKeyValue(path: engine.path, clock: engine.configuration.clock)
        sqliteFailed = sqlite == nil
        return sqlite
    }

    private static func entry(_ row: StorageRow) -> KeyValueEntry {
        KeyValueEntry(
            key: row[0].textValue ?? "", value: row[1].blobValue ?? [], version: row[2].integerValue ?? 0,
            expiresAt: row[3].realValue.map { Date(timeIntervalSince1970: $0) })
    }
}
