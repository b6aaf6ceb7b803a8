/// `async` conveniences over the completion-based API (same semantics, same order).
///
/// On SQLite, `get`, `put`, `delete`, `list`, `execute`, `query` and `transaction` called from a
/// task on Swift's global executor (no actor, no task-executor preference) run on the caller's
/// own thread when the worker is free and nothing waits for it (inside the worker's serial queue,
/// so still one at a time and in order), instead of hopping to the worker's thread and back: no
/// thread is woken. That holds a thread of the cooperative pool for the operation's length, so it
/// is done only while the engine's operations lately averaged at most
/// ``StorageConfiguration/callerRunLimit`` (1 ms by default): after a long one, calls hop to the
/// worker again until short ones bring the average down. Calls from an actor (such as a loop's)
/// and the completion-based API always use the worker, so a libuv loop never runs a transaction.
extension StorageEngine {
    /// Opens (or creates) the database file at `path`; see `open(at:configuration:completion:)`.
    public static func open(
        at path: String, configuration: StorageConfiguration = StorageConfiguration()
    ) async throws(StorageError) -> StorageEngine {
        try await bridge { open(at: path, configuration: configuration, completion: $0) }
    }

    /// Opens a plugin's database; see `open(pluginName:dataDirectory:configuration:completion:)`.
    public static func open(
        pluginName: String, dataDirectory: String, configuration: StorageConfiguration = StorageConfiguration()
    ) async throws(StorageError) -> StorageEngine {
        try await bridge {
            open(pluginName: pluginName, dataDirectory: dataDirectory, configuration: configuration, completion: $0)
        }
    }

    /// Closes the database; see `close(completion:)`.
    public func close() async {
        _ = try? await Self.bridge { close(completion: $0) }
    }

    /// Wants the plugin's changes (or not); see `setChangeListening(_:completion:)`.
    public func setChangeListening(_ listening: Bool) async throws(StorageError) {
        try await Self.bridge { setChangeListening(listening, completion: $0) }
    }

    /// Reads a key; see `get(_:completion:)`.
    public func get(_ key: String, isolation: isolated (any Actor)? = #isolation) async throws(StorageError) -> KeyValueEntry? {
        try await onCallerOrWorker("get(\"\(key)\")") { db throws(StorageError) in try db.kvGet(key) }
    }

    /// Writes a key; see `put(_:value:ttl:expectedVersion:completion:)`.
    @discardableResult
    public func put(
        _ key: String, value: [UInt8], ttl: Double? = nil, expectedVersion: Int64? = nil,
        isolation: isolated (any Actor)? = #isolation
    ) async throws(StorageError) -> Int64 {
        try await onCallerOrWorker("put(\"\(key)\")") { db throws(StorageError) in
            try db.kvPut(key, value, ttl: ttl, expectedVersion: expectedVersion)
        }
    }

    /// Deletes a key; see `delete(_:expectedVersion:completion:)`.
    @discardableResult
    public func delete(
        _ key: String, expectedVersion: Int64? = nil, isolation: isolated (any Actor)? = #isolation
    ) async throws(StorageError) -> Bool {
        try await onCallerOrWorker("delete(\"\(key)\")") { db throws(StorageError) in
            try db.kvDelete(key, expectedVersion: expectedVersion)
        }
    }

    /// Lists keys; see `list(prefix:limit:after:completion:)`.
    public func list(
        prefix: String = "", limit: Int = 100, after: String? = nil, isolation: isolated (any Actor)? = #isolation
    ) async throws(StorageError) -> KeyValuePage {
        try await onCallerOrWorker("list(prefix: \"\(prefix)\")") { db throws(StorageError) in
            try db.kvList(prefix: prefix, limit: limit, after: after)
        }
    }

    /// Purges expired keys; see `purgeExpired(completion:)`.
    @discardableResult
    public func purgeExpired() async throws(StorageError) -> Int {
        try await Self.bridge { purgeExpired(completion: $0) }
    }

    /// Runs one statement; see `execute(_:_:completion:)`.
    @discardableResult
    public func execute(
        _ sql: String, _ parameters: [StorageValue] = [], isolation: isolated (any Actor)? = #isolation
    ) async throws(StorageError) -> ExecuteResult {
        try await onCallerOrWorker("execute") { db throws(StorageError) in try db.pluginExecute(sql, parameters) }
    }

    /// Runs one query; see `query(_:_:completion:)`.
    public func query(
        _ sql: String, _ parameters: [StorageValue] = [], isolation: isolated (any Actor)? = #isolation
    ) async throws(StorageError) -> QueryResult {
        try await onCallerOrWorker("query") { db throws(StorageError) in try db.pluginQuery(sql, parameters) }
    }

    /// Runs a transaction; see `transaction(_:completion:)`. On SQLite, from a task on the global
    /// executor, `body` may run on the calling thread (see above): it must not wait for another
    /// operation of this engine.
    @discardableResult
    public func transaction<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation, _ body: @escaping @Sendable (StorageTransaction) throws -> T
    ) async throws(StorageError) -> T {
        try await onCallerOrWorker("transaction", Self.transactionWork(body))
    }

    /// Applies migrations; see `migrate(_:completion:)`.
    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws(StorageError) -> [Int] {
        try await Self.bridge { migrate(migrations, completion: $0) }
    }

    /// Backs up the database; see `backup(to:completion:)`.
    public func backup(to destination: String) async throws(StorageError) {
        try await Self.bridge { backup(to: destination, completion: $0) }
    }

    /// Runs `body` as the worker job of `operation`: on the calling thread when the caller is on
    /// the global executor (`isolation` nil, no task-executor preference), the policy allows it
    /// and the worker is free; otherwise on the worker, resuming the caller with the result.
    private func onCallerOrWorker<T: Sendable>(
        _ operation: String, isolation: isolated (any Actor)? = #isolation,
        _ body: @escaping @Sendable (any StorageConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        if isolation == nil, let callerRuns, callerRuns.allows, !Self.taskPrefersAnExecutor {
            let outcome = Outcome<T>()
            if pool.runHereIfIdle(job(operation, { outcome.result = $0 }, body)), let result = outcome.result {
                return try result.get()
            }
        }
        return try await Self.bridge { run(operation, $0, body) }
    }

    /// Whether the current task prefers a task executor (whose threads may be a loop's).
    private static var taskPrefersAnExecutor: Bool {
        withUnsafeCurrentTask { $0?.unownedTaskExecutor != nil }
    }

    private static func bridge<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ start: (@escaping @Sendable (Result<T, StorageError>) -> Void) -> Void
    ) async throws(StorageError) -> T {
        let result = await withCheckedContinuation(isolation: isolation) { (continuation: CheckedContinuation<Result<T, StorageError>, Never>) in
            start { continuation.resume(returning: $0) }
        }
        return try result.get()
    }
}

/// The result of a job run on the caller's thread (written inside `DispatchQueue.sync`, read after it).
private final class Outcome<T>: @unchecked Sendable {
    var result: Result<T, StorageError>?
}
