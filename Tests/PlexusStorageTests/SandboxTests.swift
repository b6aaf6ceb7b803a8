import Foundation
import PlexusStorage
import XCTest

final class SandboxTests: XCTestCase {
    func testAttachAndInternalTablesAreRefused() async throws {
        let directory = try makeTemporaryDirectory(self)
        let mine = try await StorageEngine.open(pluginName: "mine", dataDirectory: directory, configuration: testConfiguration())
        let theirs = try await StorageEngine.open(pluginName: "theirs", dataDirectory: directory, configuration: testConfiguration())
        try await theirs.put("secret", value: [42])
        XCTAssertEqual(mine.path, directory + "/plugins/mine/storage.sqlite")

        let attach = await assertStorageError(.denied) { () async throws(StorageError) in
            try await mine.execute("ATTACH DATABASE ? AS other", [.text(theirs.path)])
        }
        XCTAssertTrue(attach?.description.contains("not authorized") ?? false, "\(String(describing: attach))")
        await assertStorageError(.denied) { () async throws(StorageError) in
            try await mine.execute("DETACH DATABASE main")
        }
        // VACUUM INTO would write another file: it attaches internally, which is refused.
        await assertStorageError(.denied) { () async throws(StorageError) in
            try await mine.execute("VACUUM INTO ?", [.text(directory + "/copy.sqlite")])
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/copy.sqlite"))

        try await mine.put("k", value: [1])
        // Creating a view over an internal table is harmless: reading through it is refused.
        let view = try await mine.execute("CREATE VIEW v AS SELECT * FROM _plexus_kv")
        XCTAssertEqual(view.changes, 0)
        for sql in [
            "SELECT * FROM _plexus_kv", "DELETE FROM _plexus_kv", "UPDATE _PLEXUS_KV SET value = x'00'",
            "INSERT INTO _plexus_migrations VALUES (1, 'x', 0)", "DROP TABLE _plexus_kv",
            "CREATE TABLE _plexus_mine (a)", "PRAGMA table_info(_plexus_kv)", "SELECT * FROM v",
            "PRAGMA journal_mode=DELETE", "PRAGMA foreign_keys=OFF", "PRAGMA writable_schema=ON", "BEGIN",
            "SAVEPOINT s",
        ] {
            let refused = await assertStorageError(.denied) { () async throws(StorageError) in try await mine.execute(sql) }
            XCTAssertNotNil(refused, sql)
        }
        let introspection = try await mine.query("PRAGMA user_version")
        XCTAssertEqual(introspection.rows[0][0], 0)
        let kv = try await mine.get("k")
        XCTAssertEqual(kv?.value, [1], "the engine itself still reaches its tables")

        // Plugin names cannot escape the data directory.
        await assertStorageError(.misuse) { () async throws(StorageError) in
            try await StorageEngine.open(pluginName: "../theirs", dataDirectory: directory)
        }
        await mine.close()
        await theirs.close()
    }
}
