import PlexusStorage

/// `[cluster] postgres*`: plugin storage on PostgreSQL, shared by every instance of an installation.
///
/// ```toml
/// [cluster]
/// postgres = "postgresql://plexus@127.0.0.1:5432/plexus"   # absent: each plugin's SQLite file (the default)
/// postgres_pool_size = 4                 # connections per plugin, 1 to 64
/// postgres_statement_timeout_ms = 5000   # 0: no limit; at most 3600000
/// postgres_connect_timeout_s = 5         # 1 to 300
/// ```
enum ClusterPostgresSettings {
    /// The keys this file reads (every one under `cluster.postgres`).
    static let keys: Set<String> = [
        "cluster.postgres", "cluster.postgres_pool_size", "cluster.postgres_statement_timeout_ms", "cluster.postgres_connect_timeout_s",
    ]

    /// The settings from the flattened `cluster.postgres*` entries; nil when `cluster.postgres` is absent.
    static func parse(_ values: [String: String], file: String) throws -> PostgresSettings? {
        if let unknown = values.keys.sorted().first(where: { !keys.contains($0) }) {
            throw RuntimeError.config("\(file): unknown setting \(unknown); the PostgreSQL keys are \(keys.sorted().joined(separator: ", "))")
        }
        guard let url = values["cluster.postgres"] else {
            if let orphan = values.keys.sorted().first {
                throw RuntimeError.config("\(file): \(orphan) is set but cluster.postgres (the URL) is not; fix: add cluster.postgres = \"postgresql://user@host:5432/db\" or remove \(orphan)")
            }
            return nil
        }
        var settings = PostgresSettings(url: url)
        settings.poolSize = try integer(values, "cluster.postgres_pool_size", PostgresSettings.poolSizeRange, file) ?? settings.poolSize
        settings.statementTimeoutMilliseconds = try integer(
            values, "cluster.postgres_statement_timeout_ms", PostgresSettings.statementTimeoutRange, file) ?? settings.statementTimeoutMilliseconds
        settings.connectTimeoutSeconds = try integer(values, "cluster.postgres_connect_timeout_s", 1...300, file) ?? settings.connectTimeoutSeconds
        do {
            try settings.validate()
        } catch {
            throw RuntimeError.config("\(file): cluster.postgres: \(error.message)")
        }
        return settings
    }

    private static func integer(_ values: [String: String], _ key: String, _ range: ClosedRange<Int>, _ file: String) throws -> Int? {
        guard let text = values[key] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw RuntimeError.config("\(file): \(key) must be an integer from \(range.lowerBound) to \(range.upperBound), found '\(text)'")
        }
        return value
    }
}
