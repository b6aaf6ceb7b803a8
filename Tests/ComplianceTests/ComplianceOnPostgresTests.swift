import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// The compliance plugin with `[cluster] postgres` (issue 21): the same scenarios as on SQLite
/// (a tenant's pack in the key-value store, document versions in the plugin's table), then a
/// second instance on the same database numbers, lists and scans with what the first stored.
final class ComplianceOnPostgresTests: ComplianceTestCase {
    private var databaseURL = ""

    override func extraConfig() throws -> String {
        databaseURL = try PostgresTestCluster.get().newDatabaseURL()
        return Self.cluster(databaseURL)
    }

    static func cluster(_ url: String) -> String { "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n" }

    func testPacksAndVersionsOnPostgresAreSharedWithAnotherInstance() throws {
        try tenantPackIsStoredAfterItsTestsPass()
        try secondVersionRechecksOnlyTheChangedClause()

        let b = try Self.start(extra: Self.cluster(databaseURL))
        defer { _ = b.stop() }
        let key = try b.createAPIKey(name: "reader-b", tenant: "acme")
        let scan = try b.request("POST", "/api/v1/compliance/scan", headers: "Authorization: Bearer \(key)\r\nContent-Type: application/json\r\n",
                                 body: Array(try JSONSerialization.data(withJSONObject: ["text": "pay to DE89370400440532013000", "packs": ["mine"]])))
        XCTAssertEqual((try json(scan)["packs"] as? [String]) ?? [], ["mine@3"], "the pack A stored: \(scan.text)")
        let history = try b.request("GET", "/api/v1/compliance/documents/msa", headers: "Authorization: Bearer \(key)\r\n")
        XCTAssertEqual((try json(history)["versions"] as? [[String: Any]])?.compactMap { $0["version"] as? Int }, [1, 2], history.text)
        let third = try b.request("POST", "/api/v1/compliance/documents/msa/versions",
                                  headers: "Authorization: Bearer \(key)\r\nContent-Type: text/plain\r\n", body: Array("1. Short now.\n".utf8))
        XCTAssertEqual(third.status, 201, third.text)
        XCTAssertEqual(try json(third)["version"] as? Int, 3, "B numbers after A's versions")
        let cluster = try PostgresTestCluster.get()
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_compliance.compliance_versions", url: databaseURL), ["3"])
    }

    /// Versions posted at once through two instances get distinct numbers: a number both picked is
    /// refused by the primary key for one of them, which takes the next.
    func testConcurrentVersionsThroughTwoInstancesGetDistinctNumbers() throws {
        let b = try Self.start(extra: Self.cluster(databaseURL))
        defer { _ = b.stop() }
        let keyB = try b.createAPIKey(name: "reader-b", tenant: "acme")
        let targets = [(runtime!, tenantKey), (b, keyB)]
        let lock = NSLock()
        var numbers: [Int] = [], failures: [String] = []
        DispatchQueue.concurrentPerform(iterations: 12) { index in
            let (instance, key) = targets[index % 2]
            let text = "1. Clause \(index) of the parties.\n"
            do {
                let response = try instance.request("POST", "/api/v1/compliance/documents/race/versions",
                                                    headers: "Authorization: Bearer \(key)\r\nContent-Type: text/plain\r\n", body: Array(text.utf8))
                let version = (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["version"] as? Int
                lock.lock(); defer { lock.unlock() }
                if response.status == 201, let version { numbers.append(version) } else { failures.append("\(response.status) \(response.text)") }
            } catch {
                lock.lock(); defer { lock.unlock() }
                failures.append("\(error)")
            }
        }
        XCTAssertEqual(failures, [])
        XCTAssertEqual(numbers.sorted(), Array(1...12))
    }
}
