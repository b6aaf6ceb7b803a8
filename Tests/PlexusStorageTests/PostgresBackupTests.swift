import Foundation
@testable import PlexusStorage
import PostgresTestSupport
import XCTest

/// Backup on PostgreSQL (issue 21): pg_dump of the plugin schemas, restored with pg_restore into
/// another database, where the plugin's storage opens on the restored tables, key-value entries
/// and sequences (handed to that installation's role).
final class PostgresBackupTests: XCTestCase {
    private func open(_ url: String, _ plugin: String) async throws -> StorageEngine {
        try await StorageEngine.open(pluginName: plugin, postgres: PostgresSettings(url: url, poolSize: 1), configuration: testConfiguration())
    }

    func testBackupRestoresIntoAnotherDatabase() async throws {
        let cluster = try PostgresTestCluster.get()
        let source = try cluster.newDatabaseURL()
        let engine = try await open(source, "kept")
        let other = try await open(source, "other")
        try await engine.execute("CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, data BYTEA)")
        try await engine.execute("INSERT INTO notes (body, data) VALUES ('one', ?), ('two', NULL)", [.blob([0, 1, 255])])
        _ = try await engine.put("k", value: [9, 8, 7])
        _ = try await other.put("o", value: [1])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-pgbackup-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let report = try PostgresBackup.backup(PostgresSettings(url: source), to: directory)
        XCTAssertEqual(report.schemas, ["plugin_kept", "plugin_other"])
        XCTAssertGreaterThan(report.bytes, 0)
        _ = try await engine.put("later", value: [1])  // after the backup: not in it
        await engine.close()
        await other.close()

        let target = try cluster.newDatabaseURL()
        let restored = try PostgresBackup.restore(PostgresSettings(url: target), from: directory, replace: false)
        XCTAssertEqual(restored, ["plugin_kept", "plugin_other"])
        let back = try await open(target, "kept")
        let rows = try await back.query("SELECT id, body, data FROM notes ORDER BY id")
        XCTAssertEqual(rows.rows.map { $0.values }, [[1, "one", .blob([0, 1, 255])], [2, "two", nil]])
        try await back.execute("INSERT INTO notes (body) VALUES ('three')")
        let next = try await back.query("SELECT max(id) FROM notes")
        XCTAssertEqual(next.rows.first?[0], 3, "the sequence came back too")
        let kept = try await back.get("k")
        XCTAssertEqual(kept?.value, [9, 8, 7])
        let later = try await back.get("later")
        XCTAssertNil(later)
        let owner = try cluster.execute("SELECT DISTINCT c.relowner::regrole::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'plugin_kept' AND c.relkind = 'r'", url: target)
        XCTAssertEqual(owner.count, 1)
        XCTAssertTrue(owner.first?.hasPrefix("plugin_kept_") ?? false, "the restored tables belong to the target installation's role: \(owner)")
        await back.close()

        // A database that holds the schemas already is refused unless they are replaced.
        let refused = await assertStorageError(.misuse) { () async throws(StorageError) in
            _ = try PostgresBackup.restore(PostgresSettings(url: target), from: directory, replace: false)
        }
        XCTAssertTrue(refused?.message.contains("plugin_kept") ?? false, "\(String(describing: refused))")
        // A plugin installed after the backup keeps its schema: only the dump's schemas are replaced.
        let newer = try await open(target, "newer")
        _ = try await newer.put("n", value: [5])
        await newer.close()
        XCTAssertEqual(try PostgresBackup.restore(PostgresSettings(url: target), from: directory, replace: true), ["plugin_kept", "plugin_newer", "plugin_other"])
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_kept.notes", url: target), ["2"], "replaced by the backup's rows")
        let reopened = try await open(target, "newer")
        let stillThere = try await reopened.get("n")
        XCTAssertEqual(stillThere?.value, [5])
        await reopened.close()
        // Not a backup directory; an empty database.
        await assertStorageError(.misuse) { () async throws(StorageError) in
            _ = try PostgresBackup.restore(PostgresSettings(url: target), from: FileManager.default.temporaryDirectory, replace: false)
        }
        let empty = try cluster.newDatabaseURL()
        await assertStorageError(.misuse) { () async throws(StorageError) in _ = try PostgresBackup.backup(PostgresSettings(url: empty), to: directory) }
    }

    /// A backup or restore whose PostgreSQL client program is not installed is refused by the
    /// check that runs before anything is written, naming the program and its package (before, the
    /// check asked only the server, so `plexus backup` wrote the SQLite files and then failed at
    /// pg_dump). The server here cannot be reached: the programs are looked for first.
    func testAMissingClientProgramIsNamedBeforeTheServerIsAsked() async throws {
        let nowhere = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-no-tools-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: nowhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: nowhere) }
        let unreachable = PostgresSettings(url: "postgresql://nobody@127.0.0.1:1/none", connectTimeoutSeconds: 1)
        func refusal(restoring: Bool, replace: Bool) async -> String {
            let error = await assertStorageError(.misuse) { () async throws(StorageError) in
                try PostgresBackup.check(unreachable, restoring: restoring, replace: replace, searchPath: [nowhere.path])
            }
            return error?.message ?? ""
        }
        for (restoring, replace, tool) in [(false, false, "pg_dump"), (true, false, "pg_restore"), (true, true, "pg_restore")] {
            let message = await refusal(restoring: restoring, replace: replace)
            XCTAssertTrue(message.hasPrefix("\(tool) was not found on PATH"), message)
            XCTAssertTrue(message.contains("postgresql-client"), message)
        }
        // pg_restore there, psql not: a replacing restore names psql.
        let restoreTool = nowhere.appendingPathComponent("pg_restore").path
        XCTAssertTrue(FileManager.default.createFile(atPath: restoreTool, contents: Data("#!/bin/sh\nexit 0\n".utf8), attributes: [.posixPermissions: 0o755]))
        let psqlMissing = await refusal(restoring: true, replace: true)
        XCTAssertTrue(psqlMissing.hasPrefix("psql was not found on PATH"), psqlMissing)
        // With the programs where they are installed, the check goes on to the server.
        await assertStorageError(.unavailable) { () async throws(StorageError) in try PostgresBackup.check(unreachable, restoring: false) }
    }

    /// A replacing restore of an older backup does not bring back an API key revoked since the
    /// backup: the revocations in the database are applied again to the restored keys (by id), in
    /// the restore's transaction, and the keys' change counter moves on. The runtime's key tables
    /// are made here with the columns the restore reads (the gateway's own schema has more).
    func testARestoreDoesNotBringBackKeysRevokedSinceTheBackup() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let runtime = try await open(url, PostgresBackup.runtimeStorageName)
        try await runtime.execute("CREATE TABLE auth_api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, revoked_at DOUBLE PRECISION)")
        try await runtime.execute("CREATE TABLE auth_api_key_state (id INTEGER PRIMARY KEY CHECK (id = 1), generation BIGINT NOT NULL)")
        try await runtime.execute("INSERT INTO auth_api_key_state VALUES (1, 5)")
        try await runtime.execute("INSERT INTO auth_api_keys VALUES ('k1', 'leaked', NULL), ('k2', 'kept', NULL), ('k3', 'old', 100)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-pgbackup-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try PostgresBackup.backup(PostgresSettings(url: url), to: directory)

        // After the backup: k1 is revoked (it leaked), k4 created.
        try await runtime.execute("UPDATE auth_api_keys SET revoked_at = 200 WHERE id = 'k1'")
        try await runtime.execute("INSERT INTO auth_api_keys VALUES ('k4', 'newer', NULL)")
        try await runtime.execute("UPDATE auth_api_key_state SET generation = 6")
        await runtime.close()

        let schema = try PostgresProvisioner.identifier(pluginName: PostgresBackup.runtimeStorageName)
        _ = try PostgresBackup.restore(PostgresSettings(url: url), from: directory, replace: true)
        let rows = try cluster.execute("SELECT id || ':' || COALESCE(revoked_at::text, 'active') FROM \(schema).auth_api_keys ORDER BY id", url: url)
        XCTAssertEqual(rows, ["k1:200", "k2:active", "k3:100"], "k1 stays revoked; k4 was not in the backup")
        XCTAssertEqual(try cluster.execute("SELECT generation FROM \(schema).auth_api_key_state", url: url), ["7"],
                       "the counter moved past the replaced value (6), so every instance reloads the keys")
    }
}
