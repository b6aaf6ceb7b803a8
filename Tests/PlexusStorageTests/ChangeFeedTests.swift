import Foundation
import PlexusStorage
import XCTest

final class ChangeFeedTests: XCTestCase {
    func testReportsCommittedChangesOnly() async throws {
        let engine = try await openEngine(self)
        let batches = Locked<[[StorageChange]]>([])
        engine.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await engine.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")

        try await engine.execute("INSERT INTO items (id, name) VALUES (1, 'one')")
        XCTAssertEqual(batches.current, [[StorageChange(table: "items", operation: .insert, rowID: 1)]])

        try await engine.transaction { tx in
            try tx.execute("INSERT INTO items (id, name) VALUES (2, 'two')")
            try tx.execute("UPDATE items SET name = 'uno' WHERE id = 1")
            try tx.execute("DELETE FROM items WHERE id = 2")
        }
        XCTAssertEqual(batches.current.count, 2)
        XCTAssertEqual(batches.current.last, [
            StorageChange(table: "items", operation: .insert, rowID: 2),
            StorageChange(table: "items", operation: .update, rowID: 1),
            StorageChange(table: "items", operation: .delete, rowID: 2),
        ], "one batch per transaction, in order")

        // Rolled back: nothing.
        struct Oops: Error {}
        _ = try? await engine.transaction { tx in
            try tx.execute("INSERT INTO items (id, name) VALUES (3, 'three')")
            throw Oops()
        }
        // A failed multi-row statement inside a committed transaction: its partial rows are gone.
        try await engine.transaction { tx in
            _ = try? tx.execute("INSERT INTO items (id, name) VALUES (20, 'a'), (21, 'b'), (22, 'uno')")
            try tx.execute("INSERT INTO items (id, name) VALUES (30, 'thirty')")
        }
        XCTAssertEqual(batches.current.count, 3)
        XCTAssertEqual(batches.current.last, [StorageChange(table: "items", operation: .insert, rowID: 30)])
        let ids = try await engine.query("SELECT id FROM items ORDER BY id")
        XCTAssertEqual(ids.rows.map { $0[0] }, [1, 30])

        // Internal tables (key-value, migrations) are never reported.
        try await engine.put("k", value: [1])
        try await engine.delete("k")
        try await engine.migrate([Migration(version: 1, sql: "CREATE TABLE other (a)")])
        XCTAssertEqual(batches.current.count, 3)

        engine.setChangeHandler(nil)
        try await engine.execute("INSERT INTO items (id, name) VALUES (40, 'forty')")
        XCTAssertEqual(batches.current.count, 3)
        await engine.close()
    }
}
