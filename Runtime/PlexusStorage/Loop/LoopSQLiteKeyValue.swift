import CSQLite
import Foundation

/// A SQLite connection owned by the loop thread that answers key-value point reads and writes
/// there, without a hop to the engine's worker. `LoopStorage` uses it only while the worker has
/// nothing queued or running (so it never overtakes an earlier operation, and the worker holds
/// no transaction) and no backup is in progress.
///
/// Why this work on the loop is within the rule "blocking or CPU-heavy work goes off the loop":
/// - it is bounded: one primary-key lookup (a B-tree descent of a few pages, no scan) or one
///   upsert of one row, stopped by a progress handler after `instructionBudget` virtual-machine
///   instructions; values larger than `valueLimit` bytes are neither read nor written here
///   (`length()` reads only the record header), so no large copy runs on the loop;
/// - it never waits: the busy timeout is 0, so a lock held by another connection answers
///   `.deferred` (ask the worker) at once instead of sleeping; in WAL mode readers take no lock;
/// - it never syncs: in WAL mode with `synchronous=NORMAL` a commit appends frames to the WAL
///   (a `write` into the OS page cache) and syncs nothing; this connection's automatic
///   checkpoint is off (`wal_autocheckpoint=0`) and `needsCheckpoint` tells the caller to have
///   the worker checkpoint (the step that syncs) once the WAL passes `checkpointPages`;
/// - the pages it touches are in SQLite's cache or the OS page cache in the common case; a cold
///   read is one `pread` of a page.
/// Anything outside those bounds (busy, interrupted, too large, any error) answers `.deferred`
/// with nothing written, and the caller sends the call to the worker, which gives the usual
/// answer or error.
final class LoopSQLiteKeyValue {
    /// The most virtual-machine instructions one call may run.
    static let instructionBudget: Int32 = 20_000
    static let progressStep: Int32 = 100
    static let maxProgressCalls = instructionBudget / progressStep
    /// Values larger than this are read and written by the worker.
    static let valueLimit = 64 * 1024
    /// WAL pages after which the worker should checkpoint (SQLite's own default is 1000).
    static let checkpointPages: Int32 = 1_000

    private var db: OpaquePointer?
    private var getStatement: OpaquePointer?
    private var versionStatement: OpaquePointer?
    private var writeStatement: OpaquePointer?
    private var begin: OpaquePointer?
    private var commit: OpaquePointer?
    private var rollback: OpaquePointer?
    private let clock: @Sendable () -> Date
    /// Progress-handler calls in the current call.
    fileprivate var steps: Int32 = 0
    /// Pages in the WAL after this connection's last commit.
    fileprivate var walPages: Int32 = 0

    /// Opens the engine's file at `path` (which must exist); nil when it cannot (the caller then uses the worker).
    init?(path: String, clock: @escaping @Sendable () -> Date) {
        self.clock = clock
        var raw: OpaquePointer?
        guard sqlite3_open_v2(path, &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let raw else {
            sqlite3_close_v2(raw)
            return nil
        }
        db = raw
        sqlite3_busy_timeout(raw, 0)
        sqlite3_limit(raw, SQLITE_LIMIT_ATTACHED, 0)
        let context = Unmanaged.passUnretained(self).toOpaque()
        sqlite3_progress_handler(raw, Self.progressStep, { context in
            let connection = Unmanaged<LoopSQLiteKeyValue>.fromOpaque(context!).takeUnretainedValue()
            connection.steps += 1
            return connection.steps > LoopSQLiteKeyValue.maxProgressCalls ? 1 : 0
        }, context)
        // No automatic checkpoint here (the worker runs them), no sync at commit (WAL, NORMAL).
        // The PRAGMA clears any WAL hook, so the hook that counts WAL pages comes after it.
        let configured = sqlite3_exec(raw, "PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL", nil, nil, nil) == SQLITE_OK
        sqlite3_wal_hook(raw, { context, _, _, pages in
            Unmanaged<LoopSQLiteKeyValue>.fromOpaque(context!).takeUnretainedValue().walPages = pages
            return SQLITE_OK
        }, context)
        guard configured, sqlite3_get_autocommit(raw) != 0,
              // The value, or NULL when it is over `valueLimit` (never stored: the column is NOT NULL).
              // `length()` of a blob on overflow pages reads only the record header, but SQLite (3.40)
              // copies an on-page blob into an allocation at every load: the value is loaded for the
              // guard and for the result, and its length is the result's (a column `length(value)`
              // of its own was a third load, an allocation per get).
              let get = prepare("""
                  SELECT version, expires_at, CASE WHEN length(value) <= \(Self.valueLimit) THEN value END
                  FROM _plexus_kv WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)
                  """),
              let version = prepare("SELECT version FROM _plexus_kv WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)"),
              let write = prepare("INSERT OR REPLACE INTO _plexus_kv (key, value, version, expires_at) VALUES (?1, ?2, ?3, ?4)"),
              let begin = prepare("BEGIN IMMEDIATE"), let commit = prepare("COMMIT"), let rollback = prepare("ROLLBACK")
        else {
            close()
            return nil
        }
        (getStatement, versionStatement, writeStatement) = (get, version, write)
        (self.begin, self.commit, self.rollback) = (begin, commit, rollback)
    }

    deinit { close() }

    private func prepare(_ sql: String) -> OpaquePointer? {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK else {
            sqlite3_finalize(statement)
            return nil
        }
        return statement
    }

    /// What a call found.
    enum Outcome<T> {
        /// The answer (a value or the engine's error for it, e.g. a compare-and-set conflict).
        case answered(Result<T, StorageError>)
        /// Not answered here, nothing written (busy, too large, over budget, error): ask the worker.
        case deferred
    }

    /// Whether the WAL has grown past `checkpointPages` since the last checkpoint.
    var needsCheckpoint: Bool { walPages >= Self.checkpointPages }

    /// Notes that a checkpoint was asked for.
    func checkpointRequested() { walPages = 0 }

    // MARK: Reads

    /// Reads `key` now, on the calling (loop) thread.
    func get(_ key: String) -> Outcome<KeyValueEntry?> {
        guard let statement = getStatement else { return .deferred }
        steps = 0
        // The key is bound in place (SQLITE_STATIC, no copy: one allocation fewer than a
        // transient binding); the read ends, and the binding is cleared, before its text goes.
        var text = key
        return text.withUTF8 { bytes -> Outcome<KeyValueEntry?> in
            defer {
                reset(statement)
                sqlite3_clear_bindings(statement)
            }
            let start = UnsafeRawPointer(bytes.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self)
            guard sqlite3_bind_text(statement, 1, start, Int32(bytes.count), nil) == SQLITE_OK,
                  sqlite3_bind_double(statement, 2, clock().timeIntervalSince1970) == SQLITE_OK else { return .deferred }
            return read(statement, key)
        }
    }

    /// The entry of the stepped primary-key read `statement` for `key`.
    private func read(_ statement: OpaquePointer, _ key: String) -> Outcome<KeyValueEntry?> {
        switch sqlite3_step(statement) {
        case SQLITE_DONE:
            return .answered(.success(nil))
        case SQLITE_ROW:
            // NULL: the value is over `valueLimit` (see the statement).
            guard sqlite3_column_type(statement, 2) != SQLITE_NULL else { return .deferred }
            let version = sqlite3_column_int64(statement, 0)
            let expiresAt = sqlite3_column_type(statement, 1) == SQLITE_NULL
                ? nil : Date(timeIntervalSince1970: sqlite3_column_double(statement, 1))
            var value: [UInt8] = []
            if let blob = sqlite3_column_blob(statement, 2) {
                value = Array(UnsafeRawBufferPointer(start: blob, count: Int(sqlite3_column_bytes(statement, 2))))
            }
            // A primary-key lookup has at most one row; the reset (deferred above) ends the read.
            return .answered(.success(KeyValueEntry(key: key, value: value, version: version, expiresAt: expiresAt)))
        default:
            return .deferred
        }
    }

    // MARK: Writes

    /// Writes `key` now, with the engine's semantics (`Database.kvPut`): version 1 on creation,
    /// +1 per write, compare-and-set against the live version (0: must not exist).
    func put(_ key: String, _ value: [UInt8], ttl: Double?, expectedVersion: Int64?) -> Outcome<Int64> {
        guard value.count <= Self.valueLimit, ttl.map({ $0 > 0 }) ?? true, (expectedVersion ?? 0) >= 0,
              let begin, let commit, let versionStatement, let writeStatement else { return .deferred }
        steps = 0
        guard run(begin) else { return .deferred }
        let now = clock().timeIntervalSince1970
        // The live version.
        guard bindKey(versionStatement, key), sqlite3_bind_double(versionStatement, 2, now) == SQLITE_OK else { return abandon() }
        let current: Int64
        switch sqlite3_step(versionStatement) {
        case SQLITE_ROW: current = sqlite3_column_int64(versionStatement, 0)
        case SQLITE_DONE: current = 0
        default:
            reset(versionStatement)
            return abandon()
        }
        reset(versionStatement)
        if let expectedVersion, expectedVersion != current {
            _ = abandon()
            return .answered(.failure(StorageError(
                .conflict, "key \"\(key)\" is at version \(current), expected \(expectedVersion)", currentVersion: current)))
        }
        // The row.
        let version = current + 1
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let boundValue = value.withUnsafeBytes { bytes in
            sqlite3_bind_blob(writeStatement, 2, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(bytes.count), transient)
        }
        let boundExpiry = ttl.map { sqlite3_bind_double(writeStatement, 4, now + $0) } ?? sqlite3_bind_null(writeStatement, 4)
        guard bindKey(writeStatement, key), boundValue == SQLITE_OK, sqlite3_bind_int64(writeStatement, 3, version) == SQLITE_OK,
              boundExpiry == SQLITE_OK
        else {
            reset(writeStatement)
            return abandon()
        }
        let written = sqlite3_step(writeStatement) == SQLITE_DONE
        reset(writeStatement)
        guard written, run(commit) else { return abandon() }
        return .answered(.success(version))
    }

    /// Rolls the open transaction back (nothing written) and defers the call.
    private func abandon() -> Outcome<Int64> {
        if let db, sqlite3_get_autocommit(db) == 0, let rollback {
            // ROLLBACK runs no user code; lift the budget so it cannot be interrupted.
            steps = Int32.min / 2
            _ = run(rollback)
        }
        return .deferred
    }

    private func run(_ statement: OpaquePointer) -> Bool {
        let rc = sqlite3_step(statement)
        sqlite3_reset(statement)
        return rc == SQLITE_DONE
    }

    private func bindKey(_ statement: OpaquePointer, _ key: String) -> Bool {
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        return key.withCString { sqlite3_bind_text(statement, 1, $0, Int32(key.utf8.count), transient) } == SQLITE_OK
    }

    private func reset(_ statement: OpaquePointer) {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    /// Closes the connection. Idempotent.
    func close() {
        for statement in [getStatement, versionStatement, writeStatement, begin, commit, rollback] {
            if let statement { sqlite3_finalize(statement) }
        }
        (getStatement, versionStatement, writeStatement, begin, commit, rollback) = (nil, nil, nil, nil, nil, nil)
        if let db { sqlite3_close_v2(db) }
        db = nil
    }
}
