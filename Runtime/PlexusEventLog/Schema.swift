/// The log's tables and the pragmas applied when the writer opens the file.
enum Schema {
    static let version = 1

    static let createTables = """
        CREATE TABLE IF NOT EXISTS events(
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            topic TEXT NOT NULL,
            source TEXT NOT NULL,
            tenant TEXT NOT NULL,
            time_ms INTEGER NOT NULL,
            priority INTEGER NOT NULL,
            content_type TEXT NOT NULL,
            payload BLOB NOT NULL,
            correlation_id TEXT,
            causation_id TEXT,
            schema_version INTEGER NOT NULL,
            size INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS groups(
            name TEXT PRIMARY KEY,
            pattern TEXT NOT NULL,
            cursor INTEGER NOT NULL,
            created_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS deliveries(
            group_name TEXT NOT NULL,
            seq INTEGER NOT NULL,
            state INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            due_ms INTEGER NOT NULL,
            last_reason TEXT NOT NULL DEFAULT '',
            PRIMARY KEY(group_name, seq)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(group_name, state, due_ms);
        CREATE TABLE IF NOT EXISTS dead_letters(
            group_name TEXT NOT NULL,
            event_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            reason TEXT NOT NULL,
            time_ms INTEGER NOT NULL,
            PRIMARY KEY(group_name, event_id)
        ) WITHOUT ROWID;
        """

    /// Delivery states in `deliveries.state`.
    enum DeliveryState: Int {
        /// Handed to a consumer; `due_ms` is the visibility deadline.
        case inFlight = 0
        /// Waiting to be delivered again; `due_ms` is when it becomes due.
        case retry = 1
    }

    /// Sets WAL mode and the durability level, verifies the file, creates the tables and
    /// resets in-flight deliveries (their consumers died with the previous process).
    static func prepare(_ db: SQLiteConnection, configuration: EventLogConfiguration) throws(EventLogError) {
        // Reading the header first turns "not a database" into a typed error early.
        try db.execute("PRAGMA schema_version")
        if configuration.verifyOnOpen {
            let check = try db.statement("PRAGMA quick_check(1)")
            if try check.step() {
                let verdict = check.string(0)
                if verdict != "ok" {
                    throw .corrupt("quick_check: \(verdict)", at: "open \(db.path)")
                }
            }
            check.reset()
        }
        try db.execute("PRAGMA journal_mode=WAL")
        switch configuration.durability {
        case .full: try db.execute("PRAGMA synchronous=FULL")
        case .normal: try db.execute("PRAGMA synchronous=NORMAL")
        }
        try db.execute("PRAGMA foreign_keys=OFF")
        try db.execute("BEGIN IMMEDIATE")
        do {
            try db.execute(createTables)
            try db.execute("PRAGMA user_version=\(version)")
            try db.execute("UPDATE deliveries SET state=\(DeliveryState.retry.rawValue), due_ms=0 WHERE state=\(DeliveryState.inFlight.rawValue)")
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }
}
