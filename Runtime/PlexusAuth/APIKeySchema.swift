import PlexusStorage

/// The API key tables, and reading their rows.
///
/// The schema is created with idempotent `CREATE ... IF NOT EXISTS` statements rather than
/// `StorageEngine.migrate`, because the migration list is per database file: a file shared with
/// another part of the gateway (the policies' tables) would see two lists and refuse both.
/// `auth_api_key_state.generation` is bumped in the same transaction as every create and revoke,
/// so a reader (another process included) detects a change with one single-row query.
/// On PostgreSQL (`[cluster] postgres`: the keys shared by every instance) the types differ:
/// REAL is single precision and INTEGER 32-bit there.
enum APIKeySchema {
    /// The statements that create the tables on `dialect`.
    static func statements(for dialect: SQLDialect) -> [String] {
        dialect == .postgresql ? postgresStatements : statements
    }

    static let postgresStatements = [
        """
        CREATE TABLE IF NOT EXISTS auth_api_keys (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            tenant TEXT,
            roles TEXT NOT NULL DEFAULT '',
            scopes TEXT NOT NULL DEFAULT '',
            key_sha256 TEXT NOT NULL,
            hint TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            revoked_at DOUBLE PRECISION
        )
        """,
        "CREATE UNIQUE INDEX IF NOT EXISTS auth_api_keys_active_name ON auth_api_keys (name) WHERE revoked_at IS NULL",
        "CREATE TABLE IF NOT EXISTS auth_api_key_state (id INTEGER PRIMARY KEY CHECK (id = 1), generation BIGINT NOT NULL)",
        "INSERT INTO auth_api_key_state (id, generation) VALUES (1, 0) ON CONFLICT DO NOTHING",
        APIKeyReaders.createPostgresTable,
    ]

    static let statements = [
        """
        CREATE TABLE IF NOT EXISTS auth_api_keys (
            id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL,
            tenant TEXT,
            roles TEXT NOT NULL DEFAULT '',
            scopes TEXT NOT NULL DEFAULT '',
            key_sha256 TEXT NOT NULL,
            hint TEXT NOT NULL,
            created_at REAL NOT NULL,
            revoked_at REAL
        )
        """,
        "CREATE UNIQUE INDEX IF NOT EXISTS auth_api_keys_active_name ON auth_api_keys (name) WHERE revoked_at IS NULL",
        "CREATE TABLE IF NOT EXISTS auth_api_key_state (id INTEGER PRIMARY KEY CHECK (id = 1), generation INTEGER NOT NULL)",
        "INSERT OR IGNORE INTO auth_api_key_state (id, generation) VALUES (1, 0)",
        APIKeyReaders.createTable,
    ]

    /// Bumps the change counter (run in the transaction that changes a key).
    static let bumpGeneration = "UPDATE auth_api_key_state SET generation = generation + 1 WHERE id = 1"
    /// Reads the change counter.
    static let selectGeneration = "SELECT generation FROM auth_api_key_state WHERE id = 1"
    /// The columns `record(from:)` reads, in order.
    static let recordColumns = "id, name, tenant, roles, scopes, hint, created_at, revoked_at"

    /// A record from a row of `recordColumns` (followed by anything).
    static func record(from row: StorageRow) -> APIKeyRecord {
        APIKeyRecord(
            id: row[0].textValue ?? "", name: row[1].textValue ?? "", tenant: row[2].textValue,
            roles: set(row[3].textValue), scopes: set(row[4].textValue), hint: row[5].textValue ?? "",
            createdAt: row[6].realValue ?? 0, revokedAt: row[7].realValue)
    }

    /// Roles and scopes are stored sorted, space-separated (they may not contain whitespace).
    static func text(_ values: Set<String>) -> String { values.sorted().joined(separator: " ") }

    private static func set(_ text: String?) -> Set<String> {
        Set((text ?? "").split(separator: " ").map(String.init))
    }
}
