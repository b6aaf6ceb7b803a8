import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// Two plexus instances with `[cluster] postgres` on one database (issue 21): the document
/// comparison plugin's versions live in its PostgreSQL schema, so a version stored through one
/// instance is listed and compared through the other.
final class TwoInstancesOnPostgresTests: XCTestCase {
    func testVersionStoredThroughOneIsComparedThroughTheOther() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try DocCompareHarness.start(extra: extra)
        defer { _ = a.stop() }
        let b = try DocCompareHarness.start(extra: extra)
        defer { _ = b.stop() }
        let tenant = Versions.freshTenant(), document = "contract.main"

        let first = try Versions.store(a, tenant, document, text: Samples.old)
        XCTAssertEqual(first["version"] as? Int, 1)
        let second = try Versions.store(b, tenant, document, text: Samples.new)
        XCTAssertEqual(second["version"] as? Int, 2, "instance B numbers after A's version")

        let (history, listed) = try Versions.getJSON(a, Versions.path(tenant, document))
        XCTAssertEqual(history.status, 200, history.text)
        XCTAssertEqual((listed["versions"] as? [[String: Any]])?.compactMap { $0["version"] as? Int }, [1, 2], "\(listed)")
        let (compared, result) = try Versions.getJSON(b, Versions.path(tenant, document, "compare?from=1&to=2"))
        XCTAssertEqual(compared.status, 200, compared.text)
        XCTAssertEqual((result["versions"] as? [String: Any])?["from"] as? Int, 1, "\(result)")
        let fetched = try a.get(Versions.path(tenant, document, "versions/2"))
        XCTAssertEqual(fetched.text, Samples.new, "A serves the text B stored")

        // The rows are in the plugin's schema on PostgreSQL, not in either instance's data directory.
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_doccompare.document_versions", url: url), ["2"])
        for runtime in [a, b] {
            let file = runtime.workDirectory.appendingPathComponent("data/plugins/doccompare/storage.sqlite")
            XCTAssertFalse(FileManager.default.fileExists(atPath: file.path), "no SQLite file: \(file.path)")
        }
    }

    func testPostgresRestartedMidRequestIsA503ThenRecovers() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let plexus = try DocCompareHarness.start(extra: "[cluster]\npostgres = \"\(url)\"\npostgres_connect_timeout_s = 2\n")
        defer { _ = plexus.stop() }
        let tenant = Versions.freshTenant(), document = "d"
        try Versions.store(plexus, tenant, document, text: Samples.old)
        try cluster.stop()
        var restarted = false
        defer { if !restarted { try? cluster.start() } }
        let down = try DocCompareHarness.postJSON(plexus, Versions.path(tenant, document), ["text": Samples.new])
        XCTAssertEqual(down.status, 503, down.text)
        XCTAssertTrue(down.text.contains("busy"), down.text)
        XCTAssertFalse(down.text.contains("127.0.0.1"), "a 5xx names no server address: \(down.text)")
        try cluster.start()
        restarted = true
        let again = try Versions.store(plexus, tenant, document, text: Samples.new)
        XCTAssertEqual(again["version"] as? Int, 2, "the failed request stored nothing; the next one did")
    }
}
