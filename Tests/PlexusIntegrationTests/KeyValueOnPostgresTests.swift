import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// A plugin's key-value calls with `[cluster] postgres` (issue 21): the runtime answers them on the
/// loop's own non-blocking PostgreSQL connection (`LoopStorage`), with the engine's versions and
/// conflicts, and a server restarted under it gives a clear 503 and then recovers.
final class KeyValueOnPostgresTests: XCTestCase {
    private func version(_ response: TestResponse) -> Int? {
        (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Int])?["version"]
    }

    /// Polls (at most 10 s) until the database has `count` connections of the runtime's loop,
    /// reading a key each time (a call is what starts the loop connecting, once its backoff is over).
    private func loopConnections(_ plexus: TestRuntime, _ cluster: PostgresTestCluster, _ database: String, count: Int) throws -> Bool {
        for _ in 0..<200 {
            _ = try plexus.get("/api/v1/kv/color")
            let found = try cluster.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '\(database)' AND application_name LIKE '% loop'")
            if found == ["\(count)"] { return true }
            usleep(50_000)
        }
        return false
    }

    func testKeyValueCallsUseTheLoopConnectionAndARestartIsA503ThenRecovers() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let database = PostgresTestCluster.databaseName(url)
        let plexus = try Repository.startPlexus(
            swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: [],
            extra: "[cluster]\npostgres = \"\(url)\"\npostgres_connect_timeout_s = 2\n")
        defer { _ = plexus.stop() }

        let created = try plexus.request("PUT", "/api/v1/kv/color?expected_version=0", body: Array("red".utf8))
        XCTAssertEqual(version(created), 1, created.text)
        // The first call starts the loop's connection (made off the loop); the ones after it use it.
        XCTAssertTrue(try loopConnections(plexus, cluster, database, count: 1), "the runtime's loop connected to PostgreSQL")
        let conflict = try plexus.request("PUT", "/api/v1/kv/color?expected_version=0", body: Array("blue".utf8))
        XCTAssertEqual(conflict.status, 409, conflict.text)
        XCTAssertEqual(conflict.header("Content-Type"), "application/problem+json")
        XCTAssertEqual(version(try plexus.request("PUT", "/api/v1/kv/color?expected_version=1", body: Array("blue".utf8))), 2)
        let read = try plexus.get("/api/v1/kv/color")
        XCTAssertEqual(read.text, "blue")
        XCTAssertEqual(read.header("ETag"), "\"2\"")
        XCTAssertEqual(try plexus.request("DELETE", "/api/v1/kv/color?expected_version=1").status, 409)
        XCTAssertEqual(try plexus.get("/api/v1/kv/missing").status, 404)

        try cluster.stop()
        var restarted = false
        defer { if !restarted { try? cluster.start() } }
        let down = try plexus.request("PUT", "/api/v1/kv/color", body: Array("green".utf8))
        XCTAssertEqual(down.status, 503, down.text)
        XCTAssertEqual(down.header("Content-Type"), "application/problem+json")
        XCTAssertFalse(down.text.contains("127.0.0.1"), "a 5xx names no server address: \(down.text)")
        XCTAssertEqual(try plexus.get("/api/v1/kv/color").status, 503)
        try cluster.start()
        restarted = true

        let again = try plexus.request("PUT", "/api/v1/kv/color?expected_version=2", body: Array("green".utf8))
        XCTAssertEqual(version(again), 3, "the write while down did not happen; the next one did: \(again.text)")
        XCTAssertTrue(try loopConnections(plexus, cluster, database, count: 1), "the loop connected again after the restart")
        // Reads and deletes after the restart, with the loop's connection back.
        for _ in 0..<3 { XCTAssertEqual(try plexus.get("/api/v1/kv/color").text, "green") }
        XCTAssertEqual(try plexus.request("DELETE", "/api/v1/kv/color?expected_version=3").status, 204)
        XCTAssertEqual(try plexus.get("/api/v1/kv/color").status, 404)
    }
}
