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
        try run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", "--schema=plugin_*", "--file=\(file.path)"], url: settings.url)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        return Report(file: file, schemas: schemas, bytes: bytes)
    }

    /// The storage name of the runtime's own schema (the API keys and the audit log on
    /// PostgreSQL; `APIKeyStore.postgresStorageName`).
    public static let runtimeStorageName = "plexus.runtime"

    /// Restores a dump made by ``backup(_:to:)`` into `settings.url`. The database must hold no
    /// plugin schema, unless `replace`: then the dump's schemas that exist are dropped and restored
    /// in one transaction (a failed restore changes nothing). Stop the instances first: the restore
    /// takes their tables from under them.
    ///
    /// Replacing never brings a revoked API key back: the revocations in the database's runtime
    /// schema (`auth_api_keys.revoked_at`, by key id) are read in the same transaction before its
    /// schema is dropped and applied again to the restored keys, and the keys' change counter is
    /// bumped so every instance reloads them. Keys created since the backup are not in it, so
    /// they are gone after the restore.
    public static func restore(_ settings: PostgresSettings, from directory: URL, replace: Bool) throws(StorageError) -> [String] {
        let file = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw StorageError(.misuse, "no \(fileName) in \(directory.path): not a backup of PostgreSQL plugin storage")
        }
        let existing = try pluginSchemas(settings)
        if existing.isEmpty {
            try run("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", file.path], url: settings.url)
            return try pluginSchemas(settings)
        }
        guard replace else {
            throw StorageError(.misuse, "the database already holds plugin schemas (\(existing.joined(separator: ", "))); restore into an empty database, or replace them (--force)")
        }
        // Replacing: the dump as SQL, then one psql transaction drops the dump's schemas that exist
        // and restores them, so a restore that fails leaves the data as it was; schemas the dump
        // does not hold (plugins installed since) are left alone.
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-restore-\(UUID().uuidString)")
        do { try FileManager.default.createDirectory(at: work, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700]) } catch {
            throw StorageError(.misuse, "cannot make a work directory for the restore: \(error)")
        }
        defer { try? FileManager.default.removeItem(at: work) }
        let sql = work.appendingPathComponent("dump.sql"), wrapper = work.appendingPathComponent("restore.sql")
        try run("pg_restore", ["--no-owner", "--no-privileges", "--file=\(sql.path)", file.path], url: nil)
        let dumped = dumpedSchemas(sql)
        let drops = existing.filter(dumped.contains).map { "DROP SCHEMA \"\($0.replacingOccurrences(of: "\"", with: "\"\""))\" CASCADE;" }
        let keys = try revocationScripts()
        do {
            try ([keys.save] + drops + ["\\i \(sql.path)", keys.apply]).joined(separator: "\n").write(to: wrapper, atomically: true, encoding: .utf8)
        } catch {
            throw StorageError(.misuse, "cannot write the restore script: \(error)")
        }
        try run("psql", ["--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1", "--file=\(wrapper.path)"], url: settings.url)
        return try pluginSchemas(settings)
    }

    /// The SQL that keeps the API key revocations across a replacing restore: `save` copies them
    /// (id, revoked_at) from the runtime schema, if there is one, into a temporary table before
    /// the schemas are dropped; `apply` (after the dump) revokes those keys again where the
    /// restored rows have them active, and moves the keys' change counter past both the restored
    /// and the replaced value (so every instance reloads the keys). Both run in the
    /// restore's one transaction.
    static func revocationScripts() throws(StorageError) -> (save: String, apply: String) {
        let schema = try PostgresProvisioner.identifier(pluginName: runtimeStorageName)
        let table = "\"\(schema)\".auth_api_keys", state = "\"\(schema)\".auth_api_key_state"
        let save = """
            CREATE TEMPORARY TABLE plexus_revoked_keys (id TEXT PRIMARY KEY, revoked_at DOUBLE PRECISION NOT NULL) ON COMMIT DROP;
            CREATE TEMPORARY TABLE plexus_key_generation (generation BIGINT NOT NULL) ON COMMIT DROP;
            DO $plexus$ BEGIN
                IF to_regclass('\(table)') IS NOT NULL THEN
                    INSERT INTO pg_temp.plexus_revoked_keys (id, revoked_at) SELECT id, revoked_at FROM \(table) WHERE revoked_at IS NOT NULL;
                END IF;
                IF to_regclass('\(state)') IS NOT NULL THEN
                    INSERT INTO pg_temp.plexus_key_generation (generation) SELECT generation FROM \(state);
                END IF;
            END $plexus$;
            """
        let apply = """
            DO $plexus$ BEGIN
                IF to_regclass('\(table)') IS NOT NULL THEN
                    UPDATE \(table) AS k SET revoked_at = r.revoked_at FROM pg_temp.plexus_revoked_keys AS r
                    WHERE k.id = r.id AND k.revoked_at IS NULL;
                END IF;
                IF to_regclass('\(state)') IS NOT NULL THEN
                    UPDATE \(state) SET generation = GREATEST(generation, (SELECT COALESCE(max(generation), 0) FROM pg_temp.plexus_key_generation)) + 1
                    WHERE id = 1;
                END IF;
            END $plexus$;
            """
        return (save, apply)
    }

    /// The schemas a dump's SQL creates (`CREATE SCHEMA name;` lines).
    private static func dumpedSchemas(_ sql: URL) -> Set<String> {
        guard let text = try? String(contentsOf: sql, encoding: .utf8) else { return [] }
        var schemas = Set<String>()
        for line in text.split(separator: "\n") where line.hasPrefix("CREATE SCHEMA ") {
            var name = line.dropFirst("CREATE SCHEMA ".count).prefix { $0 != ";" }
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 {
                name = name.dropFirst().dropLast()
                schemas.insert(name.replacingOccurrences(of: "\"\"", with: "\""))
            } else {
                schemas.insert(String(name))
            }
        }
        return schemas
    }

    /// Checks before anything is written: the server answers and, for a backup, holds plugin
    /// schemas; for a restore without `replace`, holds none.
    /// Also checks, first, that the PostgreSQL client programs the job runs are installed (a backup
    /// needs `pg_dump`; a restore `pg_restore`, and `psql` when replacing), so a missing one is named
    /// before any file is written. `searchPath` (tests): the directories to look in instead of
    /// PATH and /usr/lib/postgresql/<n>/bin.
    public static func check(_ settings: PostgresSettings, restoring: Bool, replace: Bool = false,
                             searchPath: [String]? = nil) throws(StorageError) {
        for tool in requiredTools(restoring: restoring, replace: replace) where locate(tool, in: searchPath) == nil {
            throw missingTool(tool)
        }
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

    /// Runs a PostgreSQL client tool found on PATH (or in /usr/lib/postgresql/<n>/bin) against
    /// `url`. The password goes to the tool in its environment (`PGPASSWORD`, readable by its
    /// owner only), never on its command line, which every local user can read in /proc.
    private static func run(_ tool: String, _ arguments: [String], url: String?) throws(StorageError) {
        guard let path = locate(tool) else { throw missingTool(tool) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        var environment = ProcessInfo.processInfo.environment
        process.arguments = arguments
        if let url {
            var target = url
            if var components = URLComponents(string: url), let password = components.password {
                environment["PGPASSWORD"] = password
                components.password = nil
                target = components.string ?? url
            }
            process.arguments = arguments + ["--dbname=\(target)"]
        }
        process.environment = environment
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

    /// The client programs a backup, or a restore (replacing or not), runs.
    static func requiredTools(restoring: Bool, replace: Bool) -> [String] {
        restoring ? (replace ? ["pg_restore", "psql"] : ["pg_restore"]) : ["pg_dump"]
    }

    private static func missingTool(_ tool: String) -> StorageError {
        StorageError(.misuse, "\(tool) was not found on PATH nor in /usr/lib/postgresql/<version>/bin: install the PostgreSQL client "
                     + "programs (Debian: apt-get install postgresql-client), of the server's major version or newer")
    }

    /// The program `tool` in `searchPath`, or else on PATH or in /usr/lib/postgresql/<n>/bin (newest first).
    private static func locate(_ tool: String, in searchPath: [String]? = nil) -> String? {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted(by: >)
        for directory in searchPath ?? (paths + versions.map({ "/usr/lib/postgresql/\($0)/bin" })) {
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
