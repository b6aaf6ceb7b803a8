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
/// - Called only inside the serial queue of the worker that owns it (a job there, or a job an
///   `async` caller runs on its own thread through `DispatchQueue.sync` on that queue), so never
///   from two threads at once, though not always from the same thread.
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

    /// Writes entries as they are (version and expiry kept), replacing keys that exist; with
    /// `replacingAll`, every other key is deleted first. For copying stores.
    func kvImport(_ entries: [KeyValueEntry], replacingAll: Bool) throws(StorageError)
    /// The plugin's own tables (not the engine's `_plexus_*`), sorted by name.
    func tableNames() throws(StorageError) -> [String]

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

    func kvImport(_ entries: [KeyValueEntry], replacingAll: Bool) throws(StorageError) {
        try atomically { () throws(StorageError) in
            if replacingAll { _ = try execute("DELETE FROM _plexus_kv", [], mode: .engine) }
            for entry in entries {
                _ = try execute(
                    "INSERT OR REPLACE INTO _plexus_kv (key, value, version, expires_at) VALUES (?1, ?2, ?3, ?4)",
                    [.text(entry.key), .blob(entry.value), .integer(entry.version),
                     entry.expiresAt.map { .real($0.timeIntervalSince1970) } ?? .null], mode: .engine)
            }
        }
    }

    func tableNames() throws(StorageError) -> [String] {
        try query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name", [], mode: .engine
        ).rows.compactMap { $0[0].textValue }.filter { !ChangeCollector.isInternal($0) }
    }
}
