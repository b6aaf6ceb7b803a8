import Foundation
import PlexusTesting
import XCTest

/// Solving through the real runtime: submit, poll, read the result, check it independently.
final class SolveJobTests: TimetableTestCase {
    /// A small feasible .ctt: 202 + Location, poll until finished, zero hard violations by the test's own
    /// checker, a cost breakdown per constraint, and one ITC2007 line per lecture.
    func testSmallInstanceSolvesFeasibly() throws {
        let plexus = try plexus()
        let id = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 2)
        let status = try TimetableHarness.waitFinished(plexus, id)
        XCTAssertEqual(status["status"] as? String, "succeeded", "\(status)")
        let limits = status["limits"] as? [String: Any]
        XCTAssertEqual(limits?["time_limit_seconds"] as? Double, 2)
        XCTAssertEqual(limits?["seed"] as? Int, 7)

        let result = try TimetableHarness.result(plexus, id)
        let placements = try TimetableHarness.placements(result)
        let model = try CheckModel(ctt: Instances.small)
        XCTAssertEqual(model.hardViolations(placements), [])
        XCTAssertEqual(placements.count, 11)
        XCTAssertEqual(result["feasible"] as? Bool, true)
        let cost = result["cost"] as? [String: Any]
        XCTAssertEqual(cost?["hard"] as? Int, 0)
        let breakdown = cost?["by_constraint"] as? [String: Int] ?? [:]
        for name in ["lectures", "room_occupancy", "conflicts", "availability", "room_capacity", "min_working_days",
                     "curriculum_compactness", "room_stability"] {
            XCTAssertNotNil(breakdown[name], "breakdown lacks \(name): \(breakdown)")
        }
        let soft = breakdown.filter { !["lectures", "room_occupancy", "conflicts", "availability", "room_availability"].contains($0.key) }
        XCTAssertEqual(soft.values.reduce(0, +), cost?["soft"] as? Int)
        let violations = result["violations"] as? [[String: Any]] ?? []
        XCTAssertTrue(violations.allSatisfy { $0["hard"] as? Bool == false }, "\(violations)")

        // ITC2007 text: by query and by Accept; one `COURSE ROOM DAY PERIOD` line per lecture, same timetable.
        let text = try plexus.get("\(TimetableHarness.jobs)/\(id)/result?format=itc2007")
        XCTAssertEqual(text.status, 200)
        XCTAssertTrue(text.header("Content-Type")?.hasPrefix("text/plain") == true)
        let lines = text.text.split(separator: "\n")
        XCTAssertEqual(lines.count, 11, text.text)
        let fromText = lines.map { line -> CheckPlacement in
            let f = line.split(separator: " ").map(String.init)
            return CheckPlacement(course: f[0], room: f[1], day: Int(f[2]) ?? -1, period: Int(f[3]) ?? -1)
        }
        XCTAssertEqual(fromText.sorted { "\($0)" < "\($1)" }, placements.sorted { "\($0)" < "\($1)" })
        let accepted = try plexus.get("\(TimetableHarness.jobs)/\(id)/result", headers: "Accept: text/plain\r\n")
        XCTAssertEqual(accepted.text, text.text)
    }

    /// A raw `.ctt` body (`text/plain`) with options in the query string.
    func testRawTextBodyWithQueryOptions() throws {
        let plexus = try plexus()
        let id = try TimetableHarness.accepted(try TimetableHarness.postText(plexus, Instances.small, query: "time_limit_seconds=1.5&seed=3&threads=2"))
        let status = try TimetableHarness.waitFinished(plexus, id)
        XCTAssertEqual(status["status"] as? String, "succeeded")
        let limits = status["limits"] as? [String: Any]
        XCTAssertEqual(limits?["threads"] as? Int, 2)
        XCTAssertEqual(limits?["seed"] as? Int, 3)
        XCTAssertEqual(limits?["time_limit_seconds"] as? Double, 1.5)
        let placements = try TimetableHarness.placements(try TimetableHarness.result(plexus, id))
        XCTAssertEqual(try CheckModel(ctt: Instances.small).hardViolations(placements), [])
    }

    /// A job in the JSON school model: feasible by the checker, teacher unavailability respected.
    func testSchoolModelJob() throws {
        let plexus = try plexus()
        let response = try TimetableHarness.postJSON(plexus, ["format": "school", "school": Instances.school, "time_limit_seconds": 2])
        let id = try TimetableHarness.accepted(response)
        XCTAssertEqual(try TimetableHarness.json(response)["format"] as? String, "school")
        let status = try TimetableHarness.waitFinished(plexus, id)
        XCTAssertEqual(status["status"] as? String, "succeeded", "\(status)")
        let result = try TimetableHarness.result(plexus, id)
        XCTAssertEqual(result["name"] as? String, "Little School")
        let placements = try TimetableHarness.placements(result)
        XCTAssertEqual(placements.count, 10)
        XCTAssertEqual(try CheckModel(school: Instances.school).hardViolations(placements), [])
        XCTAssertFalse(placements.contains { $0.course.hasPrefix("math") && $0.day == 0 && $0.period == 0 }, "smith is unavailable at day 0 period 0")
    }

    /// Progress (best hard and soft cost, elapsed seconds) is visible and advancing while a larger instance runs.
    func testProgressVisibleWhileRunning() throws {
        let plexus = try plexus()
        let id = try TimetableHarness.submit(plexus, ctt: Instances.larger(), timeLimit: 3)
        var runningSnapshots: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(15)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try TimetableHarness.status(plexus, id)
            guard let state = last["status"] as? String, ["queued", "running"].contains(state) else { break }
            if state == "running", let progress = last["progress"] as? [String: Any], progress["best_hard"] is Int {
                runningSnapshots.append(progress)
            }
            usleep(100_000)
        }
        XCTAssertEqual(last["status"] as? String, "succeeded", "\(last)")
        XCTAssertGreaterThanOrEqual(runningSnapshots.count, 2, "no progress seen while running; last \(last)")
        let elapsed = runningSnapshots.compactMap { $0["elapsed_seconds"] as? Double }
        XCTAssertGreaterThan(elapsed.last ?? 0, elapsed.first ?? 0, "elapsed does not advance: \(elapsed)")
        XCTAssertTrue(runningSnapshots.allSatisfy { $0["best_soft"] is Int && $0["best_hard"] is Int })
        let result = try TimetableHarness.result(plexus, id)
        XCTAssertEqual((result["cost"] as? [String: Any])?["hard"] as? Int, 0)
        let final = last["progress"] as? [String: Any]
        XCTAssertEqual(final?["best_soft"] as? Int, (result["cost"] as? [String: Any])?["soft"] as? Int)
    }

    /// While solves occupy worker threads, the loop keeps answering: other routes and the status route.
    func testLoopStaysResponsiveDuringSolve() throws {
        let plexus = try plexus()
        let a = try TimetableHarness.submit(plexus, ctt: Instances.larger(), timeLimit: 30)
        let b = try TimetableHarness.submit(plexus, ctt: Instances.larger(), timeLimit: 30, extra: ["threads": 2])
        XCTAssertEqual(try TimetableHarness.waitRunning(plexus, a)["status"] as? String, "running")
        XCTAssertEqual(try TimetableHarness.waitRunning(plexus, b)["status"] as? String, "running")
        for _ in 0..<5 {
            let list = try plexus.get(TimetableHarness.jobs)
            XCTAssertEqual(list.status, 200)
            let ids = (try TimetableHarness.json(list)["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            XCTAssertTrue(ids.contains(a) && ids.contains(b))
            XCTAssertEqual(try TimetableHarness.status(plexus, a)["status"] as? String, "running")
            TimetableHarness.assertProblem(try plexus.get("\(TimetableHarness.jobs)/\(b)/result"), status: 409, ["running"])
            XCTAssertEqual(try plexus.get("/admin/plugins").status, 200)
            usleep(50_000)
        }
        for id in [a, b] { XCTAssertEqual(try plexus.request("DELETE", "\(TimetableHarness.jobs)/\(id)").status, 200) }
    }
}
