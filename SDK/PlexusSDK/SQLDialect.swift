/// The SQL a plugin's storage speaks (ABI 1.9): SQLite by default, PostgreSQL when the operator
/// sets `[cluster] postgres`. Placeholders are SQLite's on both (`?`, `?N`, `:name`); the runtime
/// translates them. Pick a statement by dialect only where the two really differ (types such as
/// `INTEGER PRIMARY KEY` vs `BIGSERIAL PRIMARY KEY`, `INSERT OR IGNORE` vs `ON CONFLICT DO NOTHING`).
public enum SQLDialect: String, Sendable, Hashable, CaseIterable {
    /// SQLite 3: the plugin's own database file.
    case sqlite
    /// PostgreSQL: the plugin's own schema and role on a database every instance shares.
    case postgresql
}

/// One numbered migration with its PostgreSQL text where the dialects differ; see ``Storage/migrate(_:)-(SQLMigration)``.
public struct SQLMigration: Sendable, Hashable {
    /// The migration's number (1, 2, 3, ...).
    public let version: Int
    /// The SQL (SQLite's dialect, and PostgreSQL's too when `postgresql` is nil).
    public let sql: String
    /// The PostgreSQL text, when it differs from `sql`.
    public let postgresql: String?

    /// A migration; give `postgresql` where PostgreSQL needs other text.
    public init(version: Int, sql: String, postgresql: String? = nil) {
        self.version = version
        self.sql = sql
        self.postgresql = postgresql
    }

    /// The text that runs on `dialect`.
    public func sql(for dialect: SQLDialect) -> String {
        dialect == .postgresql ? (postgresql ?? sql) : sql
    }
}
