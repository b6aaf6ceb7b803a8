import Foundation
import PlexusStorage
import PostgresTestSupport
import XCTest

/// `StorageEngine.copy(to:)`, behind `plexus storage migrate`: SQLite to PostgreSQL and back,
/// verified by row counts and checksums, resumable.
final class StorageCopyTests: XCTestCase {
    let migrations = [
        Migration(version: 1, sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, score REAL, data BLOB);",
                  postgresql: "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL, score DOUBLE PRECISION, data BYTEA);"),
        Migration(version: 2, sql: "CREATE TABLE \"odd \"\"name\"\"\" (k TEXT PRIMARY KEY, n INTEGER);"),
    ]

    func testCopiesToPostgresAndBackVerifiedAndResumable() async throws {
        let clock = ManualClock()
        let sqlite = try await openEngine(self, backend: .sqlite, clock: clock)
        let url = try PostgresTestCluster.get().newDatabaseURL()
        var configuration = testConfiguration(clock: clock)
        configuration.purgeInterval = nil
        let postgres = try await StorageEngine.open(pluginName: "notes", postgres: PostgresSettings(url: url), configuration: configuration)
        try await sqlite.migrate(migrations)
        try await postgres.migrate(migrations)
        for i in 1...50 {
            try await sqlite.execute("INSERT INTO notes (body, score, data) VALUES (?, ?, ?)",
                                     [.text("note \(i) ✓"), i % 3 == 0 ? .null : .real(Double(i) / 4), .blob([UInt8(i), 0, 255])])
        }
        try await sqlite.execute("INSERT INTO \"odd \"\"name\"\"\" VALUES ('a', 1), ('b', NULL)")
        try await sqlite.put("plain", value: [1])
        try await sqlite.put("plain", value: [2])
        try await sqlite.put("ttl", value: [3], ttl: 60)

        let first = try await sqlite.copy(to: postgres)
        XCTAssertEqual(first.map(\.table), ["_plexus_kv", "notes", "odd \"name\""])
        XCTAssertEqual(first.map(\.rows), [2, 50, 2])
        XCTAssertTrue(first.allSatisfy(\.copied))
        let entry = try await postgres.get("plain")
        XCTAssertEqual(entry?.version, 2, "versions are kept")
        let ttl = try await postgres.get("ttl")
        XCTAssertEqual(ttl?.expiresAt, clock.date.addingTimeInterval(60), "expiries are kept")
        let next = try await postgres.execute("INSERT INTO notes (body) VALUES ('after the copy') RETURNING id")
        XCTAssertEqual(next.lastInsertRowID, 51, "the id sequence moved past the copied ids")
        try await postgres.execute("DELETE FROM notes WHERE id = 51")

        // Resumed: nothing left to copy.
        let again = try await sqlite.copy(to: postgres)
        XCTAssertEqual(again.map(\.copied), [false, false, false])
        XCTAssertEqual(again.map(\.checksum), first.map(\.checksum))
        // A target that drifted (an interrupted copy) is emptied and filled again.
        try await postgres.execute("UPDATE notes SET body = 'tampered' WHERE id = 7")
        let repaired = try await sqlite.copy(to: postgres)
        XCTAssertEqual(repaired.map(\.copied), [false, true, false])

        // And back, into a fresh SQLite file with the same schema.
        let back = try await openEngine(self, backend: .sqlite, clock: clock)
        try await back.migrate(migrations)
        let returned = try await postgres.copy(to: back)
        XCTAssertEqual(returned.map(\.checksum), first.map(\.checksum), "the same rows came back")
        let body = try await back.query("SELECT body, data FROM notes WHERE id = 50")
        XCTAssertEqual(body.rows.first?.values, [.text("note 50 ✓"), .blob([50, 0, 255])])

        // A table the target lacks is named, with the fix.
        try await sqlite.execute("CREATE TABLE extra (a INTEGER)")
        let missing = await assertStorageError(.notFound) { () async throws(StorageError) in try await sqlite.copy(to: postgres) }
        XCTAssertTrue(missing?.message.contains("\"extra\"") ?? false, "\(String(describing: missing))")
        await sqlite.close()
        await postgres.close()
        await back.close()
    }
}
