import CSQLite
import Foundation

/// A consistent copy of one SQLite database with SQLite's online backup API, safe while the runtime
/// writes to it. ``DataDirectoryBackup`` uses it for every database of a data directory.
public enum DatabaseBackup {
    /// Why a backup or a restore failed, naming the file and what to do.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong, where.
        public let description: String

        /// Creates a failure.
        public init(_ description: String) { self.description = description }
    }

    /// The first 16 bytes of every SQLite database file.
    static let header = Array("SQLite format 3\0".utf8)

    /// Whether the file at `path` starts with the SQLite header.
    static func isDatabase(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: header.count)).map { Array($0) == header } ?? false
    }

    /// Copies the database at `source` to `destination` (which must not exist) with `sqlite3_backup_*`, then
    /// checks the copy with `PRAGMA quick_check`. On any failure the destination is removed: no partial file
    /// is left behind.
    static func copy(_ source: String, to destination: String) throws {
        do {
            try copyUnchecked(source, to: destination)
        } catch {
            try? FileManager.default.removeItem(atPath: destination)
            throw error
        }
    }

    private static func copyUnchecked(_ source: String, to destination: String) throws {
        var from: OpaquePointer?, to: OpaquePointer?
        defer {
            sqlite3_close_v2(from)
            sqlite3_close_v2(to)
        }
        guard sqlite3_open_v2(source, &from, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw Failure("\(source): cannot be opened: \(message(from))")
        }
        sqlite3_busy_timeout(from, 5_000)
        guard sqlite3_open_v2(destination, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else {
            throw Failure("\(destination): cannot be created: \(message(to))")
        }
        guard let backup = sqlite3_backup_init(to, "main", from, "main") else {
            throw Failure("\(source): backup cannot start: \(message(to))")
        }
        var status: Int32
        repeat {
            status = sqlite3_backup_step(backup, 256)
            if status == SQLITE_BUSY || status == SQLITE_LOCKED { sqlite3_sleep(20) }
        } while status == SQLITE_OK || status == SQLITE_BUSY || status == SQLITE_LOCKED
        sqlite3_backup_finish(backup)
        guard status == SQLITE_DONE else {
            throw Failure("\(source): backup failed: \(String(cString: sqlite3_errstr(status)))")
        }
        // The copy is a plain rollback-journal database: one self-contained file.
        sqlite3_exec(to, "PRAGMA journal_mode = DELETE", nil, nil, nil)
        try quickCheck(to, destination)
    }

    /// Opens the database at `path` read-only and runs `PRAGMA quick_check`.
    static func verify(_ path: String) throws {
        var database: OpaquePointer?
        defer { sqlite3_close_v2(database) }
        guard sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw Failure("\(path): cannot be opened: \(message(database))")
        }
        try quickCheck(database, path)
    }

    private static func quickCheck(_ database: OpaquePointer?, _ path: String) throws {
        var check: OpaquePointer?
        sqlite3_prepare_v2(database, "PRAGMA quick_check", -1, &check, nil)
        defer { sqlite3_finalize(check) }
        guard sqlite3_step(check) == SQLITE_ROW, let text = sqlite3_column_text(check, 0), String(cString: text) == "ok" else {
            throw Failure("\(path): the copy failed its integrity check (PRAGMA quick_check)")
        }
    }

    private static func message(_ database: OpaquePointer?) -> String {
        database.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
    }
}
