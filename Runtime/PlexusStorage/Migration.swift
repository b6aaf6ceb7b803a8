import Foundation

/// One numbered schema migration. Versions start at 1 and have no gaps; once applied, a
/// migration's SQL must never change (its checksum is recorded, per backend).
public struct Migration: Sendable, Hashable {
    /// The migration's number (1, 2, 3, ...).
    public let version: Int
    /// The SQL to run; may hold several statements. Runs under the plugin sandbox.
    public let sql: String
    /// The PostgreSQL form of the migration where it differs from `sql` (nil: `sql` runs on both).
    public let postgresql: String?

    /// Creates a migration; `postgresql` is the statement text for PostgreSQL where the dialects differ.
    public init(version: Int, sql: String, postgresql: String? = nil) {
        self.version = version
        self.sql = sql
        self.postgresql = postgresql
    }

    /// The SQL that runs on `dialect`.
    public func sql(for dialect: SQLDialect) -> String {
        dialect == .postgresql ? (postgresql ?? sql) : sql
    }

    /// FNV-1a 64 of the SQLite SQL's UTF-8 bytes, as 16 hex digits.
    var checksum: String { Self.checksum(sql) }

    /// FNV-1a 64 of the SQL that runs on `dialect`, as 16 hex digits.
    func checksum(for dialect: SQLDialect) -> String { Self.checksum(sql(for: dialect)) }

    static func checksum(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

extension Migration {
    /// The list sorted by version; refuses a duplicate or a gap (numbering is 1, 2, 3, ...).
    static func validatedOrder(_ migrations: [Migration]) throws(StorageError) -> [Migration] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (index, migration) in sorted.enumerated() where migration.version != index + 1 {
            if index > 0 && sorted[index - 1].version == migration.version {
                throw StorageError(.invalidMigration, "migration \(migration.version) is listed twice")
            }
            throw StorageError(
                .invalidMigration,
                "migrations must be numbered 1, 2, 3, ... without gaps: expected \(index + 1), found \(migration.version)")
        }
        return sorted
    }

    /// Refuses a recorded migration that is not in the list or whose SQL (for `dialect`) changed.
    static func checkRecorded(_ applied: [Int: String], against sorted: [Migration], dialect: SQLDialect) throws(StorageError) {
        for (version, checksum) in applied.sorted(by: { $0.key < $1.key }) {
            guard version >= 1, version <= sorted.count else {
                throw StorageError(
                    .invalidMigration,
                    "the database has migration \(version) applied, which is not in the list (of \(sorted.count))")
            }
            if sorted[version - 1].checksum(for: dialect) != checksum {
                throw StorageError(
                    .invalidMigration, "migration \(version) was changed after it was applied (checksum mismatch)")
            }
        }
    }
}

/// The migration runner, on the worker's connection.
extension Database {
    /// Validates the whole list against `_plexus_migrations`, then applies the missing ones in
    /// order, each in its own transaction together with its record. Returns the versions applied.
    func migrate(_ migrations: [Migration]) throws(StorageError) -> [Int] {
        let sorted = try Migration.validatedOrder(migrations)
        let recorded = try query("SELECT version, checksum FROM _plexus_migrations ORDER BY version", [], mode: .engine)
        var applied: [Int: String] = [:]
        for row in recorded.rows {
            applied[Int(row[0].integerValue ?? 0)] = row[1].textValue ?? ""
        }
        try Migration.checkRecorded(applied, against: sorted, dialect: .sqlite)
        var ran: [Int] = []
        for migration in sorted where applied[migration.version] == nil {
            do {
                try atomically { () throws(StorageError) in
                    try runScript(migration.sql, mode: .plugin)
                    _ = try execute(
                        "INSERT INTO _plexus_migrations (version, checksum, applied_at) VALUES (?1, ?2, ?3)",
                        [.integer(Int64(migration.version)), .text(migration.checksum),
                         .real(Date().timeIntervalSince1970)], mode: .engine)
                }
            } catch {
                throw StorageError(
                    error.kind, "migration \(migration.version) failed and was rolled back: \(error.message)",
                    sqliteCode: error.sqliteCode)
            }
            ran.append(migration.version)
        }
        return ran
    }
}
