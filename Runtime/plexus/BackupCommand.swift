import ArgumentParser
import Foundation
import PlexusRuntime
import PlexusStorage

/// `plexus backup`: a consistent copy of a whole data directory, safe while the runtime serves.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up a data directory: every database with SQLite's online backup (the event log, API keys, audit log, plugin storage) and the admin key; safe while serving.",
        discussion: "The copy mirrors the data directory's layout and lists its files in \(DataDirectoryBackup.manifestName). It is written under a temporary name and renamed when complete. Restore it with `plexus restore`."
    )

    @Option(help: "The data directory of the instance (default ./data).")
    var data = "data"
    @Option(help: "Where to write the backup: a new or empty directory.")
    var output: String
    @Option(help: "With [cluster] postgres: also dump every plugin schema of this database (postgresql://...) with pg_dump.")
    var postgres: String?

    func run() throws {
        try CommandFailure.requireFile(data, option: "--data")
        if let postgres {
            do { try PostgresBackup.check(PostgresSettings(url: postgres), restoring: false) } catch {
                throw CommandFailure("backup of PostgreSQL plugin storage refused: \(error)")
            }
        }
        let manifest: DataDirectoryBackup.Manifest
        do {
            manifest = try DataDirectoryBackup.backup(dataDirectory: URL(fileURLWithPath: data), output: URL(fileURLWithPath: output),
                                                      runtimeVersion: Runtime.version)
        } catch {
            throw CommandFailure("backup failed: \(error)")
        }
        print(Table.render(header: ["FILE", "KIND", "BYTES"], rows: manifest.files.map { [$0.path, $0.kind, String($0.bytes)] }))
        print("backed up \(manifest.files.count) files from \(data) to \(output)")
        if let postgres {
            do {
                let report = try PostgresBackup.backup(PostgresSettings(url: postgres), to: URL(fileURLWithPath: output))
                print("dumped \(report.schemas.count) plugin schemas (\(report.schemas.joined(separator: ", "))) to \(report.file.path), \(report.bytes) bytes")
            } catch {
                throw CommandFailure("backup of PostgreSQL plugin storage failed: \(error)")
            }
        }
    }
}

/// `plexus restore`: puts a backup made by `plexus backup` back as a data directory.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup made by `plexus backup` into a data directory (new or empty; --force replaces a non-empty one).",
        discussion: "Every file the backup's manifest lists is checked first (present, same size, databases pass quick_check). Refused while a running Plexus uses the data directory."
    )

    @Option(help: "The backup directory (written by `plexus backup --output`).")
    var from: String
    @Option(help: "The data directory to restore into (default ./data).")
    var data = "data"
    @Flag(help: "Replace the contents of a data directory that is not empty (and, with --postgres, the plugin schemas there).")
    var force = false
    @Option(help: "Also restore the backup's PostgreSQL plugin schemas into this database (postgresql://...).")
    var postgres: String?

    func run() throws {
        try CommandFailure.requireFile(from, option: "--from")
        if let postgres {
            guard FileManager.default.fileExists(atPath: URL(fileURLWithPath: from).appendingPathComponent(PostgresBackup.fileName).path) else {
                throw CommandFailure("\(from) holds no \(PostgresBackup.fileName): it was made without --postgres")
            }
            do { try PostgresBackup.check(PostgresSettings(url: postgres), restoring: true, replace: force) } catch {
                throw CommandFailure("restore of PostgreSQL plugin storage refused: \(error)")
            }
        }
        let manifest: DataDirectoryBackup.Manifest
        do {
            manifest = try DataDirectoryBackup.restore(from: URL(fileURLWithPath: from), into: URL(fileURLWithPath: data), force: force)
        } catch {
            throw CommandFailure("restore failed: \(error)")
        }
        print("restored \(manifest.files.count) files (backup of \(manifest.source), taken \(manifest.created)) into \(data)")
        if let postgres {
            do {
                let schemas = try PostgresBackup.restore(PostgresSettings(url: postgres), from: URL(fileURLWithPath: from), replace: force)
                print("restored plugin schemas \(schemas.joined(separator: ", ")) into \(PostgresSettings.redacted(postgres))")
            } catch {
                throw CommandFailure("restore of PostgreSQL plugin storage failed: \(error)")
            }
        }
    }
}
