import CPlexusABI
import Foundation

/// Key-value and SQL storage over the host vtable: every call runs off the loop in the runtime and resumes on it.
@PluginActor
final class HostStorageDriver: KeyValueDriver, SQLDriver {
    let bridge: HostBridge

    init(bridge: HostBridge) { self.bridge = bridge }

    /// The runtime's `storage_dialect` (ABI 1.9); SQLite from an older runtime.
    var dialect: SQLDialect {
        guard bridge.has(\.storage_dialect), let name = bridge.host.pointee.storage_dialect else { return .sqlite }
        return SQLDialect(rawValue: String(cString: name)) ?? .sqlite
    }

    // MARK: Key-value

    /// The value and version stored under `key`, or nil (absent or expired).
    func get(_ key: String) async throws -> StoredValue? {
        let rows = try await call { done, user in
            Self.withBytes(key) { self.bridge.host.pointee.kv_get(self.bridge.host, $0, done, user) }
        }
        return rows.rows.first.map(StoredValue.init)
    }

    /// Stores `value` under `key`; returns its new version.
    /// - Parameters:
    ///   - ttl: seconds until it expires (nil: never).
    ///   - expectedVersion: compare-and-set: nil writes unconditionally, 0 only creates, n only replaces version n.
    ///     A mismatch throws ``StorageFailure`` of kind `conflict` with the current version.
    func put(_ key: String, _ value: [UInt8], ttl: Double?, expectedVersion: Int64?) async throws -> Int64 {
        try await call { done, user in
            Self.withBytes(key) { key in
                Self.withBytes(value) { value in
                    self.bridge.host.pointee.kv_put(self.bridge.host, key, value, ttl ?? 0, expectedVersion ?? -1, done, user)
                }
            }
        }.lastInsertRowID
    }

    /// Deletes `key`; returns whether it existed (same `expectedVersion` rule as ``put(_:_:ttl:expectedVersion:)``).
    func delete(_ key: String, expectedVersion: Int64?) async throws -> Bool {
        try await call { done, user in
            Self.withBytes(key) { self.bridge.host.pointee.kv_delete(self.bridge.host, $0, expectedVersion ?? -1, done, user) }
        }.changes > 0
    }

    /// Entries whose key starts with `prefix`, in key order, after `after`, at most `limit`.
    func list(prefix: String, limit: Int, after: String?) async throws -> [StoredValue] {
        try await call { done, user in
            Self.withBytes(prefix) { prefix in
                Self.withBytes(after ?? "") { after in
                    self.bridge.host.pointee.kv_list(self.bridge.host, prefix, UInt32(clamping: limit), after, done, user)
                }
            }
        }.rows.map(StoredValue.init)
    }

    // MARK: SQL

    /// Runs one statement with bound parameters; returns rows changed and the last inserted rowid.
    func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> (changes: Int64, lastInsertRowID: Int64) {
        let result = try await call { done, user in
            SQLValue.withC(parameters) { values in
                self.bridge.host.pointee.sql_execute(self.bridge.host, sql, values.baseAddress, values.count, done, user)
            }
        }
        return (result.changes, result.lastInsertRowID)
    }

    /// Runs one query with bound parameters.
    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
        try await call { done, user in
            SQLValue.withC(parameters) { values in
                self.bridge.host.pointee.sql_query(self.bridge.host, sql, values.baseAddress, values.count, done, user)
            }
        }.rows
    }

    /// Runs `statements` in one transaction: all of them or none.
    func transaction(_ statements: [(sql: String, parameters: [SQLValue])]) async throws {
        _ = try await call { done, user in
            let texts = statements.map { strdup($0.sql) }
            defer { texts.forEach { free($0) } }
            let flattened = statements.map(\.parameters)
            SQLValue.withNested(flattened) { pointers, counts in
                texts.map { UnsafePointer($0) }.withUnsafeBufferPointer { sqls in
                    self.bridge.host.pointee.sql_batch(self.bridge.host, sqls.baseAddress, pointers.baseAddress, counts.baseAddress,
                                                       statements.count, done, user)
                }
            }
        }
    }

    /// Applies numbered migrations (1...n) not applied yet, each once, in order; returns the versions applied now.
    func migrate(_ migrations: [(version: Int, sql: String)]) async throws -> [Int] {
        try await call { done, user in
            let texts = migrations.map { strdup($0.sql) }
            defer { texts.forEach { free($0) } }
            let versions = migrations.map { Int32(clamping: $0.version) }
            versions.withUnsafeBufferPointer { versions in
                texts.map { UnsafePointer($0) }.withUnsafeBufferPointer { sqls in
                    self.bridge.host.pointee.sql_migrate(self.bridge.host, versions.baseAddress, sqls.baseAddress, migrations.count, done, user)
                }
            }
        }.rows.compactMap { $0[0].integer.map(Int.init) }
    }

    // MARK: Plumbing

    private func call(_ start: (plexus_storage_cb, UnsafeMutableRawPointer) -> Void) async throws -> StorageResult {
        guard bridge.has(\.sql_migrate) else { throw PluginError.unsupported("storage (runtime ABI 1.0)") }
        return try await withCheckedThrowingContinuation { continuation in
            let box = Unmanaged.passRetained(StorageBox(continuation)).toOpaque()
            start(StorageBox.completed, box)
        }
    }

    static func withBytes<R>(_ text: String, _ body: (plexus_bytes) -> R) -> R {
        withBytes(Array(text.utf8), body)
    }

    static func withBytes<R>(_ bytes: [UInt8], _ body: (plexus_bytes) -> R) -> R {
        bytes.withUnsafeBytes { body(plexus_bytes(data: $0.baseAddress?.assumingMemoryBound(to: CChar.self), length: $0.count)) }
    }
}

