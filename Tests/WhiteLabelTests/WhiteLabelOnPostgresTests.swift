import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// The white-label plugin with `[cluster] postgres` (issue 21): the same isolation scenario as on
/// SQLite with every key-value write in the plugin's PostgreSQL schema; then a second instance on
/// the same database, with a data directory of its own, loads the tenants, domains, flags,
/// settings and branding the first stored and serves them.
final class WhiteLabelOnPostgresTests: XCTestCase {
    func testIsolationScenarioOnPostgresAndAnotherInstanceServesItsData() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = WhiteLabelLiveTests.grant + "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try WhiteLabelLiveTests.runtime(extra: extra)
        try WhiteLabelLiveTests.isolationMatrixOnBothDomainsAndSuspension(a)
        XCTAssertEqual(a.stop(), 0)

        let b = try WhiteLabelLiveTests.runtime(extra: extra)
        defer { _ = b.stop() }
        // API keys are the runtime's own (per instance): B makes one for the tenant A onboarded.
        let key = try b.createAPIKey(name: "globex-b", tenant: "globex", roles: ["admin"])
        func call(_ path: String, _ host: String, _ key: String?) throws -> TestResponse {
            try WhiteLabelLiveTests.call(b, "GET", path, host: host, key: key)
        }
        var response = try call("/api/v1/settings/theme", "globex.test", key)
        XCTAssertEqual(response.text, #"{"key":"theme","value":"b-only"}"#)
        response = try call("/api/v1/flags/definitions", "globex.test", key)
        XCTAssertTrue(response.text.contains(#""enabled":true,"name":"b-secret""#), response.text)
        response = try call("/api/v1/tenants/globex", "globex.test", key)
        XCTAssertTrue(response.text.contains(#""display_name":"Globex""#), response.text)
        // The domains A's tenants claimed route on B too, with their own branding.
        XCTAssertEqual(try call("/branding/logo", "globex.test", nil).body, WhiteLabelLiveTests.svg("green"))
        XCTAssertEqual(try call("/branding/logo", "acme.test", nil).body, WhiteLabelLiveTests.svg("red"))
        XCTAssertTrue(try call("/", "globex.test", nil).text.contains("Globex Portal"))
        let keys = try cluster.execute("SELECT count(*) FROM plugin_whitelabel._plexus_kv WHERE key ~ '^tenant/[^/]+$'", url: url)
        XCTAssertEqual(keys, ["2"], "the two tenants' records are rows of the plugin's schema")
        let file = b.workDirectory.appendingPathComponent("data/plugins/whitelabel/storage.sqlite")
        XCTAssertFalse(FileManager.default.fileExists(atPath: file.path), "no SQLite file: \(file.path)")
    }
}
