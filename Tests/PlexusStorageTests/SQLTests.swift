import Foundation
import PlexusStorage
import XCTest

final class SQLTests: XCTestCase {
    func testBoundParametersOfEveryTypeRoundTrip() async throws {
        let engine = try await openEngine(self)
        try await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, n)")
        let values: [StorageValue] = [
            .integer(Int64.min), .real(-2.5), .text("héllo ✓ \u{0}nul"), .blob([0, 255, 0, 7]), .null,
        ]
        let inserted = try await engine.execute("INSERT INTO t (i, r, s, b, n) VALUES (?, ?, ?, ?, ?)", values)
        XCTAssertEqual(inserted.changes, 1)
        XCTAssertEqual(inserted.lastInsertRowID, 1)
        let empties = try await engine.execute(
            "INSERT INTO t (i, r, s, b, n) VALUES (?1, ?2, ?3, ?4, ?5)", [.integer(Int64.max), 1e300, "", .blob([]), nil])
        XCTAssertEqual(empties.lastInsertRowID, 2)

        let result = try await engine.query("SELECT i, r, s, b, n FROM t WHERE id = ?", [1])
        XCTAssertEqual(result.columns, ["i", "r", "s", "b", "n"])
        XCTAssertEqual(result.rows.count, 1)
        XCTAssertEqual(result.rows[0].values, values)
        XCTAssertEqual(result.rows[0]["s"], .text("héllo ✓ \u{0}nul"))
        let second = try await engine.query("SELECT i, r, s, b, n, typeof(s), typeof(b) FROM t WHERE id = 2")
        XCTAssertEqual(
            second.rows[0].values, [.integer(Int64.max), .real(1e300), .text(""), .blob([]), .null, "text", "blob"],
            "empty text and blob are not NULL")
        let nulls = try await engine.query("SELECT count(*) FROM t WHERE n IS NULL AND b IS NOT NULL")
        XCTAssertEqual(nulls.rows[0][0], 2)

        let updated = try await engine.execute("UPDATE t SET n = ? WHERE id > ?", ["x", 0])
        XCTAssertEqual(updated.changes, 2)
        await engine.close()
    }

    func testBadSQLAndConstraintErrorsAreTyped() async throws {
        let engine = try await openEngine(self)
        try await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)")
        let syntax = await assertStorageError(.misuse) { () async throws(StorageError) in
            try await engine.execute("SELEC 1")
        }
        XCTAssertTrue(syntax?.message.contains("syntax error") ?? false, "\(String(describing: syntax))")
        XCTAssertTrue(syntax?.description.contains("storage.sqlite") ?? false, "names the file")
        await assertStorageError(.misuse) { () async throws(StorageError) in
            try await engine.query("SELECT * FROM nosuchtable")
        }
        await assertStorageError(.misuse) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO t (name) VALUES (?)", [])
        }
        await assertStorageError(.misuse) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO t (name) VALUES ('a'); INSERT INTO t (name) VALUES ('b')")
        }
        try await engine.execute("INSERT INTO t (name) VALUES ('a'); -- a trailing comment is fine")
        await assertStorageError(.constraint) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO t (name) VALUES (?)", ["a"])
        }
        await assertStorageError(.constraint) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO t (name) VALUES (NULL)")
        }
        let n = try await count(engine, "t")
        XCTAssertEqual(n, 1)
        await engine.close()
    }

    func testForeignKeysAreEnforced() async throws {
        let engine = try await openEngine(self)
        try await engine.migrate([
            Migration(version: 1, sql: """
                CREATE TABLE parent (id INTEGER PRIMARY KEY);
                CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL REFERENCES parent(id));
                """)
        ])
        await assertStorageError(.constraint) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO child (parent) VALUES (42)")
        }
        await engine.close()
    }

    func testTransactionCommitsOrLeavesNothing() async throws {
        let engine = try await openEngine(self)
        try await engine.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")

        let sum = try await engine.transaction { tx in
            try tx.execute("INSERT INTO t (name) VALUES (?)", ["a"])
            try tx.execute("INSERT INTO t (name) VALUES (?)", ["b"])
            try tx.put("k", value: [1])
            return try tx.query("SELECT count(*) FROM t").rows[0][0].integerValue ?? 0
        }
        XCTAssertEqual(sum, 2)

        struct Oops: Error {}
        let aborted = await assertStorageError(.aborted) { () async throws(StorageError) in
            try await engine.transaction { tx in
                try tx.execute("INSERT INTO t (name) VALUES (?)", ["c"])
                try tx.put("k", value: [2])
                try tx.put("new", value: [2])
                throw Oops()
            }
        }
        XCTAssertTrue(aborted?.message.contains("Oops") ?? false)

        await assertStorageError(.constraint) { () async throws(StorageError) in
            try await engine.transaction { tx in
                try tx.execute("INSERT INTO t (name) VALUES (?)", ["d"])
                try tx.execute("INSERT INTO t (name) VALUES (?)", ["a"])  // duplicate
            }
        }
        await assertStorageError(.conflict) { () async throws(StorageError) in
            try await engine.transaction { tx in
                try tx.execute("INSERT INTO t (name) VALUES (?)", ["e"])
                try tx.put("k", value: [3], expectedVersion: 7)
            }
        }
        let names = try await engine.query("SELECT name FROM t ORDER BY name")
        XCTAssertEqual(names.rows.map { $0[0] }, ["a", "b"], "rolled-back transactions left nothing")
        let k = try await engine.get("k")
        XCTAssertEqual(k?.value, [1])
        XCTAssertEqual(k?.version, 1)
        let new = try await engine.get("new")
        XCTAssertNil(new)

        // A transaction handle is dead once its body has returned.
        let escaped = Locked<StorageTransaction?>(nil)
        try await engine.transaction { tx in escaped.withLock { $0 = tx } }
        let after = try await engine.transaction { _ in
            Result(catching: { () throws(StorageError) in try escaped.current!.execute("DELETE FROM t") })
        }
        guard case .failure(let error) = after else { return XCTFail("an escaped transaction must not work") }
        XCTAssertEqual(error.kind, .misuse)
        await engine.close()
    }
}
