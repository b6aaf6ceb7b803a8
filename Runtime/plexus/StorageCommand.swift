import ArgumentParser
import Foundation
import PlexusAuth
import PlexusPolicy
import PlexusRuntime
import PlexusStorage

/// `plexus storage migrate`: moves every plugin's storage between SQLite files and PostgreSQL.
struct StorageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage", abstract: "Plugin storage between SQLite and PostgreSQL.", subcommands: [Migrate.self])

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every plugin's storage from its SQLite file to PostgreSQL (--to), or back (--from).",
            discussion: """
                For each plugin with a file under DATA/plugins/<name>/storage.sqlite: the key-value store (versions and \
                expiries kept) and every table, each verified by row count and checksum. With --to, also the API keys \
                (merged by key id) and the audit log's records (DATA/runtime/audit.sqlite: numbered by PostgreSQL after \
                its own records, each keeping its SQLite id in sqlite_id; verified by count and checksum). The target's tables must exist: \
                start the plugins once on the target first (their migrations create them). A table the target already \
                holds is skipped, so an interrupted run resumes where it stopped. Stop the instances first: rows written \
                during the copy may be missed.
                """)

        @Option(help: "The data directory of the instance (default ./data).")
        var data = "data"
        @Option(help: "Copy the SQLite files to this PostgreSQL database (postgresql://...).")
        var to: String?
        @Option(help: "Copy from this PostgreSQL database back into the SQLite files.")
        var from: String?

        func validate() throws {
            guard (to == nil) != (from == nil) else { throw ValidationError("give exactly one of --to URL and --from URL") }
        }

        func run() throws {
            let url = to ?? from ?? ""
            let toPostgres = to != nil
            let plugins = URL(fileURLWithPath: data).appendingPathComponent("plugins")
            try CommandFailure.requireFile(plugins.path, option: "--data")
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: plugins.path)) ?? []).sorted().filter {
                FileManager.default.fileExists(atPath: plugins.appendingPathComponent("\($0)/storage.sqlite").path)
            }
            let keyFile = URL(fileURLWithPath: data).appendingPathComponent("runtime/gateway.sqlite")
            let hasKeys = FileManager.default.fileExists(atPath: keyFile.path)
            let auditFile = URL(fileURLWithPath: data).appendingPathComponent("runtime/audit.sqlite")
            let hasAudit = toPostgres && FileManager.default.fileExists(atPath: auditFile.path)
            guard !names.isEmpty || hasKeys || hasAudit else {
                throw CommandFailure("no plugin storage under \(plugins.path) (no <name>/storage.sqlite), no runtime/gateway.sqlite and no runtime/audit.sqlite")
            }
            var rows: [[String]] = []
            if hasKeys {
                rows += try copyKeys(keyFile.path, url: url, toPostgres: toPostgres)
            }
            if hasAudit {
                let source = try InstanceID.load(in: URL(fileURLWithPath: data))
                let report = try blockingAwait { () async throws -> AuditCopy.Report in
                    do {
                        return try await AuditCopy.copy(sqlite: auditFile.path, source: source, to: PostgresSettings(url: url))
                    } catch {
                        throw CommandFailure("audit log: \(error)")
                    }
                }
                rows.append(["(audit log)", "audit_log", String(report.records), report.checksum,
                             report.copied == 0 ? "already there" : "copied \(report.copied)"])
            }
            for name in names {
                let reports = try blockingAwait { () async throws -> [TableCopyReport] in
                    var configuration = StorageConfiguration()
                    configuration.purgeInterval = nil
                    configuration.createIfMissing = false
                    let file = plugins.appendingPathComponent("\(name)/storage.sqlite").path
                    var opened: [StorageEngine] = []
                    do {
                        let sqlite = try await StorageEngine.open(at: file, configuration: configuration)
                        opened.append(sqlite)
                        let postgres = try await StorageEngine.open(pluginName: name, postgres: PostgresSettings(url: url), configuration: configuration)
                        opened.append(postgres)
                        let reports = toPostgres ? try await sqlite.copy(to: postgres) : try await postgres.copy(to: sqlite)
                        for engine in opened { await engine.close() }
                        return reports
                    } catch {
                        for engine in opened { await engine.close() }
                        throw CommandFailure("plugin '\(name)': \(error)")
                    }
                }
                rows += reports.map { [name, $0.table, String($0.rows), $0.checksum, $0.copied ? "copied" : "already there"] }
            }
            print(Table.render(header: ["PLUGIN", "TABLE", "ROWS", "CHECKSUM", "STATE"], rows: rows))
            print("\(names.count) plugin(s)\(hasKeys ? " and the API keys" : "")\(hasAudit ? " and the audit log" : "") \(toPostgres ? "copied to" : "copied from") \(PostgresSettings.redacted(url)); every table verified")
        }

        /// The runtime's API keys (`runtime/gateway.sqlite`) to or from their tables on PostgreSQL
        /// (where an instance with `[cluster] postgres` and no Redis reads them), merged by key id:
        /// keys the target lacks are added, a revocation reaches a key the target has, and a key whose
        /// name an active key of the target already uses is left out (and counted). Runs again safely.
        private func copyKeys(_ file: String, url: String, toPostgres: Bool) throws -> [[String]] {
            try blockingAwait { () async throws -> [[String]] in
                var configuration = StorageConfiguration()
                configuration.purgeInterval = nil
                configuration.createIfMissing = false
                let local = try await APIKeyStore.open(engine: try await StorageEngine.open(at: file, configuration: configuration))
                let shared: APIKeyStore
                do {
                    shared = try await APIKeyStore.open(postgres: PostgresSettings(url: url))
                } catch {
                    await local.engine.close()
                    throw CommandFailure("API keys: \(error)")
                }
                let (source, target) = toPostgres ? (local.engine, shared.engine) : (shared.engine, local.engine)
                let outcome: Result<[[String]], Error>
                do {
                    let columns = "id, name, tenant, roles, scopes, key_sha256, hint, created_at, revoked_at"
                    let rows = try await source.query("SELECT \(columns) FROM auth_api_keys ORDER BY created_at, id").rows
                    var merged = 0, refused = 0
                    for row in rows {
                        do {
                            let result = try await target.execute("""
                                INSERT INTO auth_api_keys (\(columns)) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                                ON CONFLICT (id) DO UPDATE SET revoked_at = COALESCE(auth_api_keys.revoked_at, excluded.revoked_at)
                                WHERE auth_api_keys.revoked_at IS NULL AND excluded.revoked_at IS NOT NULL
                                """, row.values)
                            merged += Int(result.changes)
                        } catch let error as StorageError where error.kind == .constraint {
                            refused += 1
                        }
                    }
                    _ = try await target.execute("UPDATE auth_api_key_state SET generation = generation + 1 WHERE id = 1")
                    outcome = .success([["(API keys)", "auth_api_keys", String(rows.count), "\(merged) added or revoked",
                                         refused == 0 ? "merged" : "merged; \(refused) left out: their names are taken by active keys there"]])
                } catch {
                    outcome = .failure(CommandFailure("API keys: \(error)"))
                }
                await local.engine.close()
                await shared.close()
                return try outcome.get()
            }
        }
    }
}
