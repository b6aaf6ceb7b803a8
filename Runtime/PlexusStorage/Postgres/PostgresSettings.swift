import Foundation

/// Where and how plugin storage reaches PostgreSQL: `[cluster] postgres = "postgresql://..."`.
///
/// The URL's user is the administrator: it creates each plugin's role and schema (it needs
/// `CREATEROLE` and `CREATE` on the database, or is a superuser); the plugin's own connections log
/// in as the plugin's role, which has rights on its schema only.
public struct PostgresSettings: Sendable, Hashable {
    /// The administrator's connection URL (`postgresql://user[:password]@host:port/database`).
    public var url: String
    /// Connections per plugin engine (each on its own worker thread), 1 to 64.
    public var poolSize: Int
    /// A statement running longer than this is cancelled (`.timeout`); 0 disables the limit.
    public var statementTimeoutMilliseconds: Int
    /// How long connecting may take before the operation fails with `.unavailable`.
    public var connectTimeoutSeconds: Int

    /// The bounds of `poolSize`.
    public static let poolSizeRange = 1...64
    /// The bounds of `statementTimeoutMilliseconds` (up to one hour).
    public static let statementTimeoutRange = 0...3_600_000

    /// Settings for `url`: a pool of 4, a 5 s statement timeout, a 5 s connect timeout.
    public init(url: String, poolSize: Int = 4, statementTimeoutMilliseconds: Int = 5_000, connectTimeoutSeconds: Int = 5) {
        self.url = url
        self.poolSize = poolSize
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// Refuses settings libpq or the pool cannot use, naming the setting and the fix.
    public func validate() throws(StorageError) {
        guard url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") else {
            throw StorageError(.misuse, "the PostgreSQL URL must start with postgresql:// (e.g. postgresql://plexus@127.0.0.1:5432/plexus), got \"\(Self.redacted(url))\"")
        }
        guard Self.poolSizeRange.contains(poolSize) else {
            throw StorageError(.misuse, "the PostgreSQL pool size must be between 1 and 64, got \(poolSize)")
        }
        guard Self.statementTimeoutRange.contains(statementTimeoutMilliseconds) else {
            throw StorageError(.misuse, "the PostgreSQL statement timeout must be between 0 and 3600000 ms, got \(statementTimeoutMilliseconds)")
        }
    }

    /// The URL with any password replaced by `***`, for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url[scheme.upperBound...].firstIndex(of: "@") else { return url }
        let userInfo = url[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }
}
