import CSQLite
import Foundation

/// One open SQLite connection and everything tied to it: the statement cache, the sandbox mode,
/// the change collector. Confined to its engine's serial worker: never touched from two threads
/// at once (hence `@unchecked Sendable`, which only lets it be captured by the worker's jobs).
final class Database: @unchecked Sendable {
    /// The database file.
    let path: String
    /// The open connection; nil once closed.
    private(set) var handle: OpaquePointer?
    /// Whose SQL is being compiled or run (read by the authorizer).
    var mode: Authorizer.Mode = .engine
    /// Row changes waiting for their commit.
    let changes = ChangeCollector()
    /// Receives committed change batches.
    var changeHandler: (@Sendable ([StorageChange]) -> Void)?
    /// The clock for TTLs.
    let clock: @Sendable () -> Date
    /// Backups in progress, finished (aborted) at close.
    var activeBackups: [ObjectIdentifier: BackupJob] = [:]

    /// A cached statement's key: its SQL as compiled in a mode (the authorizer judges at compile time).
    private struct CacheKey: Hashable {
        let mode: Authorizer.Mode
        let sql: String
    }
    private var cache: [CacheKey: OpaquePointer] = [:]
    private var cacheOrder: [CacheKey] = []
    private let cacheCapacity: Int

    private init(path: String, handle: OpaquePointer, configuration: StorageConfiguration) {
        self.path = path
        self.handle = handle
        self.clock = configuration.clock
        self.cacheCapacity = max(0, configuration.statementCacheSize)
    }

    deinit { close() }

    // MARK: Open and close

    /// Opens (or creates) the file, configures the connection, checks integrity, creates the
    /// engine's tables. Errors name the file; a corrupt file is `.corrupt`, never a crash.
    static func open(path: String, configuration: StorageConfiguration) throws(StorageError) -> Database {
        let fail = { (error: StorageError) in error.located(operation: "open", path: path) }
        if !configuration.createIfMissing && !FileManager.default.fileExists(atPath: path) {
            throw fail(StorageError(.notFound, "database file does not exist"))
        }
        var flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
        if configuration.createIfMissing { flags |= SQLITE_OPEN_CREATE }
        var raw: OpaquePointer?
        let rc = sqlite3_open_v2(path, &raw, flags, nil)
        guard let raw else { throw fail(StorageError(.other, "out of memory opening the database")) }
        guard rc == SQLITE_OK else {
            let message = String(cString: sqlite3_errmsg(raw))
            let errno = sqlite3_system_errno(raw)
            sqlite3_close_v2(raw)
            throw fail(StorageError.sqlite(rc, message: message, systemErrno: errno))
        }
        let database = Database(path: path, handle: raw, configuration: configuration)
        do {
            try database.configure(configuration)
        } catch {
            database.close()
            if error.kind == .corrupt {
                throw fail(StorageError(.corrupt, "database file is corrupt: \(error.message)", sqliteCode: error.sqliteCode))
            }
            throw fail(error)
        }
        return database
    }

    private func configure(_ configuration: StorageConfiguration) throws(StorageError) {
        guard let db = handle else { throw closedError() }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(clamping: Int((configuration.busyTimeout * 1000).rounded())))
        // No ATTACH at all, even if the authorizer were bypassed (this also rules out VACUUM).
        sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0)
        Authorizer.install(on: db, owner: self)
        ChangeCollector.install(on: db, owner: self)

        let journal = try query("PRAGMA journal_mode=WAL", [], mode: .engine)
        if journal.rows.first?[0].textValue?.lowercased() != "wal" {
            throw StorageError(.io, "could not switch to WAL journal mode")
        }
        _ = try query("PRAGMA synchronous=NORMAL", [], mode: .engine)
        _ = try query("PRAGMA foreign_keys=ON", [], mode: .engine)
        let check = try query("PRAGMA quick_check", [], mode: .engine)
        let problems = check.rows.compactMap { $0[0].textValue }.filter { $0 != "ok" }
        if !problems.isEmpty || check.rows.isEmpty {
            throw StorageError(.corrupt, "quick_check failed: " + problems.prefix(5).joined(separator: "; "))
        }
        try runScript(Schema.internalTables, mode: .engine)
    }

    /// Finishes backups, finalizes cached statements and closes the connection. Idempotent.
    func close() {
        guard let db = handle else { return }
        for job in activeBackups.values { job.abort() }
        activeBackups = [:]
        for stmt in cache.values { sqlite3_finalize(stmt) }
        cache = [:]
        cacheOrder = []
        sqlite3_close_v2(db)
        handle = nil
    }

    // MARK: Errors

    func closedError() -> StorageError { StorageError(.closed, "the storage engine is closed", path: path) }

    /// The connection's last error as a `StorageError`.
    func lastError(_ rc: Int32) -> StorageError {
        guard let db = handle else { return closedError() }
        var systemErrno = sqlite3_system_errno(db)
        if rc & 0xff == SQLITE_IOERR, !Self.diskFullErrnos.contains(systemErrno) {
            // sqlite3_system_errno reads the thread's errno after the fact, which may have been
            // overwritten; the VFS keeps the failing call's errno per file, so ask the files.
            systemErrno = fileErrno(db) ?? systemErrno
        }
        return StorageError.sqlite(rc, message: String(cString: sqlite3_errmsg(db)), systemErrno: systemErrno)
    }

    private static let diskFullErrnos: Set<Int32> = [EFBIG, ENOSPC, EDQUOT]

    /// The last errno recorded by the VFS for the main file or its WAL/journal, preferring a disk-full one.
    private func fileErrno(_ db: OpaquePointer) -> Int32? {
        var candidates: [Int32] = []
        var mainErrno: Int32 = 0
        if sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &mainErrno) == SQLITE_OK {
            candidates.append(mainErrno)
        }
        var journal: UnsafeMutablePointer<sqlite3_file>?
        if sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &journal) == SQLITE_OK,
            let journal, let methods = journal.pointee.pMethods, let control = methods.pointee.xFileControl
        {
            var journalErrno: Int32 = 0
            if control(journal, SQLITE_FCNTL_LAST_ERRNO, &journalErrno) == SQLITE_OK { candidates.append(journalErrno) }
        }
        return candidates.first { Self.diskFullErrnos.contains($0) } ?? candidates.first { $0 != 0 }
    }

    // MARK: Statements

    /// Runs `body` with a prepared (cached) single statement compiled in `mode`; resets it afterwards.
    func withStatement<T>(
        _ sql: String, _ parameters: [StorageValue], mode: Authorizer.Mode,
        _ body: (OpaquePointer) throws(StorageError) -> T
    ) throws(StorageError) -> T {
        guard let db = handle else { throw closedError() }
        let saved = self.mode
        self.mode = mode
        defer { self.mode = saved }
        let key = CacheKey(mode: mode, sql: sql)
        let stmt: OpaquePointer
        if let cached = cache[key] {
            stmt = cached
        } else {
            let (prepared, rest) = try prepare(sql, persistent: cacheCapacity > 0)
            guard let prepared else { throw StorageError(.misuse, "empty SQL statement") }
            if Self.containsStatement(rest, db: db) {
                sqlite3_finalize(prepared)
                throw StorageError(.misuse, "only one SQL statement is allowed here; use a transaction for several")
            }
            stmt = prepared
            cacheInsert(key, stmt)
        }
        defer {
            sqlite3_reset(stmt)
            sqlite3_clear_bindings(stmt)
            if cache[key] != stmt { sqlite3_finalize(stmt) }
        }
        let bound = StatementIO.bind(parameters, to: stmt)
        if bound.code != SQLITE_OK {
            throw bound.message.map { StorageError(.misuse, $0, sqliteCode: bound.code) } ?? lastError(bound.code)
        }
        return try body(stmt)
    }

    private func cacheInsert(_ key: CacheKey, _ stmt: OpaquePointer) {
        guard cacheCapacity > 0 else { return }
        if cache.count >= cacheCapacity, let oldest = cacheOrder.first {
            cacheOrder.removeFirst()
            if let old = cache.removeValue(forKey: oldest) { sqlite3_finalize(old) }
        }
        cache[key] = stmt
        cacheOrder.append(key)
    }

    /// Compiles the first statement of `sql`; returns it (nil if there was none) and the rest.
    private func prepare(_ sql: String, persistent: Bool) throws(StorageError) -> (OpaquePointer?, String) {
        guard let db = handle else { throw closedError() }
        var stmt: OpaquePointer?
        var rest = ""
        let rc = sql.withCString { cSQL -> Int32 in
            var tail: UnsafePointer<CChar>?
            let flags = persistent ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
            let rc = sqlite3_prepare_v3(db, cSQL, -1, flags, &stmt, &tail)
            if let tail { rest = String(cString: tail) }
            return rc
        }
        guard rc == SQLITE_OK else { throw lastError(rc) }
        return (stmt, rest)
    }

    /// Whether `sql` holds anything but whitespace and comments.
    private static func containsStatement(_ sql: String, db: OpaquePointer) -> Bool {
        if sql.allSatisfy({ $0.isWhitespace || $0 == ";" }) { return false }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        defer { sqlite3_finalize(stmt) }
        return rc != SQLITE_OK || stmt != nil
    }

    /// `sqlite3_step`, keeping the change collector in line with commits, rollbacks and failed statements.
    func step(_ stmt: OpaquePointer, mark: Int) -> Int32 {
        let rc = sqlite3_step(stmt)
        let ok = rc == SQLITE_ROW || rc == SQLITE_DONE
        changes.stepFinished(succeeded: ok, inTransaction: inTransaction, mark: mark)
        return rc
    }

    /// Whether an explicit transaction is open.
    var inTransaction: Bool { handle.map { sqlite3_get_autocommit($0) == 0 } ?? false }

    /// Runs a data-changing statement to completion.
    func execute(_ sql: String, _ parameters: [StorageValue], mode: Authorizer.Mode) throws(StorageError) -> ExecuteResult {
        try withStatement(sql, parameters, mode: mode) { (stmt) throws(StorageError) -> ExecuteResult in
            guard let db = handle else { throw closedError() }
            let totalBefore = sqlite3_total_changes64(db)
            let mark = changes.mark
            while true {
                let rc = step(stmt, mark: mark)
                if rc == SQLITE_DONE { break }
                if rc != SQLITE_ROW { throw lastError(rc) }
            }
            // sqlite3_changes keeps the last DML's count across DDL; report 0 when nothing changed.
            let changed = sqlite3_total_changes64(db) == totalBefore ? 0 : Int(sqlite3_changes64(db))
            return ExecuteResult(changes: changed, lastInsertRowID: sqlite3_last_insert_rowid(db))
        }
    }

    /// Runs a statement and collects its rows.
    func query(_ sql: String, _ parameters: [StorageValue], mode: Authorizer.Mode) throws(StorageError) -> QueryResult {
        try withStatement(sql, parameters, mode: mode) { (stmt) throws(StorageError) -> QueryResult in
            let columns = StatementIO.columnNames(stmt)
            var rows: [StorageRow] = []
            let mark = changes.mark
            while true {
                let rc = step(stmt, mark: mark)
                if rc == SQLITE_DONE { break }
                if rc != SQLITE_ROW { throw lastError(rc) }
                rows.append(StorageRow(columns: columns, values: StatementIO.row(stmt)))
            }
            return QueryResult(columns: columns, rows: rows)
        }
    }

    /// Runs every statement of `sql` (no parameters), uncached; for schema and migrations.
    func runScript(_ sql: String, mode: Authorizer.Mode) throws(StorageError) {
        let saved = self.mode
        self.mode = mode
        defer { self.mode = saved }
        var remaining = sql
        while true {
            let (stmt, rest) = try prepare(remaining, persistent: false)
            guard let stmt else { return }
            defer { sqlite3_finalize(stmt) }
            let mark = changes.mark
            while true {
                let rc = step(stmt, mark: mark)
                if rc == SQLITE_DONE { break }
                if rc != SQLITE_ROW { throw lastError(rc) }
            }
            remaining = rest
        }
    }

    // MARK: Transactions

    /// Runs `body` atomically: BEGIN IMMEDIATE ... COMMIT, rolled back on any error. Inside an
    /// open transaction it simply runs `body` (the outer transaction provides atomicity).
    func atomically<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        if inTransaction { return try body() }
        _ = try execute("BEGIN IMMEDIATE", [], mode: .engine)
        do {
            let value = try body()
            _ = try execute("COMMIT", [], mode: .engine)
            return value
        } catch {
            rollbackIfNeeded()
            throw error
        }
    }

    /// Rolls back the open transaction, if SQLite has not already done so.
    func rollbackIfNeeded() {
        guard inTransaction else { return }
        _ = try? execute("ROLLBACK", [], mode: .engine)
    }

    /// Hands committed change batches to the change handler.
    func deliverChanges() {
        let batches = changes.takeReady()
        guard let handler = changeHandler else { return }
        for batch in batches { handler(batch) }
    }
}

/// The engine's own tables.
enum Schema {
    static let internalTables = """
        CREATE TABLE IF NOT EXISTS _plexus_kv (
            key TEXT PRIMARY KEY NOT NULL,
            value BLOB NOT NULL,
            version INTEGER NOT NULL,
            expires_at REAL
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS _plexus_kv_expiry ON _plexus_kv(expires_at) WHERE expires_at IS NOT NULL;
        CREATE TABLE IF NOT EXISTS _plexus_migrations (
            version INTEGER PRIMARY KEY,
            checksum TEXT NOT NULL,
            applied_at REAL NOT NULL
        );
        """
}
