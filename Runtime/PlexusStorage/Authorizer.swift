import CSQLite

/// The sandbox for plugin SQL, enforced with `sqlite3_set_authorizer` at statement compile time.
///
/// In `.plugin` mode it denies ATTACH/DETACH (no reaching another file), transaction control
/// (the engine owns transactions), pragmas other than read-only introspection, and any access to
/// the engine's `_plexus_*` tables. In `.engine` mode (the engine's own statements) all is allowed.
enum Authorizer {
    /// Whose SQL is being compiled or run.
    enum Mode: String { case engine, plugin }

    /// Pragmas plugin SQL may use (introspection only; those that can also set are read-only here).
    static let allowedPragmas: Set<String> = [
        "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
        "foreign_key_list", "foreign_key_check", "integrity_check", "quick_check", "user_version",
        "data_version", "page_count", "page_size", "freelist_count", "collation_list",
        "function_list", "compile_options", "schema_version",
    ]
    /// Pragmas from `allowedPragmas` that may not be given a value.
    static let readOnlyPragmas: Set<String> = ["schema_version", "page_size"]

    static func decide(mode: Mode, action: Int32, _ arg1: String?, _ arg2: String?) -> Int32 {
        guard mode == .plugin else { return SQLITE_OK }
        switch action {
        case SQLITE_ATTACH, SQLITE_DETACH, SQLITE_TRANSACTION, SQLITE_SAVEPOINT:
            return SQLITE_DENY
        case SQLITE_PRAGMA:
            let name = (arg1 ?? "").lowercased()
            guard allowedPragmas.contains(name) else { return SQLITE_DENY }
            if readOnlyPragmas.contains(name), arg2 != nil { return SQLITE_DENY }
        case SQLITE_FUNCTION:
            return SQLITE_OK  // arg2 is the function name, not a table
        default:
            break
        }
        for name in [arg1, arg2] {
            if let name, name.lowercased().hasPrefix("_plexus_") { return SQLITE_DENY }
        }
        return SQLITE_OK
    }

    /// Installs the authorizer on a connection; `owner` must outlive it.
    static func install(on db: OpaquePointer, owner: Database) {
        let context = Unmanaged.passUnretained(owner).toOpaque()
        sqlite3_set_authorizer(db, { context, action, arg1, arg2, _, _ in
            guard let context else { return SQLITE_DENY }
            let owner = Unmanaged<Database>.fromOpaque(context).takeUnretainedValue()
            return Authorizer.decide(
                mode: owner.mode, action: action, arg1.map { String(cString: $0) }, arg2.map { String(cString: $0) })
        }, context)
    }
}
