import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// The runtime's stores on PostgreSQL (issue 21): with `[cluster] postgres` (and no Redis) the
/// gateway's key tables and audit log live on that database, so a key made or revoked through one
/// instance counts on every instance after its next refresh (about a second), and every instance
/// reads one audit log; each instance keeps an admin key of its own.
final class SharedKeysOnPostgresTests: XCTestCase {
    /// Polls (at most 10 s) until `GET /admin/api-keys` with `key` through `runtime` answers `status`.
    private func eventually(_ runtime: TestRuntime, _ key: String, _ status: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var last = 0
        for _ in 0..<200 {
            last = try runtime.request("GET", "/admin/api-keys", headers: "Authorization: Bearer \(key)\r\n").status
            if last == status { return }
            usleep(50_000)
        }
        XCTFail("GET /admin/api-keys answered \(last), not \(status)", file: file, line: line)
    }

    func testKeysMadeOrRevokedThroughOneInstanceCountOnAnother() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try Repository.startPlexus(swiftPlugins: [], cFixtures: [], extra: extra)
        defer { _ = a.stop() }
        let b = try Repository.startPlexus(swiftPlugins: [], cFixtures: [], extra: extra)
        defer { _ = b.stop() }
        // Each instance made its own admin key; neither start revoked the other's.
        XCTAssertNotEqual(a.adminKey, b.adminKey)
        for key in [a.adminKey, b.adminKey] {
            for instance in [a, b] { try eventually(instance, key, 200) }
        }
        // A key made through A works through B; revoked through B, A refuses it.
        let key = try a.createAPIKey(name: "ops", roles: ["admin"])
        try eventually(b, key, 200)
        let revoked = try b.request("DELETE", "/admin/api-keys/ops", headers: "Authorization: Bearer \(b.adminKey)\r\n")
        XCTAssertEqual(revoked.status, 204, revoked.text)
        try eventually(a, key, 401)
        // One audit log: A lists the creation made through A and the revocation made through B,
        // each once, numbered by the database (the query filters by action; pages by id).
        let audit = try a.request("GET", "/admin/audit?action=auth.apikey.*&limit=50", headers: "Authorization: Bearer \(a.adminKey)\r\n")
        XCTAssertEqual(audit.status, 200, audit.text + "\n" + a.log.suffix(3000))
        let records = (try JSONSerialization.jsonObject(with: Data(audit.body)) as? [String: Any])?["records"] as? [[String: Any]] ?? []
        let onOps = records.filter { $0["target"] as? String == "ops" || $0["detail"] as? String == "name ops" }
        XCTAssertEqual(onOps.compactMap { $0["action"] as? String }.sorted(), ["auth.apikey.create", "auth.apikey.revoke"], audit.text)
        XCTAssertEqual(Set(onOps.compactMap { $0["actor"] as? String }).count, 2, "each made by another instance's admin key: \(audit.text)")
        let ids = records.compactMap { $0["id"] as? Int }
        XCTAssertEqual(ids, ids.sorted(by: >), "newest first")
        XCTAssertEqual(Set(ids).count, ids.count, "ids are unique across the instances")

        // The rows are in the runtime's schema on PostgreSQL, not in either data directory.
        let schema = try XCTUnwrap(try cluster.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'plugin_plexus_runtime_%'", url: url).first)
        let names = try cluster.execute("SELECT name FROM \(schema).auth_api_keys ORDER BY name", url: url)
        XCTAssertEqual(names.filter { $0 == "ops" }.count, 1, "\(names)")
        XCTAssertEqual(names.filter { $0.hasPrefix("plexus-admin-") }.count, 2, "\(names)")
        for runtime in [a, b] {
            for name in ["gateway.sqlite", "audit.sqlite"] {
                let file = runtime.workDirectory.appendingPathComponent("data/runtime/\(name)")
                XCTAssertFalse(FileManager.default.fileExists(atPath: file.path), "no SQLite file: \(file.path)")
            }
        }
    }
}
