import ArgumentParser
import Foundation
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
                expiries kept) and every table, each verified by row count and checksum. The target's tables must exist: \
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
            guard !names.isEmpty else { throw CommandFailure("no plugin storage under \(plugins.path) (no <name>/storage.sqlite)") }
            var rows: [[String]] = []
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
            print("\(names.count) plugin(s) \(toPostgres ? "copied to" : "copied from") \(PostgresSettings.redacted(url)); every table verified")
        }
    }
}
