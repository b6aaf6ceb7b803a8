/// `async` conveniences over the completion-based API (same semantics, same worker).
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
    public func get(_ key: String) async throws(StorageError) -> KeyValueEntry? {
        try await Self.bridge { get(key, completion: $0) }
    }

    /// Writes a key; see `put(_:value:ttl:expectedVersion:completion:)`.
    @discardableResult
    public func put(
        _ key: String, value: [UInt8], ttl: Double? = nil, expectedVersion: Int64? = nil
    ) async throws(StorageError) -> Int64 {
        try await Self.bridge { put(key, value: value, ttl: ttl, expectedVersion: expectedVersion, completion: $0) }
    }

    /// Deletes a key; see `delete(_:expectedVersion:completion:)`.
    @discardableResult
    public func delete(_ key: String, expectedVersion: Int64? = nil) async throws(StorageError) -> Bool {
        try await Self.bridge { delete(key, expectedVersion: expectedVersion, completion: $0) }
    }

    /// Lists keys; see `list(prefix:limit:after:completion:)`.
    public func list(prefix: String = "", limit: Int = 100, after: String? = nil) async throws(StorageError) -> KeyValuePage {
        try await Self.bridge { list(prefix: prefix, limit: limit, after: after, completion: $0) }
    }

    /// Purges expired keys; see `purgeExpired(completion:)`.
    @discardableResult
    public func purgeExpired() async throws(StorageError) -> Int {
        try await Self.bridge { purgeExpired(completion: $0) }
    }

    /// Runs one statement; see `execute(_:_:completion:)`.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [StorageValue] = []) async throws(StorageError) -> ExecuteResult {
        try await Self.bridge { execute(sql, parameters, completion: $0) }
    }

    /// Runs one query; see `query(_:_:completion:)`.
    public func query(_ sql: String, _ parameters: [StorageValue] = []) async throws(StorageError) -> QueryResult {
        try await Self.bridge { query(sql, parameters, completion: $0) }
    }

    /// Runs a transaction; see `transaction(_:completion:)`.
    @discardableResult
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (StorageTransaction) throws -> T
    ) async throws(StorageError) -> T {
        try await Self.bridge { transaction(body, completion: $0) }
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

    private static func bridge<T: Sendable>(
        _ start: (@escaping @Sendable (Result<T, StorageError>) -> Void) -> Void
    ) async throws(StorageError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, StorageError>, Never>) in
            start { continuation.resume(returning: $0) }
        }
        return try result.get()
    }
}
