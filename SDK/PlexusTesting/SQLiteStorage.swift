import CPlexusTestingSQLite
import Foundation
import PlexusSDK

/// SQL storage for a ``TestHost``: a real SQLite database (in memory unless a file is given),
/// with the runtime's sandbox for plugin SQL (no ATTACH/DETACH, no transaction control, only
/// introspection pragmas, no `_plexus_*` tables) and its migration rules (versions 1...n without
/// gaps or duplicates, an applied migration may not change). Errors carry the runtime's kinds.
@PluginActor
public final class SQLiteStorage: SQLDriver {
    private let db: OpaquePointer
    private let sandbox: SandboxFlag

    /// Opens a database at `path` (default: a private in-memory one).
    public init(path: String = ":memory:") throws {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let handle else {
            throw StorageFailure(kind: .io, message: "cannot open SQLite database at \(path)")
        }
        db = handle
        sandbox = SandboxFlag()
        sqlite3_exec(db, "PRAGMA foreign_keys = ON", nil, nil, nil)
        sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS _plexus_migrations (version INTEGER PRIMARY KEY, sql TEXT NOT NULL)", nil, nil, nil)
        sqlite3_set_authorizer(db, { context, action, arg1, arg2, _, _ in
            let sandbox = Unmanaged<SandboxFlag>.fromOpaque(context!).takeUnretainedValue()
            return sandbox.on ? SQLiteStorage.decide(action, arg1.map { String(cString: $0) }, arg2.map { String(cString: $0) }) : SQLITE_OK
        }, Unmanaged.passUnretained(sandbox).toOpaque())
    }

    isolated deinit { sqlite3_close_v2(db) }

    public func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> (changes: Int64, lastInsertRowID: Int64) {
        _ = try run(sql, parameters)
        return (Int64(sqlite3_changes(db)), sqlite3_last_insert_rowid(db))
    }

    public func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow] {
        try run(sql, parameters)
    }

    public func transaction(_ statements: [(sql: String, parameters: [SQLValue])]) async throws {
        try atomically { for statement in statements { _ = try run(statement.sql, statement.parameters) } }
    }

    public func migrate(_ migrations: [(version: Int, sql: String)]) async throws -> [Int] {
        let versions = migrations.map(\.version)
        guard versions == (0..<versions.count).map({ $0 + 1 }) else {
            throw StorageFailure(kind: .invalidMigration, message: "migration versions must be 1...n in order without gaps or duplicates, got \(versions)")
        }
        sandbox.on = false
        defer { sandbox.on = true }
        let applied = Dictionary(uniqueKeysWithValues: try run("SELECT version, sql FROM _plexus_migrations", []).map {
            (Int($0[0].integer ?? 0), $0[1].text ?? "")
        })
        for (version, sql) in applied where version > migrations.count || migrations[version - 1].sql != sql {
            throw StorageFailure(kind: .invalidMigration, message: "applied migration \(version) is missing or changed")
        }
        var done: [Int] = []
        for migration in migrations where applied[migration.version] == nil {
            try atomically {
                guard sqlite3_exec(db, migration.sql, nil, nil, nil) == SQLITE_OK else { throw failure("migration \(migration.version)") }
                _ = try run("INSERT INTO _plexus_migrations (version, sql) VALUES (?1, ?2)", [.integer(Int64(migration.version)), .text(migration.sql)])
            }
            done.append(migration.version)
        }
        return done
    }

    // MARK: SQLite

    private func atomically(_ body: () throws -> Void) throws {
        let wasOn = sandbox.on
        sandbox.on = false
        sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil)
        sandbox.on = wasOn
        do {
            try body()
            sandbox.on = false
            sqlite3_exec(db, "COMMIT", nil, nil, nil)
            sandbox.on = wasOn
        } catch {
            sandbox.on = false
            sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
            sandbox.on = wasOn
            throw error
        }
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws -> [SQLRow] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else { throw failure("preparing \(sql)") }
        defer { sqlite3_finalize(statement) }
        guard Int(sqlite3_bind_parameter_count(statement)) == parameters.count else {
            throw StorageFailure(kind: .misuse, message: "\(sql) takes \(sqlite3_bind_parameter_count(statement)) parameters, got \(parameters.count)")
        }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (index, value) in parameters.enumerated() {
            let position = Int32(index + 1)
            switch value {
            case .null: sqlite3_bind_null(statement, position)
            case .integer(let number): sqlite3_bind_int64(statement, position, number)
            case .real(let number): sqlite3_bind_double(statement, position, number)
            case .text(let text): sqlite3_bind_text(statement, position, text, -1, transient)
            case .blob(let bytes): _ = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, position, $0.baseAddress, Int32($0.count), transient) }
            }
        }
        let columns = (0..<sqlite3_column_count(statement)).map { String(cString: sqlite3_column_name(statement, $0)) }
        var rows: [SQLRow] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw failure(sql) }
            rows.append(SQLRow(columns: columns, values: (0..<Int32(columns.count)).map { Self.value(statement, $0) }))
        }
    }

    private static func value(_ statement: OpaquePointer, _ column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT: .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT: .text(String(cString: sqlite3_column_text(statement, column)))
        case SQLITE_BLOB:
            .blob(Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(statement, column), count: Int(sqlite3_column_bytes(statement, column)))))
        default: .null
        }
    }

    private func failure(_ context: String) -> StorageFailure {
        let message = "\(String(cString: sqlite3_errmsg(db))) (\(context))"
        let kind: StorageFailure.Kind = switch sqlite3_errcode(db) & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: .busy
        case SQLITE_FULL: .diskFull
        case SQLITE_CORRUPT, SQLITE_NOTADB: .corrupt
        case SQLITE_CONSTRAINT: .constraint
        case SQLITE_AUTH: .denied
        case SQLITE_ERROR, SQLITE_MISUSE, SQLITE_RANGE: .misuse
        case SQLITE_IOERR, SQLITE_CANTOPEN: .io
        default: .other
        }
        return StorageFailure(kind: kind, message: message)
    }

    /// The runtime's sandbox decision for plugin SQL (see the runtime's `Authorizer`).
    nonisolated static func decide(_ action: Int32, _ arg1: String?, _ arg2: String?) -> Int32 {
        switch action {
        case SQLITE_ATTACH, SQLITE_DETACH, SQLITE_TRANSACTION, SQLITE_SAVEPOINT:
            return SQLITE_DENY
        case SQLITE_PRAGMA:
            let name = (arg1 ?? "").lowercased()
            guard allowedPragmas.contains(name) else { return SQLITE_DENY }
            if ["schema_version", "page_size"].contains(name), arg2 != nil { return SQLITE_DENY }
        case SQLITE_FUNCTION:
            return SQLITE_OK
        default:
            break
        }
        return [arg1, arg2].contains { $0?.lowercased().hasPrefix("_plexus_") ?? false } ? SQLITE_DENY : SQLITE_OK
    }

    private nonisolated static let allowedPragmas: Set<String> = [
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo", "foreign_key_list", "foreign_key_check",
        "integrity_check", "quick_check", "user_version", "data_version", "page_count", "page_size", "freelist_count",
        "collation_list", "function_list", "compile_options", "schema_version",
    ]
}

/// Whether the sandbox applies (off for the store's own statements).
private final class SandboxFlag: @unchecked Sendable {
    var on = true
}
