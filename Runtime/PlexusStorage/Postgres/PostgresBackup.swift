import Foundation

/// Backup and restore of every plugin's storage on PostgreSQL: `pg_dump` of the plugin schemas
/// (`plugin_*`) in its custom format, one consistent snapshot (pg_dump reads in one REPEATABLE READ
/// transaction), safe while instances serve; `pg_restore` puts them back.
///
/// Objects are dumped without owners and grants: a restore into another database (or another
/// installation) leaves them to the administrator, and the next time an instance opens a plugin's
/// storage the provisioning hands the schema and everything in it to that installation's role.
public enum PostgresBackup {
    /// The dump's file name inside a backup directory.
    public static let fileName = "postgres-plugins.dump"

    /// What a backup wrote.
    public struct Report: Sendable {
        public let file: URL
        public let schemas: [String]
        public let bytes: Int
    }

    /// Dumps every plugin schema of `settings.url` to `directory/postgres-plugins.dump`.
    /// - Throws: `.unavailable` when the server cannot be reached; `.misuse` naming what is missing
    ///   (no `pg_dump`, no plugin schema) or what `pg_dump` said.
    public static func backup(_ settings: PostgresSettings, to directory: URL) throws(StorageError) -> Report {
        let schemas = try pluginSchemas(settings)
        guard !schemas.isEmpty else {
            throw StorageError(.misuse, "the database \(PostgresSettings.redacted(settings.url)) holds no plugin schema (plugin_*): nothing to back up")
        }
        let file = directory.appendingPathComponent(fileName)
        try run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", "--schema=plugin_*", "--file=\(file.path)", "--dbname=\(settings.url)"])
        let bytes = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        return Report(file: file, schemas: schemas, bytes: bytes)
    }

    /// Restores a dump made by ``backup(_:to:)`` into `settings.url`. The database must hold none
    /// of the dump's schemas, unless `replace`: then they are dropped first (with their data).
    public static func restore(_ settings: PostgresSettings, from directory: URL, replace: Bool) throws(StorageError) -> [String] {
        let file = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw StorageError(.misuse, "no \(fileName) in \(directory.path): not a backup of PostgreSQL plugin storage")
        }
        let existing = try pluginSchemas(settings)
        if !existing.isEmpty {
            guard replace else {
                throw StorageError(.misuse, "the database already holds plugin schemas (\(existing.joined(separator: ", "))); restore into an empty database, or replace them (--force)")
            }
            let admin = try AdminConnection(settings: settings)
            defer { admin.close() }
            try admin.script(existing.map { "DROP SCHEMA \"\($0)\" CASCADE;" }.joined(separator: "\n"))
        }
        try run("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--dbname=\(settings.url)", file.path])
        return try pluginSchemas(settings)
    }

    /// Checks before anything is written: the server answers and, for a backup, holds plugin
    /// schemas; for a restore without `replace`, holds none.
    public static func check(_ settings: PostgresSettings, restoring: Bool, replace: Bool = false) throws(StorageError) {
        let schemas = try pluginSchemas(settings)
        if !restoring && schemas.isEmpty {
            throw StorageError(.misuse, "the database \(PostgresSettings.redacted(settings.url)) holds no plugin schema (plugin_*): nothing to back up")
        }
        if restoring && !replace && !schemas.isEmpty {
            throw StorageError(.misuse, "the database already holds plugin schemas (\(schemas.joined(separator: ", "))); restore into an empty database, or replace them (--force)")
        }
    }

    /// The plugin schemas of the database, by name.
    static func pluginSchemas(_ settings: PostgresSettings) throws(StorageError) -> [String] {
        let admin = try AdminConnection(settings: settings)
        defer { admin.close() }
        return try admin.rows("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'plugin\\_%' ORDER BY nspname", []).map { $0.first ?? "" }
    }

    /// Runs a PostgreSQL client tool found on PATH (or in /usr/lib/postgresql/<n>/bin).
    private static func run(_ tool: String, _ arguments: [String]) throws(StorageError) {
        guard let path = locate(tool) else {
            throw StorageError(.misuse, "\(tool) was not found on PATH: install the PostgreSQL client (apt-get install postgresql-client)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw StorageError(.misuse, "cannot run \(path): \(error)")
        }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw StorageError(.misuse, "\(tool) failed (status \(process.terminationStatus)): \(redactingURLs(text))")
        }
    }

    private static func locate(_ tool: String) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted(by: >)
        for directory in paths + versions.map({ "/usr/lib/postgresql/\($0)/bin" }) {
            let candidate = directory + "/" + tool
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// A tool's message with any password in a URL replaced.
    private static func redactingURLs(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: false).map { word in
            word.contains("://") ? PostgresSettings.redacted(String(word)) : String(word)
        }.joined(separator: " ")
    }
}
