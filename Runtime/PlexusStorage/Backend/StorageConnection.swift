/// The SQL a backend speaks; plugins ask for it to pick their dialect's statements.
public enum SQLDialect: String, Sendable, Hashable, CaseIterable {
    /// SQLite 3 (the embedded default): one file per plugin.
    case sqlite
    /// PostgreSQL: one schema and one role per plugin, shared by every instance.
    case postgresql
}

/// One connection of a storage backend, owned by one engine worker: the seam between
/// `StorageEngine` (workers, ordering, completions) and a database (SQLite's `Database`,
/// PostgreSQL's `PostgresConnection`).
///
/// Implementation requirements:
/// - Called only on the worker that owns it, never from two threads at once.
/// - Key-value semantics are the same on every backend (versions from 1, compare-and-set with
///   0 meaning "must not exist", TTLs against the configured clock, bytewise key order); the
///   shared test suite in `Tests/PlexusStorageTests` checks them on each backend.
/// - Every failure is a `StorageError`; after a failure nothing is half-written.
protocol StorageConnection: AnyObject {
    /// The SQL this connection speaks.
    var dialect: SQLDialect { get }
    /// Receives committed change batches (backends whose change feed comes from the connection).
    var changeHandler: (@Sendable ([StorageChange]) -> Void)? { get set }

    func kvGet(_ key: String) throws(StorageError) -> KeyValueEntry?
    func kvPut(_ key: String, _ value: [UInt8], ttl: Double?, expectedVersion: Int64?) throws(StorageError) -> Int64
    func kvDelete(_ key: String, expectedVersion: Int64?) throws(StorageError) -> Bool
    func kvList(prefix: String, limit: Int, after: String?) throws(StorageError) -> KeyValuePage
    func kvPurgeExpired() throws(StorageError) -> Int

    /// Runs one statement of plugin SQL (placeholders `?`, `?N`, `:name`).
    func pluginExecute(_ sql: String, _ parameters: [StorageValue]) throws(StorageError) -> ExecuteResult
    /// Runs one query of plugin SQL and returns its rows.
    func pluginQuery(_ sql: String, _ parameters: [StorageValue]) throws(StorageError) -> QueryResult
    /// Runs `body` in one transaction (or inside the one already open).
    func atomically<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T
    /// Applies the migrations not yet recorded; returns the versions applied now.
    func migrate(_ migrations: [Migration]) throws(StorageError) -> [Int]

    /// After a failed operation: roll back whatever transaction is still open.
    func rollbackIfNeeded()
    /// After every operation: hand committed changes to `changeHandler`.
    func deliverChanges()
    /// Closes the connection. Idempotent.
    func close()
}

extension Database: StorageConnection {
    var dialect: SQLDialect { .sqlite }

    func pluginExecute(_ sql: String, _ parameters: [StorageValue]) throws(StorageError) -> ExecuteResult {
        try execute(sql, parameters, mode: .plugin)
    }

    func pluginQuery(_ sql: String, _ parameters: [StorageValue]) throws(StorageError) -> QueryResult {
        try query(sql, parameters, mode: .plugin)
    }
}
