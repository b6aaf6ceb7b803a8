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

    /// A job submitted on one instance is seen, and cancelled, through another (issue 21): the
    /// cancel request goes into the job's row; the instance running it hears of it from the change
    /// feed (NOTIFY from the database) and stops the solver, which keeps its best timetable.
    func testJobSubmittedOnOneInstanceIsCancelledThroughAnother() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try TimetableHarness.start(extra: extra)
        defer { _ = a.stop() }
        let id = try TimetableHarness.submit(a, ctt: Instances.larger(), timeLimit: 60)
        _ = try TimetableHarness.waitRunning(a, id)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, (try TimetableHarness.status(a, id)["progress"] as? [String: Any])?["best_hard"] as? Int == nil {
            usleep(50_000)
        }
        // B starts while A runs the job: it leaves the job to A (not "interrupted by a restart").
        let b = try TimetableHarness.start(extra: extra)
        defer { _ = b.stop() }
        let seen = try TimetableHarness.status(b, id)
        XCTAssertEqual(seen["status"] as? String, "running", "\(seen)")
        let response = try b.request("DELETE", "\(TimetableHarness.jobs)/\(id)")
        XCTAssertTrue([200, 202].contains(response.status), response.text)
        let onA = try TimetableHarness.waitFinished(a, id, seconds: 10)
        XCTAssertEqual(onA["status"] as? String, "cancelled", "\(onA)")
        XCTAssertEqual(onA["cancel_requested"] as? Bool, true)
        let onB = try TimetableHarness.waitFinished(b, id, seconds: 10)
        XCTAssertEqual(onB["status"] as? String, "cancelled", "\(onB)")
        let result = try TimetableHarness.result(b, id)
        XCTAssertEqual(result["status"] as? String, "cancelled")
        XCTAssertFalse(try TimetableHarness.placements(result).isEmpty, "the best timetable A kept, served by B")
        // A finished job cannot be cancelled through either instance; unknown ids stay 404 on B.
        TimetableHarness.assertProblem(try b.request("DELETE", "\(TimetableHarness.jobs)/no-such-job"), status: 404, ["no-such-job"])
        XCTAssertEqual(try cluster.execute("SELECT status FROM plugin_timetable.timetable_jobs WHERE id = '\(id)'", url: url), ["cancelled"])
    }

    /// An instance killed while it runs a job: once its heartbeats are 15 s old, the other
    /// instance takes the job over and runs it again from its stored input, to the end (its
    /// second attempt). A job already started 3 times whose instance stopped is not run again: it
    /// ends `failed`, naming its attempts.
    func testJobOfAKilledInstanceIsRunAgainByAnotherUpToThreeAttempts() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try TimetableHarness.start(extra: extra)
        let id = try TimetableHarness.submit(a, ctt: Instances.larger(), timeLimit: 4)
        _ = try TimetableHarness.waitRunning(a, id)
        let b = try TimetableHarness.start(extra: extra)
        defer { _ = b.stop() }
        XCTAssertEqual(try TimetableHarness.status(b, id)["status"] as? String, "running")
        let ownerA = try cluster.execute("SELECT owner FROM plugin_timetable.timetable_jobs WHERE id = '\(id)'", url: url)
        _ = a.stop(signal: SIGKILL)
        let ended = try TimetableHarness.waitFinished(b, id, seconds: 50)
        XCTAssertEqual(ended["status"] as? String, "succeeded", "\(ended)")
        XCTAssertFalse(try TimetableHarness.placements(try TimetableHarness.result(b, id)).isEmpty, "B's run stored its timetable")
        XCTAssertEqual(try cluster.execute("SELECT attempts FROM plugin_timetable.timetable_jobs WHERE id = '\(id)'", url: url), ["2"])
        XCTAssertNotEqual(try cluster.execute("SELECT owner FROM plugin_timetable.timetable_jobs WHERE id = '\(id)'", url: url), ownerA)
        XCTAssertTrue(b.log.contains("taken over and run again"), "B logged the take-over")

        // The same job as if its instance had stopped on its third attempt: ended, not run again.
        try cluster.execute("""
            CREATE TEMP TABLE copy AS SELECT * FROM plugin_timetable.timetable_jobs WHERE id = '\(id)';
            UPDATE copy SET id = 'thrice', seq = seq + 1000, status = 'running', owner = 'stopped-instance', heartbeat = 0, attempts = 3, finished = NULL;
            INSERT INTO plugin_timetable.timetable_jobs SELECT * FROM copy;
            """, url: url)
        var row: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            row = try cluster.execute("SELECT status || ': ' || coalesce(error, '') FROM plugin_timetable.timetable_jobs WHERE id = 'thrice'", url: url)
            if row != ["running: "] { break }
            usleep(200_000)
        }
        XCTAssertEqual(row, ["failed: interrupted 3 times (the instance running it stopped each time); not run again"])
    }

    /// A job of a stopped instance whose stored input no longer parses here (as when the limits
    /// changed since it was accepted): the instance that takes it over ends it `failed`, naming
    /// what does not parse, instead of leaving it queued under its own lease, renewed for ever; and
    /// any instance shows it `failed` with that reason (its status was the parser's 422 before).
    func testATakenOverJobWhoseInputNoLongerParsesEndsFailedNamingWhy() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let a = try TimetableHarness.start(extra: "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n")
        defer { _ = a.stop() }
        let id = try TimetableHarness.submit(a, ctt: Instances.small, timeLimit: 1)
        XCTAssertEqual(try TimetableHarness.waitFinished(a, id)["status"] as? String, "succeeded")
        try cluster.execute("""
            CREATE TEMP TABLE copy AS SELECT * FROM plugin_timetable.timetable_jobs WHERE id = '\(id)';
            UPDATE copy SET id = 'unreadable', seq = seq + 1000, status = 'running', owner = 'stopped-instance', heartbeat = 0, attempts = 1,
                finished = NULL, input = 'Name: broken';
            INSERT INTO plugin_timetable.timetable_jobs SELECT * FROM copy;
            """, url: url)
        var row: [String] = []
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            row = try cluster.execute("SELECT status || '|' || coalesce(error, '') FROM plugin_timetable.timetable_jobs WHERE id = 'unreadable'", url: url)
            if let first = row.first, first.hasPrefix("failed") { break }
            usleep(200_000)
        }
        let parts = (row.first ?? "").split(separator: "|", maxSplits: 1).map(String.init)
        XCTAssertEqual(parts.first, "failed", "ended, not left queued: \(row)")
        let reason = parts.count > 1 ? parts[1] : ""
        XCTAssertTrue(reason.hasPrefix("its stored itc2007 input no longer parses here"), reason)
        XCTAssertGreaterThan(reason.count, "its stored itc2007 input no longer parses here (the instance limits may have changed since it was accepted): ; not run again".count,
                             "the parser's reason is named: \(reason)")
        XCTAssertTrue(a.log.contains("its input no longer parses"), "A logged the end")

        // Another instance (and A, which no longer keeps it) shows the job failed with its reason,
        // without an instance summary, instead of answering with the parser's 422.
        let b = try TimetableHarness.start(extra: "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n")
        defer { _ = b.stop() }
        for runtime in [b, a] {
            let shown = try TimetableHarness.status(runtime, "unreadable")
            XCTAssertEqual(shown["status"] as? String, "failed", "\(shown)")
            XCTAssertEqual(shown["error"] as? String, reason)
            XCTAssertNil(shown["instance"], "no summary of an instance that does not parse: \(shown)")
            TimetableHarness.assertProblem(try runtime.get("\(TimetableHarness.jobs)/unreadable/result"), status: 409, ["failed", "no longer parses"])
            TimetableHarness.assertProblem(try runtime.request("POST", "\(TimetableHarness.jobs)/unreadable/replan", headers: "Content-Type: application/json\r\n", body: Array("{}".utf8)), status: 409,
                                           ["does not parse here"])
        }
    }
}
