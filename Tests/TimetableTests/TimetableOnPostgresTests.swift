import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// The timetable plugin with `[cluster] postgres` (issue 21): its jobs and results live in its
/// PostgreSQL schema, so a job finished on one instance is listed, with its result, by another
/// instance started on the same database with a data directory of its own.
final class TimetableOnPostgresTests: XCTestCase {
    func testFinishedJobOfOneInstanceIsServedByAnother() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try TimetableHarness.start(extra: extra)
        defer { _ = a.stop() }
        let id = try TimetableHarness.submit(a, ctt: Instances.small, timeLimit: 1)
        let finished = try TimetableHarness.waitFinished(a, id)
        XCTAssertEqual(finished["status"] as? String, "succeeded", "\(finished)")
        let resultA = try a.get("\(TimetableHarness.jobs)/\(id)/result?format=itc2007")
        XCTAssertEqual(resultA.status, 200, resultA.text)

        // A second instance: its own data directory, the same database.
        let b = try TimetableHarness.start(extra: extra)
        defer { _ = b.stop() }
        let status = try TimetableHarness.status(b, id)
        XCTAssertEqual(status["status"] as? String, "succeeded", "\(status)")
        XCTAssertEqual(status["created"] as? String, finished["created"] as? String, "timestamps keep their precision")
        let resultB = try b.get("\(TimetableHarness.jobs)/\(id)/result?format=itc2007")
        XCTAssertEqual(resultB.status, 200, resultB.text)
        XCTAssertEqual(resultB.text, resultA.text)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_timetable.timetable_jobs", url: url), ["1"])
    }
}
