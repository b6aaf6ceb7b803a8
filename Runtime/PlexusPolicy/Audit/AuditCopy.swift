import Foundation
import PlexusStorage

/// `plexus storage migrate --to URL` for the audit log: copies the records of a SQLite audit log
/// (`<data>/runtime/audit.sqlite`) into the shared log on PostgreSQL.
///
/// Old ids: PostgreSQL numbers the copies itself (BIGSERIAL, in the SQLite ids' order, which is
/// the records' order), after the records already there, and each copy keeps where it came from:
/// `sqlite_source` (the copying installation's instance id) and `sqlite_id` (its id there).
/// Keeping the old ids as the ids was not possible in general: instances on PostgreSQL may have
/// numbered records of their own already, and several installations, each with its own SQLite
/// log numbered from 1, may be moved into one database. The pair keeps an old id findable and
/// makes the copy resumable: a record whose pair is there is not copied again.
public enum AuditCopy {
    /// What a copy found and did.
    public struct Report: Sendable {
        /// Records in the SQLite log.
        public let records: Int
        /// Records copied by this run (the others were there from an earlier run).
        public let copied: Int
        /// FNV-1a 64 over the records' content in id order, the same on both sides.
        public let checksum: String
    }

    static let columns = "time, actor, actor_kind, action, target, outcome, request_id, tenant, detail"
    static let page = 1000

    /// Copies every record of the SQLite log at `path` to PostgreSQL, page by page (each page one
    /// transaction), and verifies each page by count and checksum: PostgreSQL holds each of its
    /// records once, with the same content. Records of this source that SQLite no longer has
    /// (pruned by its retention since an earlier, interrupted run) are not compared; a record
    /// PostgreSQL's own retention pruned is copied again.
    /// - Throws: `.storage` when either side fails, or when the verification finds a difference.
    public static func copy(sqlite path: String, source: String, to settings: PostgresSettings) async throws(PolicyError) -> Report {
        var configuration = StorageConfiguration()
        configuration.purgeInterval = nil
        configuration.createIfMissing = false
        var opened: [StorageEngine] = []
        let outcome: Result<(records: Int, copied: Int, found: Int, sqliteSum: Checksum, postgresSum: Checksum), StorageError>
        do throws(StorageError) {
            let sqlite = try await StorageEngine.open(at: path, configuration: configuration)
            opened.append(sqlite)
            let postgres = try await StorageEngine.open(pluginName: AuditLog.postgresStorageName, postgres: settings, configuration: configuration)
            opened.append(postgres)
            try await postgres.migrate(AuditSchema.migrations)
            var copied = 0, records = 0, found = 0
            var sqliteSum = Checksum(), postgresSum = Checksum(), after: Int64 = 0
            while true {
                let rows = try await sqlite.query("SELECT id, \(columns) FROM audit_log WHERE id > ?1 ORDER BY id LIMIT \(page)", [.integer(after)]).rows
                guard let first = rows.first?[0].integerValue, let last = rows.last?[0].integerValue else { break }
                let statements = rows.map { row in
                    (sql: """
                        INSERT INTO audit_log (sqlite_id, \(columns), sqlite_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
                        ON CONFLICT (sqlite_source, sqlite_id) WHERE sqlite_id IS NOT NULL DO NOTHING
                        """, parameters: row.values + [StorageValue.text(source)])
                }
                let changed = try await postgres.transaction { transaction throws(StorageError) -> Int in
                    var changed = 0
                    for statement in statements { changed += Int(try transaction.execute(statement.sql, statement.parameters).changes) }
                    return changed
                }
                copied += changed
                records += rows.count
                for row in rows { sqliteSum.add(row.values) }
                // Verify the page: PostgreSQL holds each of these records of this source once,
                // with the same content. Only the ids SQLite still has are compared: records it
                // pruned since an earlier, interrupted run stay copied and are not counted.
                let copies = try await postgres.query(
                    "SELECT sqlite_id, \(columns) FROM audit_log WHERE sqlite_source = ?1 AND sqlite_id BETWEEN ?2 AND ?3 ORDER BY sqlite_id",
                    [StorageValue.text(source), .integer(first), .integer(last)]).rows
                var byID: [Int64: [StorageValue]] = [:]
                for copy in copies { if let id = copy[0].integerValue { byID[id] = copy.values } }
                for row in rows {
                    guard let id = row[0].integerValue, let copy = byID[id] else { continue }
                    postgresSum.add(copy)
                    found += 1
                }
                after = last
                if rows.count < page { break }
            }
            outcome = .success((records, copied, found, sqliteSum, postgresSum))
        } catch {
            outcome = .failure(error)
        }
        for engine in opened { await engine.close() }
        switch outcome {
        case .failure(let error):
            throw PolicyError(storage: error)
        case .success(let result):
            guard result.found == result.records, result.sqliteSum.value == result.postgresSum.value else {
                throw PolicyError(.storage, "audit log: PostgreSQL holds \(result.found) copied records (checksum \(result.postgresSum.hex)), the SQLite log \(result.records) (checksum \(result.sqliteSum.hex))")
            }
            return Report(records: result.records, copied: result.copied, checksum: result.sqliteSum.hex)
        }
    }

    /// FNV-1a 64 over the rows' canonical encodings, in order.
    struct Checksum {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325

        mutating func add(_ row: [StorageValue]) {
            for value in row {
                let encoded: String
                switch value {
                case .null: encoded = "n"
                case .integer(let v): encoded = "i\(v)"
                case .real(let v): encoded = "r\(v.bitPattern)"
                case .text(let v): encoded = "t\(v.utf8.count):\(v)"
                case .blob(let v): encoded = "b\(v.count):" + v.map { String($0, radix: 16) }.joined(separator: ".")
                }
                for byte in encoded.utf8 { self.value = (self.value ^ UInt64(byte)) &* 0x100_0000_01b3 }
                self.value = (self.value ^ 0x7c) &* 0x100_0000_01b3
            }
            value = (value ^ 0x0a) &* 0x100_0000_01b3
        }

        var hex: String { let text = String(value, radix: 16); return String(repeating: "0", count: 16 - text.count) + text }
    }
}
