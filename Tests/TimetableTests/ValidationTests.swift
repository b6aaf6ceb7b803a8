import Foundation
import PlexusTesting
import XCTest

/// Bad instances answer 422 with the line or JSON path and the reason; bad options 400 naming the field.
final class ValidationTests: TimetableTestCase {
    private func replacing(_ old: String, with new: String) -> String {
        Instances.small.replacingOccurrences(of: old, with: new)
    }

    /// A syntax error names its line, in JSON bodies and raw text bodies alike.
    func testSyntaxErrorNamesTheLine() throws {
        let plexus = try plexus()
        let broken = replacing("Rooms: 3", with: "Rooms: three")
        for response in [try TimetableHarness.postJSON(plexus, ["format": "itc2007", "instance": broken, "time_limit_seconds": 1]),
                         try TimetableHarness.postText(plexus, broken)] {
            let problem = TimetableHarness.assertProblem(response, status: 422, ["line 3", "syntax", "three"])
            XCTAssertEqual(problem["line"] as? Int, 3)
            XCTAssertEqual(problem["kind"] as? String, "syntax")
        }
        let shortCourse = replacing("B tB 2 2 50", with: "B tB 2 2")
        XCTAssertEqual(TimetableHarness.assertProblem(try TimetableHarness.postText(plexus, shortCourse), status: 422, ["line 11"])["line"] as? Int, 11)
    }

    /// A curriculum naming a course that does not exist: unknown reference, with its line.
    func testUnknownReference() throws {
        let plexus = try plexus()
        let response = try TimetableHarness.postText(plexus, replacing("q3 2 C E", with: "q3 2 C Z"))
        let problem = TimetableHarness.assertProblem(response, status: 422, ["Z", "line 24"])
        XCTAssertEqual(problem["kind"] as? String, "unknown_reference")
        // School model: an unknown teacher is reported at its JSON path.
        var school = Instances.school
        var subjects = school["subjects"] as! [[String: Any]]
        subjects[2]["teacher"] = "nobody"
        school["subjects"] = subjects
        let schoolProblem = TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, ["format": "school", "school": school]),
                                                           status: 422, ["school.subjects[2].teacher", "nobody"])
        XCTAssertEqual(schoolProblem["path"] as? String, "school.subjects[2].teacher")
        XCTAssertEqual(schoolProblem["kind"] as? String, "unknown_reference")
        // ... and a missing field at its path.
        school = Instances.school
        school.removeValue(forKey: "rooms")
        TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, ["format": "school", "school": school]), status: 422, ["school.rooms"])
    }

    /// Sizes that cannot be right.
    func testImpossibleSize() throws {
        let plexus = try plexus()
        let tooMany = TimetableHarness.assertProblem(try TimetableHarness.postText(plexus, replacing("D tD 3 2 10", with: "D tD 9 2 10")),
                                                     status: 422, ["D", "9 lectures"])
        XCTAssertEqual(tooMany["kind"] as? String, "impossible_size")
        var school = Instances.school
        school["periodsPerDay"] = 0
        TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, ["format": "school", "school": school]),
                                       status: 422, ["school.periodsPerDay"])
    }

    /// Bad options: 400 naming the field and its allowed range, checked before any solving.
    func testBadOptionsNameTheField() throws {
        let plexus = try plexus()
        let cases: [([String: Any], String, String)] = [
            (["time_limit_seconds": -1], "time_limit_seconds", "greater than 0"),
            (["time_limit_seconds": 100_000], "time_limit_seconds", "at most 300"),
            (["time_limit_seconds": "soon"], "time_limit_seconds", "not a number"),
            (["threads": 3], "threads", "from 1 to 2"),
            (["threads": 1.5], "threads", "from 1 to 2"),
            (["seed": -4], "seed", "integer"),
            (["seed": true], "seed", "must be a number"),
            (["moves_budget": 0], "moves_budget", "from 1"),
            (["format": "xml"], "format", "itc2007, school"),
            (["time_limt": 3], "time_limt", "unknown field"),
        ]
        for (options, field, fragment) in cases {
            var body: [String: Any] = ["format": "itc2007", "instance": Instances.small]
            body.merge(options) { $1 }
            let problem = TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, body), status: 400, ["'\(field)'", fragment])
            XCTAssertEqual(problem["field"] as? String, field)
        }
        TimetableHarness.assertProblem(try TimetableHarness.postText(plexus, Instances.small, query: "threads=0"), status: 400, ["'threads'"])
        TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, ["format": "itc2007"]), status: 400, ["'instance'"])
        TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, ["format": "itc2007", "instance": 5]), status: 400, ["'instance'", "string"])
        TimetableHarness.assertProblem(try plexus.request("POST", TimetableHarness.jobs, headers: "Content-Type: application/json\r\n",
                                                          body: Array("{not json".utf8)), status: 400, ["not valid JSON"])
        XCTAssertEqual(try plexus.request("POST", TimetableHarness.jobs, headers: "Content-Type: application/xml\r\n",
                                          body: Array("<x/>".utf8)).status, 415)
        // Nothing was queued by any of these.
        let list = try TimetableHarness.json(try plexus.get(TimetableHarness.jobs))
        XCTAssertEqual(list["count"] as? Int, 0, "\(list)")
        // The result route checks its own option.
        let id = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        _ = try TimetableHarness.waitFinished(plexus, id)
        TimetableHarness.assertProblem(try plexus.get("\(TimetableHarness.jobs)/\(id)/result?format=pdf"), status: 400, ["'format'", "json, itc2007"])
    }
}
