import CSQLite
import Foundation

/// Consistent copies of the runtime's SQLite files (every plugin's storage and the durable event
/// log) with SQLite's online backup API, safe while the runtime is serving.
public enum DatabaseBackup {
    /// One copied database.
    public struct Copy: Sendable {
        public let source: String
        public let destination: String
        public let bytes: Int
    }

    /// Why a backup failed, naming the file.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Copies `<data>/events.sqlite` and `<data>/plugins/<name>/storage.sqlite` into `output`
    /// (as `events.sqlite` and `plugins/<name>.sqlite`), each checked with `quick_check` after.
    public static func run(dataDirectory: URL, output: URL) throws -> [Copy] {
        var sources: [(URL, URL)] = []
        let events = dataDirectory.appendingPathComponent("events.sqlite")
        if FileManager.default.fileExists(atPath: events.path) {
            sources.append((events, output.appendingPathComponent("events.sqlite")))
        }
        let plugins = dataDirectory.appendingPathComponent("plugins")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: plugins.path)) ?? []).sorted() {
            let database = plugins.appendingPathComponent(name).appendingPathComponent("storage.sqlite")
            if FileManager.default.fileExists(atPath: database.path) {
                sources.append((database, output.appendingPathComponent("plugins").appendingPathComponent("\(name).sqlite")))
            }
        }
        guard !sources.isEmpty else { throw Failure(description: "\(dataDirectory.path) holds no Plexus databases (events.sqlite, plugins/*/storage.sqlite)") }
        return try sources.map { source, destination in
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try copy(source.path, to: destination.path)
            let size = (try? FileManager.default.attributesOfItem(atPath: destination.path)[.size] as? Int) ?? 0
            return Copy(source: source.path, destination: destination.path, bytes: size ?? 0)
        }
    }

    /// Copies one database with `sqlite3_backup_*`, then verifies the copy.
    static func copy(_ source: String, to destination: String) throws {
        var from: OpaquePointer?, to: OpaquePointer?
        defer {
            sqlite3_close_v2(from)
            sqlite3_close_v2(to)
        }
        guard sqlite3_open_v2(source, &from, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw Failure(description: "\(source): cannot be opened: \(message(from))")
        }
        sqlite3_busy_timeout(from, 5_000)
        let partial = destination + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        guard sqlite3_open_v2(partial, &to, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else {
            throw Failure(description: "\(partial): cannot be created: \(message(to))")
        }
        guard let backup = sqlite3_backup_init(to, "main", from, "main") else {
            throw Failure(description: "\(source): backup cannot start: \(message(to))")
        }
        var status: Int32
        repeat {
            status = sqlite3_backup_step(backup, 256)
            if status == SQLITE_BUSY || status == SQLITE_LOCKED { sqlite3_sleep(20) }
        } while status == SQLITE_OK || status == SQLITE_BUSY || status == SQLITE_LOCKED
        sqlite3_backup_finish(backup)
        guard status == SQLITE_DONE else {
            throw Failure(description: "\(source): backup failed: \(String(cString: sqlite3_errstr(status)))")
        }
        var check: OpaquePointer?
        sqlite3_prepare_v2(to, "PRAGMA quick_check", -1, &check, nil)
        defer { sqlite3_finalize(check) }
        guard sqlite3_step(check) == SQLITE_ROW, let text = sqlite3_column_text(check, 0), String(cString: text) == "ok" else {
            throw Failure(description: "\(destination): the copy failed its integrity check")
        }
        sqlite3_close_v2(to)
        to = nil
        try? FileManager.default.removeItem(atPath: destination)
        try FileManager.default.moveItem(atPath: partial, toPath: destination)
    }

    private static func message(_ database: OpaquePointer?) -> String {
        database.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
    }
}
