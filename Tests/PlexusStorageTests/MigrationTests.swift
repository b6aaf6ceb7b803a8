import Foundation
import PlexusStorage
import XCTest

final class MigrationTests: XCTestCase {
    let first = Migration(version: 1, sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);")
    let second = Migration(version: 2, sql: """
        ALTER TABLE notes ADD COLUMN tag TEXT;
        INSERT INTO notes (body, tag) VALUES ('seed', 'v2');
        """)

    func testMigrationsRunOnceInOrderAndAreRecorded() async throws {
        let engine = try await openEngine(self)
        // Given out of order: still applied 1 then 2.
        let applied = try await engine.migrate([second, first])
        XCTAssertEqual(applied, [1, 2])
        let again = try await engine.migrate([first, second])
        XCTAssertEqual(again, [], "nothing runs twice")
        let seeded = try await count(engine, "notes")
        XCTAssertEqual(seeded, 1, "the seed insert ran exactly once")
        let third = Migration(version: 3, sql: "CREATE INDEX notes_tag ON notes(tag)")
        let more = try await engine.migrate([first, second, third])
        XCTAssertEqual(more, [3])

        let raw = try RawConnection(engine.path)
        XCTAssertEqual(raw.column("SELECT version FROM _plexus_migrations ORDER BY version"), ["1", "2", "3"])
        XCTAssertEqual(raw.column("SELECT count(*) FROM _plexus_migrations WHERE applied_at > 1600000000"), ["3"])
        await engine.close()
    }

    func testChangedGappedOrUnknownMigrationsAreRefused() async throws {
        let engine = try await openEngine(self)
        try await engine.migrate([first, second])
        let changed = Migration(version: 2, sql: second.sql + "\nINSERT INTO notes (body) VALUES ('sneaky');")
        let error = await assertStorageError(.invalidMigration) { () async throws(StorageError) in
            try await engine.migrate([first, changed, Migration(version: 3, sql: "CREATE TABLE x (a)")])
        }
        XCTAssertTrue(error?.message.contains("migration 2") ?? false, "\(String(describing: error))")
        await assertStorageError(.invalidMigration) { () async throws(StorageError) in
            try await engine.migrate([first, second, Migration(version: 4, sql: "CREATE TABLE x (a)")])
        }
        await assertStorageError(.invalidMigration) { () async throws(StorageError) in
            try await engine.migrate([first, second, Migration(version: 2, sql: "CREATE TABLE x (a)")])
        }
        await assertStorageError(.invalidMigration) { () async throws(StorageError) in
            try await engine.migrate([first])  // the database has 2, the list does not
        }
        // Nothing of the refused lists ran.
        let tables = try await engine.query("SELECT name FROM sqlite_master WHERE name = 'x'")
        XCTAssertTrue(tables.rows.isEmpty)
        let notes = try await count(engine, "notes")
        XCTAssertEqual(notes, 1)
        await engine.close()
    }

    func testFailingMigrationIsRolledBackAndNotRecorded() async throws {
        let engine = try await openEngine(self)
        let broken = Migration(version: 3, sql: """
            CREATE TABLE half (a);
            INSERT INTO half VALUES (1);
            INSERT INTO no_such_table VALUES (1);
            """)
        await assertStorageError(.misuse) { () async throws(StorageError) in
            try await engine.migrate([first, second, broken])
        }
        let half = try await engine.query("SELECT name FROM sqlite_master WHERE name = 'half'")
        XCTAssertTrue(half.rows.isEmpty, "the failed migration left nothing")
        let raw = try RawConnection(engine.path)
        XCTAssertEqual(raw.column("SELECT version FROM _plexus_migrations ORDER BY version"), ["1", "2"])
        // Migrations run in the sandbox too.
        await assertStorageError(.denied) { () async throws(StorageError) in
            try await engine.migrate([first, second, Migration(version: 3, sql: "DELETE FROM _plexus_kv")])
        }
        let fixed = try await engine.migrate([first, second, Migration(version: 3, sql: "CREATE TABLE half (a)")])
        XCTAssertEqual(fixed, [3])
        await engine.close()
    }
}
