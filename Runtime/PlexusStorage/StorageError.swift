import CSQLite
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure of a storage operation: what went wrong (`kind`), in which operation, on which file.
///
/// Every fault of the engine surfaces as a `StorageError`; the engine never traps on a bad file,
/// bad SQL or a full disk. After any error nothing is half-written: the statement or transaction
/// that failed has been rolled back.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of a `StorageError`; compare with the static members (`.busy`, `.conflict`, ...).
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Code: String, Sendable, Hashable {
            case busy, diskFull, corrupt, constraint, misuse, denied, conflict, notFound, closed
            case io, cantOpen, invalidMigration, aborted, other
            case timeout, unavailable, serializationFailure
        }
        fileprivate let code: Code

        /// The database stayed busy or locked past the busy timeout (SQLITE_BUSY, SQLITE_LOCKED).
        public static let busy = Kind(code: .busy)
        /// The disk or the file-size limit is exhausted (SQLITE_FULL, or an I/O error from EFBIG/ENOSPC).
        public static let diskFull = Kind(code: .diskFull)
        /// The file is not a database or fails its integrity check (SQLITE_CORRUPT, SQLITE_NOTADB).
        public static let corrupt = Kind(code: .corrupt)
        /// A UNIQUE, NOT NULL, CHECK or FOREIGN KEY constraint was violated.
        public static let constraint = Kind(code: .constraint)
        /// Bad SQL or API misuse (syntax error, unknown table, wrong parameter count, ...).
        public static let misuse = Kind(code: .misuse)
        /// The statement was refused by the engine's sandbox (ATTACH, internal tables, pragmas, ...).
        public static let denied = Kind(code: .denied)
        /// A compare-and-set failed: the key's version is not the expected one (see `currentVersion`).
        public static let conflict = Kind(code: .conflict)
        /// The thing asked for does not exist (e.g. the database file when creation is disabled).
        public static let notFound = Kind(code: .notFound)
        /// The engine was closed.
        public static let closed = Kind(code: .closed)
        /// Another I/O error.
        public static let io = Kind(code: .io)
        /// The database file could not be opened or created.
        public static let cantOpen = Kind(code: .cantOpen)
        /// A migration list is invalid: a gap, a duplicate, or an already-applied migration that changed.
        public static let invalidMigration = Kind(code: .invalidMigration)
        /// A transaction body threw an error that is not a `StorageError`; the transaction was rolled back.
        public static let aborted = Kind(code: .aborted)
        /// Any other SQLite failure.
        public static let other = Kind(code: .other)
        /// The statement ran past the statement timeout and was cancelled (PostgreSQL 57014).
        public static let timeout = Kind(code: .timeout)
        /// The database server cannot be reached or the connection was lost (PostgreSQL 08xxx, 57P0x);
        /// the next operation reconnects.
        public static let unavailable = Kind(code: .unavailable)
        /// A transaction could not be serialized with a concurrent one (PostgreSQL 40001, 40P01);
        /// `StorageEngine.transaction` retries it before reporting this.
        public static let serializationFailure = Kind(code: .serializationFailure)

        /// The kind's name, e.g. `busy`.
        public var description: String { code.rawValue }
    }

    /// The category of the failure.
    public let kind: Kind
    /// A human-readable explanation (SQLite's message where there is one).
    public let message: String
    /// The operation that failed, e.g. `put("a")` or `open`.
    public let operation: String
    /// The database file the operation ran on.
    public let path: String
    /// The extended SQLite result code, when the failure came from SQLite.
    public let sqliteCode: Int32?
    /// For `.conflict`: the key's current version (0 when the key does not exist).
    public let currentVersion: Int64?
    /// The PostgreSQL SQLSTATE, when the failure came from PostgreSQL (e.g. `23505`).
    public let sqlState: String?

    /// Creates an error; the engine builds these, the initializer is public for tests and adapters.
    public init(
        _ kind: Kind, _ message: String, operation: String = "", path: String = "",
        sqliteCode: Int32? = nil, currentVersion: Int64? = nil, sqlState: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.operation = operation
        self.path = path
        self.sqliteCode = sqliteCode
        self.currentVersion = currentVersion
        self.sqlState = sqlState
    }

    /// `storage error [kind] in <operation> on <path>: <message> (SQLite code N)`.
    public var description: String {
        var text = "storage error [\(kind)]"
        if !operation.isEmpty { text += " in \(operation)" }
        if !path.isEmpty { text += " on \(path)" }
        text += ": \(message)"
        if let currentVersion { text += " (current version \(currentVersion))" }
        if let sqliteCode { text += " (SQLite code \(sqliteCode))" }
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        return text
    }

    /// A copy that names the operation and file, if they were not set yet.
    func located(operation: String, path: String) -> StorageError {
        StorageError(
            kind, message, operation: self.operation.isEmpty ? operation : self.operation,
            path: self.path.isEmpty ? path : self.path, sqliteCode: sqliteCode, currentVersion: currentVersion,
            sqlState: sqlState)
    }

    /// Maps an SQLite result code (extended or primary) to a `StorageError`.
    static func sqlite(_ code: Int32, message: String, systemErrno: Int32 = 0) -> StorageError {
        let kind: Kind
        switch code & 0xff {
        case SQLITE_BUSY, SQLITE_LOCKED: kind = .busy
        case SQLITE_FULL: kind = .diskFull
        case SQLITE_IOERR:
            kind = (systemErrno == EFBIG || systemErrno == ENOSPC || systemErrno == EDQUOT) ? .diskFull : .io
        case SQLITE_CORRUPT, SQLITE_NOTADB: kind = .corrupt
        case SQLITE_CONSTRAINT: kind = .constraint
        case SQLITE_ERROR, SQLITE_MISUSE, SQLITE_RANGE, SQLITE_MISMATCH, SQLITE_TOOBIG: kind = .misuse
        case SQLITE_AUTH: kind = .denied
        case SQLITE_CANTOPEN: kind = .cantOpen
        case SQLITE_READONLY, SQLITE_PERM: kind = .io
        default: kind = .other
        }
        var text = message
        if systemErrno != 0 && (kind == .diskFull || kind == .io) {
            text += " (errno \(systemErrno): \(String(cString: strerror(systemErrno))))"
        }
        return StorageError(kind, text, sqliteCode: code)
    }
}
