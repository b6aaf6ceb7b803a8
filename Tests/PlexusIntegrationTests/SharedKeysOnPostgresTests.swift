import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// API keys on PostgreSQL (issue 21): with `[cluster] postgres` (and no Redis) the gateway's key
/// tables live on that database, so a key made or revoked through one instance counts on every
/// instance after its next refresh (about a second); each instance keeps an admin key of its own.
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
        // The rows are in the runtime's schema on PostgreSQL, not in either data directory.
        let schema = try XCTUnwrap(try cluster.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'plugin_plexus_runtime_%'", url: url).first)
        let names = try cluster.execute("SELECT name FROM \(schema).auth_api_keys ORDER BY name", url: url)
        XCTAssertEqual(names.filter { $0 == "ops" }.count, 1, "\(names)")
        XCTAssertEqual(names.filter { $0.hasPrefix("plexus-admin-") }.count, 2, "\(names)")
        for runtime in [a, b] {
            let file = runtime.workDirectory.appendingPathComponent("data/runtime/gateway.sqlite")
            XCTAssertFalse(FileManager.default.fileExists(atPath: file.path), "no SQLite key file: \(file.path)")
        }
    }
}
