import Foundation

/// The key-value store in the plugin schema's `_plexus_kv`, with the same semantics as SQLite's
/// (`KeyValue.swift`). Every write is one statement, atomic on its own, so two instances
/// writing the same key never both win a compare-and-set.
extension PostgresConnection {
    private var now: Double { clock().timeIntervalSince1970 }

    private static func entry(_ row: StorageRow) -> KeyValueEntry {
        KeyValueEntry(
            key: row[0].textValue ?? "", value: row[1].blobValue ?? [], version: row[2].integerValue ?? 0,
            expiresAt: row[3].realValue.map { Date(timeIntervalSince1970: $0) })
    }

    func kvGet(_ key: String) throws(StorageError) -> KeyValueEntry? {
        try run(
            PostgresKeyValueSQL.get, [.text(key), .real(now)], translate: false
        ).result.rows.first.map(Self.entry)
    }

    private func kvCurrentVersion(_ key: String) throws(StorageError) -> Int64 {
        try run(
            PostgresKeyValueSQL.version, [.text(key), .real(now)], translate: false
        ).result.rows.first?[0].integerValue ?? 0
    }

    private func conflict(_ key: String, expected: Int64) throws(StorageError) -> StorageError {
        let current = try kvCurrentVersion(key)
        return StorageError(.conflict, "key \"\(key)\" is at version \(current), expected \(expected)", currentVersion: current)
    }

    func kvPut(_ key: String, _ value: [UInt8], ttl: Double?, expectedVersion: Int64?) throws(StorageError) -> Int64 {
        if let ttl, !(ttl > 0) { throw StorageError(.misuse, "ttl must be positive, got \(ttl)") }
        if let expectedVersion, expectedVersion < 0 { throw StorageError(.misuse, "expectedVersion must be >= 0") }
        let now = self.now
        let expiresAt: StorageValue = ttl.map { .real(now + $0) } ?? .null
        let rows: [StorageRow]
        switch expectedVersion {
        case nil:
            rows = try run(
                PostgresKeyValueSQL.put, [.text(key), .blob(value), expiresAt, .real(now)], translate: false
            ).result.rows
        case 0?:
            rows = try run(
                PostgresKeyValueSQL.putNew, [.text(key), .blob(value), expiresAt, .real(now)], translate: false
            ).result.rows
        case let expected?:
            rows = try run(
                PostgresKeyValueSQL.putExpected, [.text(key), .blob(value), expiresAt, .integer(expected), .real(now)], translate: false
            ).result.rows
        }
        guard let version = rows.first?[0].integerValue else {
            throw try conflict(key, expected: expectedVersion ?? 0)
        }
        return version
    }

    func kvDelete(_ key: String, expectedVersion: Int64?) throws(StorageError) -> Bool {
        if let expectedVersion, expectedVersion < 0 { throw StorageError(.misuse, "expectedVersion must be >= 0") }
        let now = self.now
        switch expectedVersion {
        case nil:
            // Also removes an expired leftover row; reports whether a live one existed.
            let rows = try run(
                PostgresKeyValueSQL.delete, [.text(key), .real(now)], translate: false
            ).result.rows
            return rows.first?[0].integerValue == 1
        case 0?:
            let current = try kvCurrentVersion(key)
            if current != 0 {
                throw StorageError(.conflict, "key \"\(key)\" is at version \(current), expected 0", currentVersion: current)
            }
            _ = try run("DELETE FROM _plexus_kv WHERE key = $1::text AND expires_at IS NOT NULL AND expires_at <= $2",
                        [.text(key), .real(now)], translate: false)
            return false
        case let expected?:
            let rows = try run(
                PostgresKeyValueSQL.deleteExpected, [.text(key), .integer(expected), .real(now)], translate: false
            ).result.rows
            if rows.isEmpty { throw try conflict(key, expected: expected) }
            return true
        }
    }

    func kvList(prefix: String, limit: Int, after: String?) throws(StorageError) -> KeyValuePage {
        guard limit > 0 else { throw StorageError(.misuse, "limit must be positive, got \(limit)") }
        let upper: StorageValue = Database.prefixUpperBound(prefix).map { .text($0) } ?? .null
        let result = try run(
            """
            SELECT key, value, version, expires_at FROM _plexus_kv
            WHERE key >= $1::text AND ($2::text IS NULL OR key > $2::text) AND ($3::text IS NULL OR key < $3::text)
              AND (expires_at IS NULL OR expires_at > $4)
            ORDER BY key LIMIT $5
            """,
            [.text(prefix), after.map { .text($0) } ?? .null, upper, .real(now), .integer(Int64(limit) + 1)],
            translate: false).result
        var entries = result.rows.map(Self.entry)
        var next: String?
        if entries.count > limit {
            entries.removeLast(entries.count - limit)
            next = entries.last?.key
        }
        return KeyValuePage(entries: entries, nextCursor: next)
    }

    func kvImport(_ entries: [KeyValueEntry], replacingAll: Bool) throws(StorageError) {
        try atomically { () throws(StorageError) in
            if replacingAll { _ = try run("DELETE FROM _plexus_kv", [], translate: false) }
            for entry in entries {
                _ = try run(
                    """
                    INSERT INTO _plexus_kv (key, value, version, expires_at) VALUES ($1::text, $2, $3, $4::float8)
                    ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, expires_at = EXCLUDED.expires_at
                    """,
                    [.text(entry.key), .blob(entry.value), .integer(entry.version), entry.expiresAt.map { .real($0.timeIntervalSince1970) } ?? .null],
                    translate: false)
            }
        }
    }

    func tableNames() throws(StorageError) -> [String] {
        try run(
            """
            SELECT table_name::text FROM information_schema.tables
            WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND left(table_name, 8) <> '_plexus_'
            ORDER BY 1
            """, [], translate: false
        ).result.rows.compactMap { $0[0].textValue }
    }

    func kvPurgeExpired() throws(StorageError) -> Int {
        try run("DELETE FROM _plexus_kv WHERE expires_at IS NOT NULL AND expires_at <= $1", [.real(now)], translate: false).changes
    }
}
