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

    /// `plexus storage migrate`: an installation's versions move from its SQLite file to PostgreSQL
    /// and are served from there, and a second run finds everything already copied.
    func testStorageMigrateMovesAnInstallationToPostgres() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-migrate-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        let tenant = Versions.freshTenant(), document = "moved"
        // On SQLite: two versions.
        var plexus = try DocCompareHarness.start(workDirectory: work)
        try Versions.store(plexus, tenant, document, text: Samples.old)
        try Versions.store(plexus, tenant, document, text: Samples.new)
        let tenantKey = try plexus.createAPIKey(name: "moved-key", tenant: tenant)
        XCTAssertEqual(plexus.stop(), 0, plexus.log)
        // Once on PostgreSQL, so the plugin's migrations create its tables there; then stop and copy.
        let extra = "[cluster]\npostgres = \"\(url)\"\n"
        plexus = try DocCompareHarness.start(workDirectory: work, extra: extra)
        XCTAssertEqual(plexus.stop(), 0, plexus.log)
        let first = try migrate(data: work.appendingPathComponent("data").path, url: url)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("document_versions") && first.output.contains("copied"), first.output)
        XCTAssertTrue(first.output.contains("(API keys)") && first.output.contains("merged"), first.output)
        // The SQLite audit log's records were copied: numbered by PostgreSQL after the records the
        // instance wrote there, each keeping its SQLite id (verified by count and checksum).
        let auditLine = try XCTUnwrap(first.output.split(separator: "\n").first { $0.hasPrefix("(audit log)") }, first.output)
        let auditFields = auditLine.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let auditRecords = try XCTUnwrap(Int(auditFields.count > 2 ? auditFields[2] : ""), "\(auditFields)")
        XCTAssertGreaterThan(auditRecords, 0, first.output)
        XCTAssertEqual(auditFields.last, "copied \(auditRecords)", first.output)
        let runtimeSchema = try XCTUnwrap(try cluster.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'plugin_plexus_runtime%'", url: url).first)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM \(runtimeSchema).audit_log WHERE sqlite_id IS NOT NULL", url: url), ["\(auditRecords)"])
        XCTAssertEqual(try cluster.execute("""
            SELECT count(*) FROM \(runtimeSchema).audit_log c WHERE c.sqlite_id IS NOT NULL
              AND c.id < (SELECT max(id) FROM \(runtimeSchema).audit_log WHERE sqlite_id IS NULL)
            """, url: url), ["0"], "the copies are numbered after PostgreSQL's own records")
        XCTAssertEqual(try cluster.execute("""
            SELECT count(*) FROM (SELECT sqlite_id, lag(sqlite_id) OVER (ORDER BY id) AS before FROM \(runtimeSchema).audit_log
            WHERE sqlite_id IS NOT NULL) o WHERE o.before IS NOT NULL AND o.before >= o.sqlite_id
            """, url: url), ["0"], "in the SQLite ids' order")
        let again = try migrate(data: work.appendingPathComponent("data").path, url: url)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertFalse(again.output.split(separator: "\n").contains { $0.hasSuffix("copied") }, "a second run copies nothing: \(again.output)")
        XCTAssertTrue(again.output.contains("already there"), again.output)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM \(runtimeSchema).audit_log WHERE sqlite_id IS NOT NULL", url: url), ["\(auditRecords)"],
                       "a second run copies no record twice")
        // Served from PostgreSQL, with the next version numbered after the copied ones.
        plexus = try DocCompareHarness.start(workDirectory: work, extra: extra)
        defer { _ = plexus.stop() }
        XCTAssertEqual(try plexus.get(Versions.path(tenant, document, "versions/2")).text, Samples.new)
        // The tenant's API key made on SQLite was merged into the keys on PostgreSQL.
        let withMovedKey = try plexus.request("GET", Versions.path(tenant, document, "versions/2"), headers: "Authorization: Bearer \(tenantKey)\r\n")
        XCTAssertEqual(withMovedKey.status, 200, withMovedKey.text)
        let third = try Versions.store(plexus, tenant, document, text: Samples.old)
        XCTAssertEqual(third["version"] as? Int, 3)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_doccompare.document_versions", url: url), ["3"])
    }

    private func migrate(data: String, url: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = DocCompareHarness.binDirectory.appendingPathComponent("plexus")
        process.arguments = ["storage", "migrate", "--data", data, "--to", url]
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
}
