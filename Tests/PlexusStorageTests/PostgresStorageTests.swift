import Foundation
@testable import PlexusStorage
import PostgresTestSupport
import XCTest

/// PostgreSQL-only behaviour: isolation by roles, placeholder translation, typed errors, statement
/// timeouts, per-dialect migrations, the change feed across instances, reconnect after a restart.
final class PostgresStorageTests: XCTestCase {
    private func open(_ url: String, _ plugin: String, timeoutMs: Int = 5_000) async throws -> StorageEngine {
        try await StorageEngine.open(
            pluginName: plugin, postgres: PostgresSettings(url: url, poolSize: 2, statementTimeoutMilliseconds: timeoutMs),
            configuration: testConfiguration())
    }

    func testPluginRoleCannotReadAnotherPluginsSchema() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let a = try await open(url, "alpha")
        let b = try await open(url, "beta")
        XCTAssertEqual(a.dialect, .postgresql)
        try await b.execute("CREATE TABLE secrets (id BIGINT PRIMARY KEY, body TEXT)")
        try await b.execute("INSERT INTO secrets VALUES (1, 'hidden')")
        try await b.put("token", value: [1, 2, 3])
        // Hand-written SQL from plugin alpha, naming beta's schema.
        for sql in ["SELECT * FROM plugin_beta.secrets", "SELECT * FROM plugin_beta._plexus_kv",
                    "DELETE FROM plugin_beta.secrets", "CREATE TABLE plugin_beta.planted (a INT)"] {
            let error = await assertStorageError(.denied) { () async throws(StorageError) in try await a.query(sql) }
            XCTAssertEqual(error?.sqlState, "42501", sql)
            XCTAssertTrue(error?.message.contains("permission denied") ?? false, "\(String(describing: error))")
        }
        // The roles carry the installation's id: the schemas' owners.
        let alphaRole = try XCTUnwrap(try cluster.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'plugin_alpha'", url: url).first)
        let betaRole = try XCTUnwrap(try cluster.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'plugin_beta'", url: url).first)
        XCTAssertTrue(alphaRole.hasPrefix("plugin_alpha_"), alphaRole)
        await assertStorageError(.denied) { () async throws(StorageError) in try await a.execute("SET ROLE \(betaRole)") }
        await assertStorageError(.denied) { () async throws(StorageError) in try await a.execute("BEGIN") }
        // The database refuses it too, below the engine's own check: log in as alpha's role directly.
        let alphaURL = url.replacingOccurrences(of: "postgres@", with: "\(alphaRole)@")
        XCTAssertThrowsError(try cluster.execute("SET ROLE \(betaRole)", url: alphaURL))
        XCTAssertThrowsError(try cluster.execute("SELECT * FROM plugin_beta.secrets", url: alphaURL))
        XCTAssertThrowsError(try cluster.execute("CREATE TABLE public.planted (a INT)", url: alphaURL))
        // Each plugin's key-value store is its own.
        let missing = try await a.get("token")
        XCTAssertNil(missing)
        let own = try await b.get("token")
        XCTAssertEqual(own?.value, [1, 2, 3])
        await a.close()
        await b.close()
    }

    func testPlaceholdersAreTranslatedLikeSQLiteNumbersThem() {
        func check(_ sql: String, _ expected: String, _ count: Int, line: UInt = #line) {
            let translation = Placeholders.translate(sql)
            XCTAssertEqual(translation.sql, expected, line: line)
            XCTAssertEqual(translation.parameterCount, count, line: line)
        }
        check("SELECT ?, ?, ?", "SELECT $1, $2, $3", 3)
        check("SELECT ?2, ?, ?1", "SELECT $2, $3, $1", 3)
        check("SELECT :a, :b, :a, ?", "SELECT $1, $2, $1, $3", 3)
        check("SELECT $name, $name", "SELECT $1, $1", 1)
        check("SELECT '?', \"?\", x::int, ? -- ?\n", "SELECT '?', \"?\", x::int, $1 -- ?\n", 1)
        check("SELECT 'it''s ?', ? /* ? */", "SELECT 'it''s ?', $1 /* ? */", 1)
        check("SELECT E'\\' ?', ?", "SELECT E'\\' ?', $1", 1)
        check("DO $$ BEGIN PERFORM '?'; END $$; SELECT ?", "DO $$ BEGIN PERFORM '?'; END $$; SELECT $1", 1)
        check("SELECT $f$ ? $f$, $2", "SELECT $f$ ? $f$, $2", 2)
        check("SELECT 1", "SELECT 1", 0)
    }

    func testSQLValuesErrorsAndTimeouts() async throws {
        let url = try PostgresTestCluster.get().newDatabaseURL()
        let engine = try await open(url, "sql", timeoutMs: 300)
        try await engine.execute("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, i BIGINT, r DOUBLE PRECISION, s TEXT UNIQUE, b BYTEA, n TEXT)")
        let values: [StorageValue] = [.integer(Int64.min), .real(-2.5), .text("héllo ✓"), .blob([0, 255, 0, 7]), .null]
        let inserted = try await engine.execute("INSERT INTO t (i, r, s, b, n) VALUES (?, ?, ?, ?, ?) RETURNING id", values)
        XCTAssertEqual(inserted.changes, 1)
        XCTAssertEqual(inserted.lastInsertRowID, 1, "RETURNING id stands in for SQLite's rowid")
        try await engine.execute("INSERT INTO t (i, r, s, b, n) VALUES (?1, ?2, :s, ?4, ?5)", [.integer(Int64.max), 1e300, "", .blob([]), nil])
        let row = try await engine.query("SELECT i, r, s, b, n FROM t WHERE id = ?", [1])
        XCTAssertEqual(row.columns, ["i", "r", "s", "b", "n"])
        XCTAssertEqual(row.rows.first?.values, values)
        let second = try await engine.query("SELECT i, r, s, b, n, s IS NULL, true FROM t WHERE id = 2")
        XCTAssertEqual(second.rows.first?.values, [.integer(Int64.max), .real(1e300), .text(""), .blob([]), .null, 0, 1])
        let updated = try await engine.execute("UPDATE t SET n = ? WHERE id > ?", ["x", 0])
        XCTAssertEqual(updated.changes, 2)

        let duplicate = await assertStorageError(.constraint) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO t (s) VALUES (?)", ["héllo ✓"])
        }
        XCTAssertEqual(duplicate?.sqlState, "23505")
        await assertStorageError(.misuse) { () async throws(StorageError) in try await engine.execute("SELEC 1") }
        await assertStorageError(.misuse) { () async throws(StorageError) in try await engine.query("SELECT * FROM nosuchtable") }
        let count = await assertStorageError(.misuse) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO t (s) VALUES (?)", [])
        }
        XCTAssertTrue(count?.message.contains("1 parameter(s), 0 given") ?? false, "\(String(describing: count))")
        await assertStorageError(.misuse) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO t (s) VALUES ('a'); INSERT INTO t (s) VALUES ('b')")
        }
        await assertStorageError(.misuse) { () async throws(StorageError) in
            try await engine.execute("INSERT INTO t (s) VALUES (?)", [.text("nul \u{0} inside")])
        }
        let slow = await assertStorageError(.timeout) { () async throws(StorageError) in try await engine.query("SELECT pg_sleep(5)") }
        XCTAssertEqual(slow?.sqlState, "57014")
        let after = try await engine.query("SELECT count(*) FROM t")
        XCTAssertEqual(after.rows.first?[0], 2, "the connection serves again after a timeout")
        await engine.close()
    }

    func testTransactionsCommitOrLeaveNothing() async throws {
        let engine = try await openEngine(self, backend: .postgresql)
        try await engine.execute("CREATE TABLE t (id BIGSERIAL PRIMARY KEY, name TEXT UNIQUE)")
        let sum = try await engine.transaction { tx in
            XCTAssertEqual(tx.dialect, .postgresql)
            try tx.execute("INSERT INTO t (name) VALUES (?)", ["a"])
            try tx.execute("INSERT INTO t (name) VALUES (?)", ["b"])
            try tx.put("k", value: [1])
            return try tx.query("SELECT count(*) FROM t").rows[0][0].integerValue ?? 0
        }
        XCTAssertEqual(sum, 2)
        struct Oops: Error {}
        await assertStorageError(.aborted) { () async throws(StorageError) in
            try await engine.transaction { tx in
                try tx.execute("INSERT INTO t (name) VALUES (?)", ["c"])
                try tx.put("k", value: [2])
                throw Oops()
            }
        }
        await assertStorageError(.constraint) { () async throws(StorageError) in
            try await engine.transaction { tx in
                try tx.execute("INSERT INTO t (name) VALUES (?)", ["d"])
                try tx.execute("INSERT INTO t (name) VALUES (?)", ["a"])
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
        XCTAssertEqual(k?.version, 1)
        await engine.close()
    }

    func testMigrationsPerDialectRecordedOnceAcrossInstances() async throws {
        let url = try PostgresTestCluster.get().newDatabaseURL()
        let migrations = [
            Migration(version: 1, sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
                      postgresql: "CREATE TABLE notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL);"),
            Migration(version: 2, sql: "INSERT INTO notes (body) VALUES ('seed');"),
        ]
        let one = try await open(url, "notes")
        let two = try await open(url, "notes")
        async let first = one.migrate(migrations)
        async let second = two.migrate(migrations)
        let applied = try await [first, second]
        XCTAssertEqual(applied.flatMap { $0 }.sorted(), [1, 2], "each migration ran once, on one instance")
        let seeded = try await one.query("SELECT count(*) FROM notes")
        XCTAssertEqual(seeded.rows.first?[0], 1)
        let recorded = try PostgresTestCluster.get().execute("SELECT checksum FROM plugin_notes._plexus_migrations ORDER BY version", url: url)
        XCTAssertEqual(recorded, [migrations[0].checksum(for: .postgresql), migrations[1].checksum(for: .postgresql)])
        XCTAssertNotEqual(migrations[0].checksum(for: .postgresql), migrations[0].checksum(for: .sqlite))
        let changed = Migration(version: 1, sql: migrations[0].sql, postgresql: "CREATE TABLE notes (id INT);")
        await assertStorageError(.invalidMigration) { () async throws(StorageError) in try await two.migrate([changed, migrations[1]]) }
        let broken = Migration(version: 3, sql: "CREATE TABLE half (a INT); INSERT INTO nowhere VALUES (1);")
        await assertStorageError(.misuse) { () async throws(StorageError) in try await one.migrate(migrations + [broken]) }
        let half = try await one.query("SELECT count(*) FROM pg_tables WHERE tablename = 'half'")
        XCTAssertEqual(half.rows.first?[0], 0, "a failed migration is rolled back whole")
        // The same list on SQLite runs the SQLite text.
        let local = try await openEngine(self, backend: .sqlite)
        let ran = try await local.migrate(migrations)
        XCTAssertEqual(ran, [1, 2])
        await local.close()
        await one.close()
        await two.close()
    }

    func testChangeFeedSeesCommitsOfAnotherInstance() async throws {
        let url = try PostgresTestCluster.get().newDatabaseURL()
        let listener = try await open(url, "feed")
        let writer = try await open(url, "feed")
        let batches = Locked<[[StorageChange]]>([])
        listener.setChangeHandler { batch in batches.withLock { $0.append(batch) } }
        try await listener.setChangeListening(true)
        try await writer.execute("CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT UNIQUE)")
        try await writer.transaction { tx in
            try tx.execute("INSERT INTO items VALUES (1, 'one')")
            try tx.execute("INSERT INTO items VALUES (2, 'two')")
            try tx.execute("UPDATE items SET name = 'uno' WHERE id = 1")
        }
        struct Oops: Error {}
        _ = try? await writer.transaction { tx in
            try tx.execute("INSERT INTO items VALUES (3, 'three')")
            throw Oops()
        }
        try await writer.execute("DELETE FROM items WHERE id = 2")
        try await writer.put("kv-is-not-reported", value: [1])
        try await waitUntil { batches.current.count >= 2 }
        XCTAssertEqual(batches.current, [
            [StorageChange(table: "items", operation: .insert, rowID: 1), StorageChange(table: "items", operation: .insert, rowID: 2),
             StorageChange(table: "items", operation: .update, rowID: 1)],
            [StorageChange(table: "items", operation: .delete, rowID: 2)],
        ], "committed changes only, one batch per transaction, from the other instance")
        await listener.close()
        await writer.close()
    }

    func testRestartMidRequestFailsClearlyThenRecovers() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let engine = try await open(url, "restart")
        try await engine.put("a", value: [1])
        try cluster.stop()
        let down = await assertStorageError(.unavailable) { () async throws(StorageError) in try await engine.put("a", value: [2]) }
        XCTAssertTrue(down?.message.contains("PostgreSQL") ?? false, "\(String(describing: down))")
        try cluster.start()
        let version = try await engine.put("a", value: [3])
        XCTAssertEqual(version, 2, "the write while down did not happen; the engine reconnected")
        let read = try await engine.get("a")
        XCTAssertEqual(read?.value, [3])
        await engine.close()
    }

    func testDeadlockedTransactionIsRunAgain() async throws {
        let url = try PostgresTestCluster.get().newDatabaseURL()
        let one = try await open(url, "deadlock")
        let two = try await open(url, "deadlock")
        try await one.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)")
        try await one.execute("INSERT INTO accounts VALUES (1, 100), (2, 100)")
        let runs = Locked(0)
        // Each locks one row, waits, then wants the other's: PostgreSQL aborts one (40P01) and the
        // engine runs that transaction again, so both transfers happen.
        func transfer(_ engine: StorageEngine, from: Int64, to: Int64) async throws {
            try await engine.transaction { tx in
                runs.withLock { $0 += 1 }
                try tx.execute("UPDATE accounts SET balance = balance - 10 WHERE id = ?", [.integer(from)])
                Thread.sleep(forTimeInterval: 0.3)
                try tx.execute("UPDATE accounts SET balance = balance + 10 WHERE id = ?", [.integer(to)])
            }
        }
        async let a: Void = transfer(one, from: 1, to: 2)
        async let b: Void = transfer(two, from: 2, to: 1)
        _ = try await (a, b)
        // At least one body ran again (under load the retried one may deadlock once more).
        XCTAssertGreaterThanOrEqual(runs.current, 3, "a deadlocked body ran again")
        let balances = try await one.query("SELECT balance FROM accounts ORDER BY id")
        XCTAssertEqual(balances.rows.map { $0[0] }, [100, 100], "both transfers applied exactly once")
        XCTAssertEqual(PostgresErrors.kind(sqlState: "40P01"), .serializationFailure)
        XCTAssertEqual(PostgresErrors.kind(sqlState: "53100"), .diskFull)
        XCTAssertEqual(PostgresErrors.kind(sqlState: "08006"), .unavailable)
        await one.close()
        await two.close()
    }

    func testBadSettingsAreRefused() async throws {
        for (settings, fragment) in [
            (PostgresSettings(url: "mysql://x"), "postgresql://"),
            (PostgresSettings(url: "postgresql://u@127.0.0.1/x", poolSize: 0), "pool size"),
            (PostgresSettings(url: "postgresql://u@127.0.0.1/x", poolSize: 65), "pool size"),
            (PostgresSettings(url: "postgresql://u@127.0.0.1/x", statementTimeoutMilliseconds: -1), "statement timeout"),
        ] {
            let error = await assertStorageError(.misuse) { () async throws(StorageError) in
                try await StorageEngine.open(pluginName: "p", postgres: settings)
            }
            XCTAssertTrue(error?.message.contains(fragment) ?? false, "\(String(describing: error))")
        }
        let unreachable = await assertStorageError(.unavailable) { () async throws(StorageError) in
            try await StorageEngine.open(pluginName: "p", postgres: PostgresSettings(url: "postgresql://u:secret@127.0.0.1:1/x", connectTimeoutSeconds: 2))
        }
        XCTAssertFalse(unreachable?.description.contains("secret") ?? true, "the password is not in messages")
        XCTAssertEqual(try PostgresProvisioner.identifier(pluginName: "notes"), "plugin_notes")
        XCTAssertTrue(try PostgresProvisioner.identifier(pluginName: "Doc-Compare").hasPrefix("plugin_doc_compare_"))
        XCTAssertNotEqual(try PostgresProvisioner.identifier(pluginName: "a-b"), try PostgresProvisioner.identifier(pluginName: "a_b"))
        // Long names that share their start get distinct schemas and roles, each within 63 bytes.
        let long = String(repeating: "a", count: 60)
        for (first, second) in [(long + "x", long + "y"), ("h-" + long + "x", "h-" + long + "y")] {
            let schemas = (try PostgresProvisioner.identifier(pluginName: first), try PostgresProvisioner.identifier(pluginName: second))
            XCTAssertNotEqual(schemas.0, schemas.1)
            let roles = (PostgresProvisioner.roleName(schema: schemas.0, installationID: "0123abcd"),
                         PostgresProvisioner.roleName(schema: schemas.1, installationID: "0123abcd"))
            XCTAssertNotEqual(roles.0, roles.1)
            XCTAssertLessThanOrEqual(max(schemas.0.utf8.count, schemas.1.utf8.count, roles.0.utf8.count, roles.1.utf8.count), 63)
        }
        XCTAssertEqual(PostgresProvisioner.roleName(schema: "plugin_notes", installationID: "0123abcd"), "plugin_notes_0123abcd")
    }
}

/// Polls `condition` for up to 10 s (the change feed arrives asynchronously).
func waitUntil(_ condition: () -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
    for _ in 0..<1000 {
        if condition() { return }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
    XCTFail("condition not met within 10 s", file: file, line: line)
}
