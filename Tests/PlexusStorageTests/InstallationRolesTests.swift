import CLibPQ
import Foundation
@testable import PlexusStorage
import PostgresTestSupport
import XCTest

/// Two installations on one PostgreSQL cluster (issue 21): each its own database, so each its own
/// installation id and roles. One provisioning never resets the other's role passwords (the
/// databases check passwords here), and one's plugin role has no rights in the other's schema.
final class InstallationRolesTests: XCTestCase {
    private func open(_ url: String, _ plugin: String) async throws -> StorageEngine {
        try await StorageEngine.open(
            pluginName: plugin, postgres: PostgresSettings(url: url, poolSize: 2, connectTimeoutSeconds: 3), configuration: testConfiguration())
    }

    /// Puts `value`, once more if the first try met a connection that was closed under it.
    private func put(_ engine: StorageEngine, _ key: String, _ value: [UInt8]) async throws {
        do {
            _ = try await engine.put(key, value: value)
        } catch let error as StorageError where error.kind == .unavailable {
            _ = try await engine.put(key, value: value)
        }
    }

    func testTwoInstallationsOnOneClusterNeverResetEachOthersRoles() async throws {
        let cluster = try PostgresTestCluster.get()
        let urlA = try cluster.newDatabaseURL(), urlB = try cluster.newDatabaseURL()
        let databaseA = PostgresTestCluster.databaseName(urlA), databaseB = PostgresTestCluster.databaseName(urlB)
        try cluster.requirePasswords(database: databaseA)
        try cluster.requirePasswords(database: databaseB)

        let a = try await open(urlA, "shared")
        try await put(a, "k", [1])
        let b = try await open(urlB, "shared")
        try await put(b, "k", [2])
        // Installation A's connections all closed after B provisioned: A logs in again with its
        // own password (under one shared role B's provisioning would have replaced it).
        try cluster.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(databaseA)' AND pid <> pg_backend_pid()")
        try await put(a, "k", [3])
        let readA = try await a.get("k")
        XCTAssertEqual(readA?.value, [3])
        let readB = try await b.get("k")
        XCTAssertEqual(readB?.value, [2], "each installation's data is its own")
        // A new instance of installation A (another process, same URL) computes the same role and password.
        let again = try await open(urlA, "shared")
        let readAgain = try await again.get("k")
        XCTAssertEqual(readAgain?.value, [3])

        let ownerA = try XCTUnwrap(try cluster.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'plugin_shared'", url: urlA).first)
        let ownerB = try XCTUnwrap(try cluster.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'plugin_shared'", url: urlB).first)
        XCTAssertNotEqual(ownerA, ownerB, "one role per installation")
        XCTAssertTrue(ownerA.hasPrefix("plugin_shared_") && ownerB.hasPrefix("plugin_shared_"), "\(ownerA) \(ownerB)")
        XCTAssertEqual(try cluster.execute("SELECT has_schema_privilege('\(ownerB)', 'plugin_shared', 'USAGE')", url: urlA), ["f"])
        XCTAssertEqual(try cluster.execute("SELECT has_schema_privilege('\(ownerA)', 'plugin_shared', 'USAGE')", url: urlB), ["f"])
        // The identity is the administrator's alone, and passwords are checked: a wrong one is refused.
        XCTAssertEqual(try cluster.execute("SELECT has_schema_privilege('\(ownerA)', 'plexus_installation', 'USAGE')", url: urlA), ["f"])
        XCTAssertThrowsError(try cluster.execute("SELECT 1", url: urlA.replacingOccurrences(of: "postgres@", with: "\(ownerA):wrong@")))
        await a.close()
        await again.close()
        await b.close()
    }

    /// A schema made before installation ids (owned by `plugin_<name>`) is handed over, tables,
    /// sequences, data and change trigger, to the installation's role.
    func testSchemaOfAnOlderRoleIsHandedOver() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        try cluster.execute("""
            DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'plugin_legacy') THEN CREATE ROLE plugin_legacy LOGIN; END IF; END $$;
            """)
        try cluster.execute("""
            CREATE SCHEMA plugin_legacy AUTHORIZATION plugin_legacy;
            SET ROLE plugin_legacy;
            CREATE TABLE plugin_legacy.notes (id BIGSERIAL PRIMARY KEY, body TEXT NOT NULL);
            INSERT INTO plugin_legacy.notes (body) VALUES ('kept');
            CREATE SEQUENCE plugin_legacy.loose;
            """, database: PostgresTestCluster.databaseName(url))
        let engine = try await open(url, "legacy")
        let owners = try cluster.execute("""
            SELECT DISTINCT r.rolname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner
            WHERE n.nspname = 'plugin_legacy'
            UNION SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'plugin_legacy'
            """, url: url)
        XCTAssertEqual(owners.count, 1, "\(owners)")
        XCTAssertTrue(owners.first?.hasPrefix("plugin_legacy_") ?? false, "\(owners)")
        try await engine.execute("INSERT INTO notes (body) VALUES ('new')")
        let rows = try await engine.query("SELECT body FROM notes ORDER BY id")
        XCTAssertEqual(rows.rows.map { $0[0] }, [.text("kept"), .text("new")])
        await engine.close()
    }

    /// Role passwords reach the server as SCRAM verifiers made by the client
    /// (`PQencryptPasswordConn`), never as clear text: with the database's `password_encryption`
    /// at md5, a clear password would be stored as an md5 hash (and the SCRAM logins below would
    /// fail); a verifier is stored as it is. The role named before installation ids
    /// (`plugin_<name>`, whose password was derivable from the URL) loses LOGIN and its password.
    func testRolePasswordsAreSentAsVerifiersAndTheOldRoleLosesLogin() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let database = PostgresTestCluster.databaseName(url)
        try cluster.execute("ALTER DATABASE \(database) SET password_encryption = 'md5'")
        try cluster.requirePasswords(database: database)
        try cluster.execute("""
            DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'plugin_retired') THEN CREATE ROLE plugin_retired; END IF; END $$;
            ALTER ROLE plugin_retired LOGIN PASSWORD 'derivable';
            """)
        try cluster.execute("CREATE SCHEMA plugin_retired AUTHORIZATION plugin_retired", database: database)
        XCTAssertEqual(try cluster.execute("SELECT 1", url: url.replacingOccurrences(of: "postgres@", with: "plugin_retired:derivable@")), ["1"],
                       "the old role logs in before the handover")

        let engine = try await open(url, "retired")
        try await put(engine, "k", [7])
        let role = try XCTUnwrap(try cluster.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'plugin_retired'", url: url).first)
        XCTAssertTrue(role.hasPrefix("plugin_retired_"), role)
        let stored = try XCTUnwrap(try cluster.execute("SELECT rolpassword FROM pg_authid WHERE rolname = '\(role)'").first)
        XCTAssertTrue(stored.hasPrefix("SCRAM-SHA-256$"), "stored as sent, a verifier: \(stored.prefix(16))")
        // The engine's connections log in with SCRAM (all closed, so every one logs in again).
        try cluster.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND usename = '\(role)'")
        try await put(engine, "k", [8])
        let read = try await engine.get("k")
        XCTAssertEqual(read?.value, [8])

        // Without login and password, or dropped already (no session used it any more).
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM pg_authid WHERE rolname = 'plugin_retired' AND (rolcanlogin OR rolpassword IS NOT NULL)"), ["0"])
        XCTAssertThrowsError(try cluster.execute("SELECT 1", url: url.replacingOccurrences(of: "postgres@", with: "plugin_retired:derivable@")),
                             "the old role no longer logs in")
        await engine.close()
    }

    /// The role named before installation ids is dropped once no session on the cluster uses it:
    /// at the handover a session of it is still open, so it only loses LOGIN; at the next start
    /// (that session closed) it is gone. A retired role that still owns something in another
    /// database of the cluster cannot be dropped: it stays, without login, and the start succeeds.
    func testARetiredRoleIsDroppedOnceNoSessionUsesIt() async throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let database = PostgresTestCluster.databaseName(url)
        try cluster.execute("""
            DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'plugin_gone') THEN CREATE ROLE plugin_gone LOGIN; END IF;
                        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'plugin_held') THEN CREATE ROLE plugin_held LOGIN; END IF; END $$;
            """)
        try cluster.execute("CREATE SCHEMA plugin_gone AUTHORIZATION plugin_gone; CREATE SCHEMA plugin_held AUTHORIZATION plugin_held", database: database)
        let elsewhere = PostgresTestCluster.databaseName(try cluster.newDatabaseURL())
        try cluster.execute("CREATE TABLE public.kept (id int); ALTER TABLE public.kept OWNER TO plugin_held", database: elsewhere)
        let session = PQconnectdb(url.replacingOccurrences(of: "postgres@", with: "plugin_gone@"))
        XCTAssertEqual(PQstatus(session), CONNECTION_OK)

        var engine = try await open(url, "gone")
        XCTAssertEqual(try cluster.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'plugin_gone'"), ["f"], "kept while its session lasts")
        await engine.close()
        PQfinish(session)
        try await waitUntil { (try? cluster.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = 'plugin_gone'")) == ["0"] }

        engine = try await open(url, "gone")
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM pg_roles WHERE rolname = 'plugin_gone'"), ["0"], "dropped at the next start")
        try await put(engine, "k", [1])
        let read = try await engine.get("k")
        XCTAssertEqual(read?.value, [1])
        await engine.close()

        let held = try await open(url, "held")
        XCTAssertEqual(try cluster.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'plugin_held'"), ["f"],
                       "it owns a table in another database: kept, without login")
        await held.close()
    }
}
