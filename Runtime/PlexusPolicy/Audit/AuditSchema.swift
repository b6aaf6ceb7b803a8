import PlexusStorage

/// The audit log's table, and the SQL that writes and reads it.
enum AuditSchema {
    /// The schema. `AUTOINCREMENT` keeps the highest id ever used in `sqlite_sequence`, so ids are
    /// never reused after old records are pruned.
    ///
    /// On PostgreSQL (`[cluster] postgres`: one log for every instance) the database numbers the
    /// records (BIGSERIAL): instances write concurrently, so the ids a process stamps (which order
    /// its own buffer) are not stored there. `action` compares bytewise (collation "C"), as the
    /// prefix range of `select` expects.
    static let migrations = [
        Migration(
            version: 1,
            sql: """
                CREATE TABLE audit_log (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    time REAL NOT NULL,
                    actor TEXT NOT NULL,
                    actor_kind TEXT NOT NULL,
                    action TEXT NOT NULL,
                    target TEXT,
                    outcome TEXT NOT NULL,
                    request_id TEXT,
                    tenant TEXT,
                    detail TEXT NOT NULL
                );
                CREATE INDEX audit_log_time ON audit_log (time);
                CREATE INDEX audit_log_action ON audit_log (action, id);
                CREATE INDEX audit_log_actor ON audit_log (actor, id);
                CREATE INDEX audit_log_request ON audit_log (request_id);
                """,
            postgresql: """
                CREATE TABLE audit_log (
                    id BIGSERIAL PRIMARY KEY,
                    time DOUBLE PRECISION NOT NULL,
                    actor TEXT NOT NULL,
                    actor_kind TEXT NOT NULL,
                    action TEXT COLLATE "C" NOT NULL,
                    target TEXT,
                    outcome TEXT NOT NULL,
                    request_id TEXT,
                    tenant TEXT,
                    detail TEXT NOT NULL
                );
                CREATE INDEX audit_log_time ON audit_log (time);
                CREATE INDEX audit_log_action ON audit_log (action, id);
                CREATE INDEX audit_log_actor ON audit_log (actor, id);
                CREATE INDEX audit_log_request ON audit_log (request_id);
                """),
        // Where a record copied from a SQLite audit log came from (`plexus storage migrate`): that
        // installation's instance id and the record's id there. PostgreSQL numbers the copies
        // after its own records; these keep an old id findable and make an interrupted copy
        // resumable (each old record once).
        Migration(
            version: 2,
            sql: """
                ALTER TABLE audit_log ADD COLUMN sqlite_source TEXT;
                ALTER TABLE audit_log ADD COLUMN sqlite_id INTEGER;
                """,
            postgresql: """
                ALTER TABLE audit_log ADD COLUMN sqlite_source TEXT, ADD COLUMN sqlite_id BIGINT;
                CREATE UNIQUE INDEX audit_log_sqlite_origin ON audit_log (sqlite_source, sqlite_id) WHERE sqlite_id IS NOT NULL;
                """),
    ]

    /// The statement that writes a record on `dialect` (PostgreSQL numbers it; ?1 is unused there).
    static func insert(for dialect: SQLDialect) -> String { dialect == .postgresql ? postgresInsert : insert }

    static let postgresInsert = """
        INSERT INTO audit_log (time, actor, actor_kind, action, target, outcome, request_id, tenant, detail)
        VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        """

    /// The highest id ever assigned (0 for a new log).
    static let lastID = """
        SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'), 0),
                   coalesce((SELECT max(id) FROM audit_log), 0))
        """

    static let insert = """
        INSERT INTO audit_log (id, time, actor, actor_kind, action, target, outcome, request_id, tenant, detail)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        """

    /// Deletes up to ?2 records older than ?1 (one chunk, so appends interleave with a long prune).
    static let pruneChunk = """
        DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE time < ?1 ORDER BY time LIMIT ?2)
        """

    private static let columns = "id, time, actor, actor_kind, action, target, outcome, request_id, tenant, detail"

    /// The values of `insert` for a record.
    static func parameters(_ record: AuditRecord) -> [StorageValue] {
        [
            .integer(record.id), .real(record.time), .text(record.actor), .text(record.actorKind.rawValue),
            .text(record.action.rawValue), record.target.map(StorageValue.text) ?? .null,
            .text(record.outcome.rawValue), record.requestID.map(StorageValue.text) ?? .null,
            record.tenant.map(StorageValue.text) ?? .null, .text(record.detail),
        ]
    }

    /// A row of `select` as a record.
    static func record(_ row: StorageRow) -> AuditRecord {
        AuditRecord(
            id: row[0].integerValue ?? 0, time: row[1].realValue ?? 0, actor: row[2].textValue ?? "",
            actorKind: AuditActorKind(rawValue: row[3].textValue ?? ""), action: AuditAction(rawValue: row[4].textValue ?? ""),
            target: row[5].textValue, outcome: AuditOutcome(rawValue: row[6].textValue ?? "") ?? .failure,
            requestID: row[7].textValue, tenant: row[8].textValue, detail: row[9].textValue ?? "")
    }

    /// The statement for one page of `query`: newest first, one row more than the page so the
    /// caller knows whether another page follows.
    static func select(_ query: AuditQuery) -> (sql: String, parameters: [StorageValue]) {
        var clauses: [String] = []
        var parameters: [StorageValue] = []
        func bind(_ value: StorageValue) -> String {
            parameters.append(value)
            return "?\(parameters.count)"
        }
        if let since = query.since { clauses.append("time >= \(bind(.real(since)))") }
        if let until = query.until { clauses.append("time < \(bind(.real(until)))") }
        switch query.action {
        case .exact(let action)?:
            clauses.append("action = \(bind(.text(action.rawValue)))")
        case .prefix(let prefix)? where !prefix.isEmpty:
            // The range lets the (action, id) index narrow the scan; substr makes the match exact.
            let low = bind(.text(prefix))
            let high = bind(.text(prefix + "\u{10FFFF}"))
            let length = bind(.integer(Int64(prefix.unicodeScalars.count)))
            // (The cast: PostgreSQL has no substr with a bigint length.)
            clauses.append("action >= \(low) AND action < \(high) AND substr(action, 1, CAST(\(length) AS INTEGER)) = \(low)")
        case .prefix?, nil:
            break
        }
        if let actor = query.actor { clauses.append("actor = \(bind(.text(actor)))") }
        if let outcome = query.outcome { clauses.append("outcome = \(bind(.text(outcome.rawValue)))") }
        if let requestID = query.requestID { clauses.append("request_id = \(bind(.text(requestID)))") }
        if let tenant = query.tenant { clauses.append("tenant = \(bind(.text(tenant)))") }
        if let before = query.before { clauses.append("id < \(bind(.integer(before)))") }
        var sql = "SELECT \(columns) FROM audit_log"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += " ORDER BY id DESC LIMIT \(bind(.integer(Int64(query.effectiveLimit + 1))))"
        return (sql, parameters)
    }
}
