import Foundation
import PlexusTesting
import XCTest

/// Infeasible instances are explained; finished timetables can be re-planned after disruptions.
final class InfeasibleAndReplanTests: TimetableTestCase {
    /// Three courses of one curriculum in a two-period week: status infeasible, and the explanation names them.
    func testInfeasibleInstanceIsExplained() throws {
        let plexus = try plexus()
        let id = try TimetableHarness.submit(plexus, ctt: Instances.tight, timeLimit: 1)
        let status = try TimetableHarness.waitFinished(plexus, id)
        XCTAssertEqual(status["status"] as? String, "infeasible", "\(status)")
        let result = try TimetableHarness.result(plexus, id)
        XCTAssertEqual(result["feasible"] as? Bool, false)
        let explanation = result["explanation"] as? [String: Any]
        XCTAssertEqual((explanation?["courses"] as? [String])?.sorted(), ["A", "B", "C"], "\(result)")
        let summary = explanation?["summary"] as? String ?? ""
        for name in ["A", "B", "C", "q1"] { XCTAssertTrue(summary.contains(name), summary) }
        // Only one of A, B, C cannot be placed; D, which conflicts with nothing, is scheduled.
        let cost = result["cost"] as? [String: Any]
        XCTAssertEqual(cost?["hard"] as? Int, 1, "\(result)")
        let placements = try TimetableHarness.placements(result)
        XCTAssertTrue(placements.contains { $0.course == "D" }, "\(placements)")
        XCTAssertEqual(placements.count, 3)
        let hard = (result["violations"] as? [[String: Any]] ?? []).filter { $0["hard"] as? Bool == true }
        XCTAssertFalse(hard.isEmpty)
        XCTAssertTrue(hard.allSatisfy { $0["reason"] is String && $0["course"] is String }, "\(hard)")
    }

    /// A teacher becomes unavailable where one of her lectures sits: the new job moves only what it must,
    /// keeps every other lecture in place, and its timetable is feasible under the disruption.
    func testReplanKeepsUntouchedLectures() throws {
        let plexus = try plexus()
        let id = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 2)
        XCTAssertEqual(try TimetableHarness.waitFinished(plexus, id)["status"] as? String, "succeeded")
        let before = try TimetableHarness.placements(try TimetableHarness.result(plexus, id))
        guard let hit = before.first(where: { $0.course == "A" || $0.course == "C" }) else { return XCTFail("no lecture of teacher tA") }

        let response = try TimetableHarness.postJSON(plexus, "\(TimetableHarness.jobs)/\(id)/replan", [
            "disruptions": [["teacher": "tA", "unavailable": [["day": hit.day, "period": hit.period]]]],
            "time_limit_seconds": 2,
        ])
        let replanned = try TimetableHarness.accepted(response)
        XCTAssertNotEqual(replanned, id)
        XCTAssertEqual(try TimetableHarness.json(response)["replan_of"] as? String, id)
        XCTAssertEqual(try TimetableHarness.waitFinished(plexus, replanned)["status"] as? String, "succeeded")
        let result = try TimetableHarness.result(plexus, replanned)
        let after = try TimetableHarness.placements(result)

        var model = try CheckModel(ctt: Instances.small)
        model.teacherUnavailable("tA", [[hit.day, hit.period]])
        XCTAssertEqual(model.hardViolations(after), [])

        // `changes` is exactly the difference: old minus moved-away == new minus moved-in.
        let changes = result["changes"] as? [[String: Any]] ?? []
        XCTAssertFalse(changes.isEmpty)
        XCTAssertTrue(changes.contains { $0["course"] as? String == hit.course })
        func slot(_ course: String, _ value: Any?) -> CheckPlacement? {
            guard let s = value as? [String: Any] else { return nil }
            return CheckPlacement(course: course, room: s["room"] as? String ?? "", day: s["day"] as? Int ?? -1, period: s["period"] as? Int ?? -1)
        }
        var kept = before, arrived = after
        for change in changes {
            let course = change["course"] as? String ?? ""
            if let old = slot(course, change["old"]), let i = kept.firstIndex(of: old) { kept.remove(at: i) } else { XCTFail("old \(change) not in the old timetable") }
            if let new = slot(course, change["new"]), let i = arrived.firstIndex(of: new) { arrived.remove(at: i) } else { XCTFail("new \(change) not in the new timetable") }
        }
        XCTAssertEqual(kept.sorted { "\($0)" < "\($1)" }, arrived.sorted { "\($0)" < "\($1)" })
        XCTAssertEqual(result["unchanged_lectures"] as? Int, kept.count)
        XCTAssertGreaterThanOrEqual(kept.count, before.count - 3, "re-planning moved too much: \(changes)")
    }

    /// Replan bodies are checked: unknown names are 422 at their JSON path, malformed entries 400.
    func testReplanValidation() throws {
        let plexus = try plexus()
        let id = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        _ = try TimetableHarness.waitFinished(plexus, id)
        let path = "\(TimetableHarness.jobs)/\(id)/replan"
        let unknown = TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, path, [
            "disruptions": [["room": "r1", "unavailable": [["day": 0, "period": 0]]], ["teacher": "ghost", "unavailable": [["day": 0, "period": 0]]]],
        ]), status: 422, ["disruptions[1].teacher", "ghost"])
        XCTAssertEqual(unknown["path"] as? String, "disruptions[1].teacher")
        TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, path, [
            "disruptions": [["room": "r1", "unavailable": [["day": 5, "period": 0]]]],
        ]), status: 422, ["disruptions[0].unavailable[0]", "outside"])
        TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, path, ["disruptions": []]), status: 400, ["'disruptions'"])
        TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, path, [
            "disruptions": [["room": "r1", "unavailable": [["day": 0, "period": 0]]]], "threads": 9,
        ]), status: 400, ["'threads'"])
    }
}
