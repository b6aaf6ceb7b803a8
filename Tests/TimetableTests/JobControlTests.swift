import Foundation
import PlexusTesting
import XCTest

/// Cancelling, queueing, listing, eviction and shutdown.
final class JobControlTests: TimetableTestCase {
    /// DELETE ends a running job `cancelled` promptly and keeps its best timetable as the result.
    func testCancelKeepsBestSoFar() throws {
        let plexus = try plexus()
        let ctt = Instances.larger()
        let id = try TimetableHarness.submit(plexus, ctt: ctt, timeLimit: 60)
        _ = try TimetableHarness.waitRunning(plexus, id)
        // Let the solver get past construction, so there is a timetable worth keeping.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, (try TimetableHarness.status(plexus, id)["progress"] as? [String: Any])?["best_hard"] as? Int == nil {
            usleep(50_000)
        }
        let started = Date()
        let response = try plexus.request("DELETE", "\(TimetableHarness.jobs)/\(id)")
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(try TimetableHarness.json(response)["status"] as? String, "cancelled")
        let status = try TimetableHarness.waitFinished(plexus, id, seconds: 5)
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(status["status"] as? String, "cancelled")
        XCTAssertEqual(status["cancel_requested"] as? Bool, true)
        let result = try TimetableHarness.result(plexus, id)
        XCTAssertEqual(result["status"] as? String, "cancelled")
        XCTAssertEqual(result["stop_reason"] as? String, "cancelled")
        let placements = try TimetableHarness.placements(result)
        XCTAssertFalse(placements.isEmpty)
        if (result["cost"] as? [String: Any])?["hard"] as? Int == 0 {
            XCTAssertEqual(try CheckModel(ctt: ctt).hardViolations(placements), [])
        }
        // Cancelling again is harmless; a finished job cannot be cancelled.
        XCTAssertEqual(try plexus.request("POST", "\(TimetableHarness.jobs)/\(id)/cancel").status, 200)
        let done = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        _ = try TimetableHarness.waitFinished(plexus, done)
        TimetableHarness.assertProblem(try plexus.request("DELETE", "\(TimetableHarness.jobs)/\(done)"), status: 409, ["already finished"])
    }

    /// Unknown job ids answer 404 problem+json on every job route.
    func testUnknownJobIs404() throws {
        let plexus = try plexus()
        let base = "\(TimetableHarness.jobs)/no-such-job"
        TimetableHarness.assertProblem(try plexus.get(base), status: 404, ["no-such-job"])
        TimetableHarness.assertProblem(try plexus.get(base + "/result"), status: 404, ["no-such-job"])
        TimetableHarness.assertProblem(try plexus.request("DELETE", base), status: 404, ["no-such-job"])
        TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, base + "/replan", ["disruptions": []]), status: 404, ["no-such-job"])
    }

    /// With one solver slot: the second job waits `queued`, its result is 409, cancelling it is immediate;
    /// beyond `max_jobs` the oldest finished job is dropped; the list shows id, status, created and name.
    func testQueueConflictEvictionAndList() throws {
        let plexus = try TimetableHarness.start(config: "max_running_jobs = 1\nmax_jobs = 3\n")
        defer { _ = plexus.stop() }
        let first = try TimetableHarness.submit(plexus, ctt: Instances.larger(), timeLimit: 30)
        let second = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        let queued = try TimetableHarness.status(plexus, second)
        XCTAssertEqual(queued["status"] as? String, "queued")
        XCTAssertEqual(queued["queue_position"] as? Int, 0)
        let queuedProgress = queued["progress"] as? [String: Any] ?? [:]
        XCTAssertTrue(queuedProgress["best_hard"] is NSNull && queuedProgress["best_soft"] is NSNull, "\(queuedProgress)")
        TimetableHarness.assertProblem(try plexus.get("\(TimetableHarness.jobs)/\(second)/result"), status: 409, ["queued"])
        TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, "\(TimetableHarness.jobs)/\(second)/replan",
                                                                     ["disruptions": [["room": "r1", "unavailable": [["day": 0, "period": 0]]]]]),
                                       status: 409, ["queued"])
        let cancelQueued = try plexus.request("DELETE", "\(TimetableHarness.jobs)/\(second)")
        XCTAssertEqual(cancelQueued.status, 200)
        XCTAssertEqual(try TimetableHarness.json(cancelQueued)["status"] as? String, "cancelled")
        TimetableHarness.assertProblem(try plexus.get("\(TimetableHarness.jobs)/\(second)/result"), status: 409, ["cancelled before it ran"])

        let third = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        // Three jobs kept (max_jobs = 3); once the first is cancelled, a fourth evicts it (the oldest finished).
        XCTAssertEqual(try plexus.request("DELETE", "\(TimetableHarness.jobs)/\(first)").status, 200)
        XCTAssertEqual(try TimetableHarness.waitFinished(plexus, third)["status"] as? String, "succeeded")
        let fourth = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        TimetableHarness.assertProblem(try plexus.get("\(TimetableHarness.jobs)/\(first)"), status: 404, [first])
        _ = try TimetableHarness.waitFinished(plexus, fourth)

        let list = try TimetableHarness.json(try plexus.get(TimetableHarness.jobs))
        let jobs = list["jobs"] as? [[String: Any]] ?? []
        XCTAssertEqual(jobs.compactMap { $0["id"] as? String }, [second, third, fourth])
        XCTAssertEqual(jobs.compactMap { $0["status"] as? String }, ["cancelled", "succeeded", "succeeded"])
        XCTAssertTrue(jobs.allSatisfy { $0["created"] is String && $0["name"] as? String == "Small" })
    }

    /// Stopping the runtime while a solve runs cancels it and exits cleanly, well within the stop timeout.
    func testStopCancelsRunningJobs() throws {
        let plexus = try TimetableHarness.start()
        let id = try TimetableHarness.submit(plexus, ctt: Instances.larger(), timeLimit: 60)
        _ = try TimetableHarness.waitRunning(plexus, id)
        usleep(300_000)
        let started = Date()
        XCTAssertEqual(plexus.stop(), 0, plexus.log)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        XCTAssertTrue(plexus.log.contains("status=cancelled"), plexus.log)
    }
}
