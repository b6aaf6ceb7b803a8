import CSQLite
import Foundation

/// SQLite's "copy the bytes now" destructor marker, which the C macro cannot give Swift.
private let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection, confined to the thread that uses it (the writer or the reader).
final class SQLiteConnection {
    private var handle: OpaquePointer?
    let path: String
    private var cache: [String: SQLiteStatement] = [:]

    /// Opens `path`, creating it when `readOnly` is false.
    init(path: String, readOnly: Bool) throws(EventLogError) {
        self.path = path
        var db: OpaquePointer?
        let flags = readOnly
            ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw SQLiteConnection.error(rc, message, at: "open \(path)")
        }
        handle = db
        sqlite3_busy_timeout(db, 5000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { close() }

    /// Finalizes cached statements and closes the connection.
    func close() {
        cache.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Maps a result code to an error, classifying corruption separately.
    static func error(_ rc: Int32, _ message: String, at location: String) -> EventLogError {
        let primary = rc & 0xFF
        if primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB {
            return .corrupt("\(message) (SQLite code \(rc))", at: location)
        }
        return .database("\(message) (SQLite code \(rc))", at: location)
    }

    func lastError(_ rc: Int32, at location: String) -> EventLogError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "connection closed"
        return SQLiteConnection.error(rc, message, at: "\(location) in \(path)")
    }

    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws(EventLogError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if rc != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "error"
            sqlite3_free(errorMessage)
            throw SQLiteConnection.error(rc, message, at: "'\(sql.prefix(60))' in \(path)")
        }
    }

    /// A prepared statement for `sql`, cached by text and reset for reuse.
    func statement(_ sql: String) throws(EventLogError) -> SQLiteStatement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        var raw: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else {
            throw lastError(rc, at: "prepare '\(sql.prefix(60))'")
        }
        let statement = SQLiteStatement(raw, connection: self, sql: sql)
        cache[sql] = statement
        return statement
    }

    /// The rowid of the last inserted row.
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// The number of rows changed by the last statement.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` inside a savepoint: its changes are kept if it returns, undone if it throws.
    func savepoint<T>(_ body: () throws(EventLogError) -> T) throws(EventLogError) -> T {
        try execute("SAVEPOINT op")
        do {
            let value = try body()
            try execute("RELEASE op")
            return value
        } catch {
            try? execute("ROLLBACK TO op")
            try? execute("RELEASE op")
            throw error
        }
    }
}

/// A prepared statement owned by a ``SQLiteConnection``. Binding indexes start at 1, column
/// indexes at 0.
final class SQLiteStatement {
    private let raw: OpaquePointer
    private unowned let connection: SQLiteConnection
    private let sql: String

    init(_ raw: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.raw = raw
        self.connection = connection
        self.sql = sql
    }

    deinit { sqlite3_finalize(raw) }

    func reset() {
        sqlite3_reset(raw)
        sqlite3_clear_bindings(raw)
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(raw, index, value) }
    func bind(_ index: Int32, _ value: Int) { sqlite3_bind_int64(raw, index, Int64(value)) }
    func bind(_ index: Int32, _ value: String) { sqlite3_bind_text(raw, index, value, -1, transientDestructor) }
    func bind(_ index: Int32, _ value: String?) {
        if let value { bind(index, value) } else { sqlite3_bind_null(raw, index) }
    }
    func bind(_ index: Int32, _ value: Data) {
        value.withUnsafeBytes { buffer in
            // A zero-length blob must not be bound as NULL.
            _ = sqlite3_bind_blob(raw, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(buffer.count), transientDestructor)
        }
    }

    /// Steps once: true when a row is available, false when done.
    func step() throws(EventLogError) -> Bool {
        let rc = sqlite3_step(raw)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let error = connection.lastError(rc, at: "step '\(sql.prefix(60))'")
            sqlite3_reset(raw)
            throw error
        }
    }

    /// Steps until done, for statements that return no rows.
    func run() throws(EventLogError) {
        while try step() {}
        sqlite3_reset(raw)
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(raw, column) }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(raw, column)) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(raw, column) == SQLITE_NULL }
    func string(_ column: Int32) -> String {
        guard let text = sqlite3_column_text(raw, column) else { return "" }
        return String(cString: text)
    }
    func optionalString(_ column: Int32) -> String? { isNull(column) ? nil : string(column) }
    func data(_ column: Int32) -> Data {
        let count = Int(sqlite3_column_bytes(raw, column))
        guard count > 0, let bytes = sqlite3_column_blob(raw, column) else { return Data() }
        return Data(bytes: bytes, count: count)
    }
}
