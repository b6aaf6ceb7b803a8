import Foundation

/// One key-value entry.
public struct KeyValueEntry: Sendable, Hashable {
    /// The key.
    public let key: String
    /// The stored bytes.
    public let value: [UInt8]
    /// The version: 1 when created, incremented on every write; restarts at 1 after a delete or expiry.
    public let version: Int64
    /// When the entry expires, if it was written with a TTL.
    public let expiresAt: Date?
}

/// One page of a key listing.
public struct KeyValuePage: Sendable, Hashable {
    /// The entries, ordered by key (bytewise UTF-8).
    public let entries: [KeyValueEntry]
    /// Pass as `after:` to get the next page; nil when this is the last page.
    public let nextCursor: String?
}

/// The key-value store in `_plexus_kv`, on the worker's connection.
extension Database {
    private var now: Double { clock().timeIntervalSince1970 }

    private static func entry(_ row: StorageRow) -> KeyValueEntry {
        KeyValueEntry(
            key: row[0].textValue ?? "", value: row[1].blobValue ?? [], version: row[2].integerValue ?? 0,
            expiresAt: row[3].realValue.map { Date(timeIntervalSince1970: $0) })
    }

    func kvGet(_ key: String) throws(StorageError) -> KeyValueEntry? {
        let result = try query(
            "SELECT key, value, version, expires_at FROM _plexus_kv WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
            [.text(key), .real(now)], mode: .engine)
        return result.rows.first.map(Self.entry)
    }

    /// The live version of a key (0 if absent or expired).
    private func kvCurrentVersion(_ key: String) throws(StorageError) -> Int64 {
        let result = try query(
            "SELECT version FROM _plexus_kv WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
            [.text(key), .real(now)], mode: .engine)
        return result.rows.first?[0].integerValue ?? 0
    }

    func kvPut(_ key: String, _ value: [UInt8], ttl: TimeInterval?, expectedVersion: Int64?) throws(StorageError) -> Int64 {
        if let ttl, !(ttl > 0) { throw StorageError(.misuse, "ttl must be positive, got \(ttl)") }
        if let expectedVersion, expectedVersion < 0 { throw StorageError(.misuse, "expectedVersion must be >= 0") }
        return try atomically { () throws(StorageError) -> Int64 in
            let current = try kvCurrentVersion(key)
            if let expectedVersion, expectedVersion != current {
                throw StorageError(
                    .conflict, "key \"\(key)\" is at version \(current), expected \(expectedVersion)",
                    currentVersion: current)
            }
            let version = current + 1
            let expiresAt: StorageValue = ttl.map { .real(now + $0) } ?? .null
            _ = try execute(
                "INSERT OR REPLACE INTO _plexus_kv (key, value, version, expires_at) VALUES (?1, ?2, ?3, ?4)",
                [.text(key), .blob(value), .integer(version), expiresAt], mode: .engine)
            return version
        }
    }

    func kvDelete(_ key: String, expectedVersion: Int64?) throws(StorageError) -> Bool {
        try atomically { () throws(StorageError) -> Bool in
            let current = try kvCurrentVersion(key)
            if let expectedVersion, expectedVersion != current {
                throw StorageError(
                    .conflict, "key \"\(key)\" is at version \(current), expected \(expectedVersion)",
                    currentVersion: current)
            }
            // Also removes an expired leftover row.
            _ = try execute("DELETE FROM _plexus_kv WHERE key = ?1", [.text(key)], mode: .engine)
            return current != 0
        }
    }

    func kvList(prefix: String, limit: Int, after: String?) throws(StorageError) -> KeyValuePage {
        guard limit > 0 else { throw StorageError(.misuse, "limit must be positive, got \(limit)") }
        let upper: StorageValue = Self.prefixUpperBound(prefix).map { .text($0) } ?? .null
        let result = try query(
            """
            SELECT key, value, version, expires_at FROM _plexus_kv
            WHERE key >= ?1 AND (?2 IS NULL OR key > ?2) AND (?3 IS NULL OR key < ?3)
              AND (expires_at IS NULL OR expires_at > ?4)
            ORDER BY key LIMIT ?5
            """,
            [.text(prefix), after.map { .text($0) } ?? .null, upper, .real(now), .integer(Int64(limit) + 1)],
            mode: .engine)
        var entries = result.rows.map(Self.entry)
        var next: String?
        if entries.count > limit {
            entries.removeLast(entries.count - limit)
            next = entries.last?.key
        }
        return KeyValuePage(entries: entries, nextCursor: next)
    }

    /// Deletes expired entries; returns how many.
    func kvPurgeExpired() throws(StorageError) -> Int {
        try execute(
            "DELETE FROM _plexus_kv WHERE expires_at IS NOT NULL AND expires_at <= ?1", [.real(now)], mode: .engine
        ).changes
    }

    /// The smallest string greater than every string that starts with `prefix` (nil: no bound).
    /// UTF-8 byte order equals scalar order, so incrementing the last scalar is exact.
    static func prefixUpperBound(_ prefix: String) -> String? {
        var scalars = Array(prefix.unicodeScalars)
        while let last = scalars.popLast() {
            var next = last.value + 1
            if next == 0xD800 { next = 0xE000 }
            if let scalar = Unicode.Scalar(next) {
                scalars.append(scalar)
                var view = String.UnicodeScalarView()
                view.append(contentsOf: scalars)
                return String(view)
            }
        }
        return nil
    }
}
