/// The handle a `StorageEngine.transaction` body uses to run statements atomically.
///
/// Valid only inside the body, on the engine's worker; using it afterwards throws `.misuse`.
/// Every statement runs in the same transaction: committed when the body returns, rolled back
/// when it throws (any error) or when a statement fails.
public final class StorageTransaction {
    private let database: any StorageConnection
    private var isOpen = true

    init(database: any StorageConnection) {
        self.database = database
    }

    func invalidate() { isOpen = false }

    private func check() throws(StorageError) {
        guard isOpen else { throw StorageError(.misuse, "transaction used outside its body") }
    }

    /// Runs one data-changing statement with bound parameters.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [StorageValue] = []) throws(StorageError) -> ExecuteResult {
        try check()
        return try database.pluginExecute(sql, parameters)
    }

    /// Runs one statement with bound parameters and returns its rows.
    public func query(_ sql: String, _ parameters: [StorageValue] = []) throws(StorageError) -> QueryResult {
        try check()
        return try database.pluginQuery(sql, parameters)
    }

    /// The SQL dialect of the engine's backend.
    public var dialect: SQLDialect { database.dialect }

    /// Reads a key-value entry (nil if absent or expired).
    public func get(_ key: String) throws(StorageError) -> KeyValueEntry? {
        try check()
        return try database.kvGet(key)
    }

    /// Writes a key-value entry; see `StorageEngine.put`. Returns the new version.
    @discardableResult
    public func put(
        _ key: String, value: [UInt8], ttl: Double? = nil, expectedVersion: Int64? = nil
    ) throws(StorageError) -> Int64 {
        try check()
        return try database.kvPut(key, value, ttl: ttl, expectedVersion: expectedVersion)
    }

    /// Deletes a key-value entry; see `StorageEngine.delete`. Returns whether it existed.
    @discardableResult
    public func delete(_ key: String, expectedVersion: Int64? = nil) throws(StorageError) -> Bool {
        try check()
        return try database.kvDelete(key, expectedVersion: expectedVersion)
    }
}
