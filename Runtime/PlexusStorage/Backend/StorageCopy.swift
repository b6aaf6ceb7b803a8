import Foundation

/// What copying one table (or the key-value store, `_plexus_kv`) found and did.
public struct TableCopyReport: Sendable, Hashable, CustomStringConvertible {
    /// The table's name; `_plexus_kv` for the key-value store.
    public let table: String
    /// Rows (entries) in the source, and now in the target.
    public let rows: Int
    /// FNV-1a 64 over the rows' values (order-independent), equal on both sides after the copy.
    public let checksum: String
    /// False when the target already held exactly these rows (a resumed copy skips it).
    public let copied: Bool

    /// `items: 42 rows, checksum 0123..., copied`.
    public var description: String { "\(table): \(rows) rows, checksum \(checksum), \(copied ? "copied" : "already there")" }
}

extension StorageEngine {
    /// Runs `body` on a worker's connection and returns its result.
    func withConnection<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (any StorageConnection) throws(StorageError) -> T
    ) async throws(StorageError) -> T {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, StorageError>, Never>) in
            run(operation, { continuation.resume(returning: $0) }, body)
        }
        return try result.get()
    }

    /// Copies this engine's data to `target` (SQLite to PostgreSQL or back): the key-value store
    /// (versions and expiries kept) and every table of this plugin that the target also has (the
    /// plugin's migrations create them: run the plugin once on the target first). A table whose
    /// rows the target already holds (same count and checksum) is skipped, so an interrupted copy
    /// resumes; any other target table is emptied and filled in one transaction, then verified.
    /// On PostgreSQL, serial columns' sequences are moved past the copied ids.
    public func copy(to target: StorageEngine) async throws(StorageError) -> [TableCopyReport] {
        var reports: [TableCopyReport] = []
        // Key-value.
        let entries = try await withConnection("copy: read _plexus_kv") { db throws(StorageError) in try Self.allEntries(db) }
        let existing = try await target.withConnection("copy: read _plexus_kv") { db throws(StorageError) in try Self.allEntries(db) }
        let kvChecksum = Self.checksum(entries.map(Self.row))
        if kvChecksum != Self.checksum(existing.map(Self.row)) || entries.count != existing.count {
            try await target.withConnection("copy: write _plexus_kv") { db throws(StorageError) in
                try db.kvImport(entries, replacingAll: true)
            }
            let written = try await target.withConnection("copy: verify _plexus_kv") { db throws(StorageError) in try Self.allEntries(db) }
            guard Self.checksum(written.map(Self.row)) == kvChecksum else {
                throw StorageError(.other, "the key-value store differs after the copy (checksum mismatch)", operation: "copy")
            }
            reports.append(TableCopyReport(table: "_plexus_kv", rows: entries.count, checksum: kvChecksum, copied: true))
        } else {
            reports.append(TableCopyReport(table: "_plexus_kv", rows: entries.count, checksum: kvChecksum, copied: false))
        }
        // Tables.
        let tables = try await withConnection("copy: list tables") { db throws(StorageError) in try db.tableNames() }
        let targetTables = Set(try await target.withConnection("copy: list tables") { db throws(StorageError) in try db.tableNames() })
        for table in tables {
            guard targetTables.contains(table) else {
                throw StorageError(
                    .notFound, "table \"\(table)\" does not exist on the target (\(target.path)): start the plugin once on the target so its migrations create it",
                    operation: "copy")
            }
            let source = try await query("SELECT * FROM \(Self.quoted(table))")
            let columns = source.columns
            let select = "SELECT \(columns.map(Self.quoted).joined(separator: ", ")) FROM \(Self.quoted(table))"
            let rows = source.rows.map(\.values)
            let sum = Self.checksum(rows)
            let before = try await target.query(select)
            if before.rows.count == rows.count && Self.checksum(before.rows.map(\.values)) == sum {
                reports.append(TableCopyReport(table: table, rows: rows.count, checksum: sum, copied: false))
                continue
            }
            let insert = "INSERT INTO \(Self.quoted(table)) (\(columns.map(Self.quoted).joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
            let postgres = target.dialect == .postgresql
            try await target.transaction { tx in
                try tx.execute("DELETE FROM \(Self.quoted(table))")
                for row in rows { try tx.execute(insert, row) }
                if postgres {
                    let serials = try tx.query(
                        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_default LIKE 'nextval(%'",
                        [.text(table)])
                    for serial in serials.rows.compactMap({ $0[0].textValue }) {
                        _ = try tx.query(
                            "SELECT setval(pg_get_serial_sequence(?, ?), GREATEST((SELECT max(\(Self.quoted(serial))) FROM \(Self.quoted(table))), 1))",
                            [.text(Self.quoted(table)), .text(serial)])
                    }
                }
            }
            let after = try await target.query(select)
            guard after.rows.count == rows.count, Self.checksum(after.rows.map(\.values)) == sum else {
                throw StorageError(.other, "table \"\(table)\" differs after the copy (\(after.rows.count) rows, expected \(rows.count); checksum mismatch)", operation: "copy")
            }
            reports.append(TableCopyReport(table: table, rows: rows.count, checksum: sum, copied: true))
        }
        return reports
    }

    private static func allEntries(_ db: any StorageConnection) throws(StorageError) -> [KeyValueEntry] {
        var entries: [KeyValueEntry] = []
        var after: String?
        repeat {
            let page = try db.kvList(prefix: "", limit: 1000, after: after)
            entries += page.entries
            after = page.nextCursor
        } while after != nil
        return entries
    }

    private static func row(_ entry: KeyValueEntry) -> [StorageValue] {
        [.text(entry.key), .blob(entry.value), .integer(entry.version), entry.expiresAt.map { .real($0.timeIntervalSince1970) } ?? .null]
    }

    /// `"name"`, with inner quotes doubled (both dialects).
    static func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// FNV-1a 64 over each row's canonical encoding, combined order-independently (sorted).
    static func checksum(_ rows: [[StorageValue]]) -> String {
        let encoded = rows.map { row in
            row.map { value -> String in
                switch value {
                case .null: "n"
                case .integer(let v): "i\(v)"
                case .real(let v): "r\(v.bitPattern)"
                case .text(let v): "t\(v.utf8.count):\(v)"
                case .blob(let v): "b\(v.count):" + v.map { String($0, radix: 16) }.joined(separator: ".")
                }
            }.joined(separator: "|")
        }.sorted()
        return Migration.checksum(encoded.joined(separator: "\n"))
    }
}
