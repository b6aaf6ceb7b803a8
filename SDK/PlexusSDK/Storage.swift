import CPlexusABI
import Foundation

/// This plugin's own storage: a SQLite database, or with `[cluster] postgres` a PostgreSQL schema
/// shared by every instance, that no other plugin can reach (needs a runtime with ABI 1.1 or
/// later; ``dialect`` needs 1.9). Every call runs off the loop and resumes on it.
@PluginActor
public final class Storage {
    let keyValue: any KeyValueDriver
    let sql: any SQLDriver

    init(keyValue: any KeyValueDriver, sql: any SQLDriver) {
        self.keyValue = keyValue
        self.sql = sql
    }

    // MARK: Key-value

    /// The value and version stored under `key`, or nil (absent or expired).
    public func get(_ key: String) async throws -> StoredValue? {
        try await keyValue.get(key)
    }

    /// Stores `value` under `key`; returns its new version.
    /// - Parameters:
    ///   - ttl: seconds until it expires (nil: never).
    ///   - expectedVersion: compare-and-set: nil writes unconditionally, 0 only creates, n only replaces version n.
    ///     A mismatch throws ``StorageFailure`` of kind `conflict` with the current version.
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], ttl: Double? = nil, expectedVersion: Int64? = nil) async throws -> Int64 {
        try await keyValue.put(key, value, ttl: ttl, expectedVersion: expectedVersion)
    }

    /// Deletes `key`; returns whether it existed (same `expectedVersion` rule as ``put(_:_:ttl:expectedVersion:)``).
    @discardableResult
    public func delete(_ key: String, expectedVersion: Int64? = nil) async throws -> Bool {
        try await keyValue.delete(key, expectedVersion: expectedVersion)
    }

    /// Entries whose key starts with `prefix`, in key order, after `after`, at most `limit`.
    public func list(prefix: String = "", limit: Int = 100, after: String? = nil) async throws -> [StoredValue] {
        try await keyValue.list(prefix: prefix, limit: limit, after: after)
    }

    // MARK: SQL

    /// Runs one statement with bound parameters; returns rows changed and the last inserted rowid.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue] = []) async throws -> (changes: Int64, lastInsertRowID: Int64) {
        try await self.sql.execute(sql, parameters)
    }

    /// Runs one query with bound parameters.
    public func query(_ sql: String, _ parameters: [SQLValue] = []) async throws -> [SQLRow] {
        try await self.sql.query(sql, parameters)
    }

    /// Runs `statements` in one transaction: all of them or none.
    public func transaction(_ statements: [(sql: String, parameters: [SQLValue])]) async throws {
        try await sql.transaction(statements)
    }

    /// Applies numbered migrations (1...n) not applied yet, each once, in order; returns the versions applied now.
    @discardableResult
    public func migrate(_ migrations: [(version: Int, sql: String)]) async throws -> [Int] {
        try await sql.migrate(migrations)
    }

    /// The SQL dialect of this storage (ABI 1.9; `.sqlite` from an older runtime).
    public var dialect: SQLDialect { sql.dialect }

    /// Applies migrations that differ per dialect: each runs its text for ``dialect``, and is
    /// recorded (with that text's checksum) in this plugin's storage on either backend.
    @discardableResult
    public func migrate(_ migrations: [SQLMigration]) async throws -> [Int] {
        let dialect = self.dialect
        return try await sql.migrate(migrations.map { (version: $0.version, sql: $0.sql(for: dialect)) })
    }
}

/// A key-value entry.
public struct StoredValue: Sendable {
    /// The key.
    public var key: String
    /// The value.
    public var value: [UInt8]
    /// Incremented on every write.
    public var version: Int64
    /// When it expires, if it has a TTL.
    public var expiresAt: Date?

    /// Creates an entry (for storage drivers and tests).
    public init(key: String, value: [UInt8], version: Int64, expiresAt: Date? = nil) {
        self.key = key
        self.value = value
        self.version = version
        self.expiresAt = expiresAt
    }

    init(_ row: SQLRow) {
        key = row[0].text ?? ""
        value = row[1].blob ?? []
        version = row[2].integer ?? 0
        expiresAt = row[3].real.map { Date(timeIntervalSince1970: $0) }
    }
}

/// Why a storage call failed: the ``Kind`` (from the runtime's status code, ABI 1.4), what went
/// wrong and where, and for a conflict the version currently stored.
public struct StorageFailure: HTTPResponseError, CustomStringConvertible {
    /// The category of a storage failure; compare with the static members (`.busy`, `.conflict`,
    /// ...). A string literal of the kind's name (`"conflict"`) still compares equal, so code
    /// written when `kind` was a `String` keeps compiling.
    public struct Kind: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The kind's name, e.g. `disk_full`.
        public let name: String

        /// A kind by name (the names of the static members).
        public init(stringLiteral name: String) { self.name = name }

        /// The database stayed busy or locked past the busy timeout.
        public static let busy: Kind = "busy"
        /// The disk or the file-size limit is exhausted.
        public static let diskFull: Kind = "disk_full"
        /// The file is not a database or fails its integrity check.
        public static let corrupt: Kind = "corrupt"
        /// A UNIQUE, NOT NULL, CHECK or FOREIGN KEY constraint was violated.
        public static let constraint: Kind = "constraint"
        /// Bad SQL or misuse (syntax error, unknown table, wrong parameter count).
        public static let misuse: Kind = "misuse"
        /// The statement was refused by the runtime's sandbox.
        public static let denied: Kind = "denied"
        /// A compare-and-set failed (see ``StorageFailure/currentVersion``).
        public static let conflict: Kind = "conflict"
        /// The thing asked for does not exist.
        public static let notFound: Kind = "not_found"
        /// The storage was closed (the plugin is stopping).
        public static let closed: Kind = "closed"
        /// Another I/O error.
        public static let io: Kind = "io"
        /// A migration list has a gap or a duplicate, or an applied migration changed.
        public static let invalidMigration: Kind = "invalid_migration"
        /// A transaction was rolled back by another failure.
        public static let aborted: Kind = "aborted"
        /// Any other failure.
        public static let other: Kind = "other"

        /// The kind a runtime status code stands for; nil for a code that is not a storage failure.
        public init?(status: HostStatus) {
            let kinds: [UInt32: Kind] = [
                PLEXUS_E_STORAGE_BUSY.rawValue: .busy, PLEXUS_E_STORAGE_DISK_FULL.rawValue: .diskFull, PLEXUS_E_STORAGE_CORRUPT.rawValue: .corrupt,
                PLEXUS_E_STORAGE_CONSTRAINT.rawValue: .constraint, PLEXUS_E_STORAGE_MISUSE.rawValue: .misuse, PLEXUS_E_STORAGE_DENIED.rawValue: .denied,
                PLEXUS_E_STORAGE_CONFLICT.rawValue: .conflict, PLEXUS_E_STORAGE_NOT_FOUND.rawValue: .notFound, PLEXUS_E_STORAGE_CLOSED.rawValue: .closed,
                PLEXUS_E_STORAGE_IO.rawValue: .io, PLEXUS_E_STORAGE_INVALID_MIGRATION.rawValue: .invalidMigration, PLEXUS_E_STORAGE_ABORTED.rawValue: .aborted,
                PLEXUS_E_STORAGE_OTHER.rawValue: .other,
            ]
            guard let kind = kinds[UInt32(bitPattern: status.rawValue)] else { return nil }
            self = kind
        }

        /// The name, e.g. `disk_full`.
        public var description: String { name }
    }

    /// The kind of failure.
    public let kind: Kind
    /// What went wrong and where.
    public let message: String
    /// For `conflict`: the version currently stored (0 when absent).
    public let currentVersion: Int64?
    /// The runtime's status code (ABI 1.4); nil from an older runtime, whose kind was read from its message.
    public let hostStatus: HostStatus?

    /// A failure of `kind` (the SDK makes these; the initializer is public for tests and adapters).
    public init(kind: Kind, message: String, currentVersion: Int64? = nil, hostStatus: HostStatus? = nil) {
        self.kind = kind
        self.message = message
        self.currentVersion = currentVersion
        self.hostStatus = hostStatus
    }

    /// 409 for conflicts, 507 for a full disk, 503 for busy or closed, 400 for bad SQL or
    /// denied statements, 500 otherwise.
    public var status: Int {
        switch kind {
        case .conflict, .constraint: 409
        case .diskFull: 507
        case .busy, .closed: 503
        case .misuse, .denied, .invalidMigration: 400
        default: 500
        }
    }
    /// Short summary.
    public var title: String { "Storage \(kind.name.replacingOccurrences(of: "_", with: " "))" }
    /// The message for a client's mistake (409, 400); for a failure of the server's storage
    /// (5xx) a generic sentence: its message can name server paths, so it goes to the log only.
    public var detail: String {
        status < 500 ? message : "the server's storage failed (\(kind.name.replacingOccurrences(of: "_", with: " "))); the server log has the details"
    }
    /// `"<kind>: <message>"`.
    public var description: String { "\(kind): \(message)" }
}

/// The result of one storage call, copied out of C.
struct StorageResult: Sendable {
    var columns: [String] = []
    var rows: [SQLRow] = []
    var changes: Int64 = 0
    var lastInsertRowID: Int64 = 0
}

/// Resumes a storage call when the runtime reports its outcome.
final class StorageBox: @unchecked Sendable {
    let continuation: CheckedContinuation<StorageResult, Error>

    init(_ continuation: CheckedContinuation<StorageResult, Error>) { self.continuation = continuation }

    static let completed: plexus_storage_cb = { user, status, rows, error in
        let box = Unmanaged<StorageBox>.fromOpaque(user!).takeRetainedValue()
        if status == Int32(PLEXUS_OK.rawValue), let rows {
            box.continuation.resume(returning: StorageResult(rows.pointee))
        } else {
            box.continuation.resume(throwing: StorageFailure(reported: HostStatus.last(), text: error.map { String(cString: $0) },
                                                             rows: rows?.pointee))
        }
    }
}

extension StorageFailure {
    /// The failure a storage callback reports: the kind from the status code (ABI 1.4), or, from
    /// an older runtime, from the "<kind>: <message>" text that runtime wrote.
    init(reported status: HostStatus?, text: String?, rows: plexus_rows?) {
        let text = text ?? "other: storage call failed"
        let parts = text.split(separator: ":", maxSplits: 1)
        let message = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : text
        let kind = status.flatMap(Kind.init(status:)) ?? Kind(stringLiteral: parts.count == 2 ? String(parts[0]) : "other")
        self.init(kind: kind, message: message, currentVersion: kind == .conflict ? rows?.last_insert_rowid : nil,
                  hostStatus: status.flatMap { $0.isStorageFailure ? $0 : nil })
    }
}

extension StorageResult {
    init(_ raw: plexus_rows) {
        columns = (0..<raw.column_count).map { raw.columns[$0].string }
        rows = (0..<raw.row_count).map { row in
            SQLRow(columns: columns, values: (0..<raw.column_count).map { SQLValue(raw.values[row * raw.column_count + $0]) })
        }
        changes = raw.changes
        lastInsertRowID = raw.last_insert_rowid
    }
}
