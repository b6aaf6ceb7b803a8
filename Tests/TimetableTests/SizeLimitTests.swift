import Foundation
import PlexusTesting
import XCTest

/// Client-supplied sizes: a number that cannot fit answers 422 naming the field, the value and the limit, and the
/// worker keeps serving (it used to die on an arithmetic overflow trap, taking every running job with it).
final class SizeLimitTests: TimetableTestCase {
    private func replacing(_ pairs: [(String, String)]) -> String {
        pairs.reduce(Instances.small) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    func testHugeNumbersAnswer422AndTheWorkerKeepsServing() throws {
        let plexus = try plexus()
        // A job that runs throughout: it must still be running (in the same worker) after the bad submissions.
        let running = try TimetableHarness.submit(plexus, ctt: Instances.larger(), timeLimit: 60)
        XCTAssertEqual(try TimetableHarness.waitRunning(plexus, running)["status"] as? String, "running")
        let max = "9223372036854775807"
        let cases: [(String, String, Any, Int)] = [
            (replacing([("Days: 2", "Days: \(max)")]), "Days", Int.max, 28),
            (replacing([("Days: 2", "Days: 1000000")]), "Days", 1_000_000, 28),
            (replacing([("Days: 2", "Days: 99999999999999999999")]), "Days", "99999999999999999999", 28),
            (replacing([("Periods_per_day: 3", "Periods_per_day: \(max)")]), "Periods_per_day", Int.max, 64),
            (replacing([("q3 2 C E", "q3 \(max) C E")]), "the number of courses of a curriculum", Int.max, 5),
            (replacing([("E tE 1 1 40", "E tE 1 1 \(max)")]), "the number of students", Int.max, 100_000),
        ]
        for (text, field, value, limit) in cases {
            for response in [try TimetableHarness.postText(plexus, text),
                             try TimetableHarness.postJSON(plexus, ["format": "itc2007", "instance": text])] {
                let problem = TimetableHarness.assertProblem(response, status: 422, [field, "limit"])
                XCTAssertEqual(problem["kind"] as? String, "too_large", response.text)
                XCTAssertEqual(problem["field"] as? String, field, response.text)
                XCTAssertEqual(problem["limit"] as? Int, limit, response.text)
                if let value = value as? Int { XCTAssertEqual(problem["value"] as? Int, value, response.text) }
                if let value = value as? String { XCTAssertEqual(problem["value"] as? String, value, response.text) }
            }
        }
        // The school model: the same at its JSON path (a million days: numbers beyond 2^53 lose their digits as
        // JSON numbers and are refused as syntax).
        var school = Instances.school
        school["days"] = 1_000_000
        let problem = TimetableHarness.assertProblem(try TimetableHarness.postJSON(plexus, ["format": "school", "school": school]),
                                                     status: 422, ["school.days"])
        XCTAssertEqual(problem["field"] as? String, "days")
        XCTAssertEqual(problem["value"] as? Int, 1_000_000)
        XCTAssertEqual(problem["limit"] as? Int, 28)
        school["days"] = Int.max
        XCTAssertEqual(try TimetableHarness.postJSON(plexus, ["format": "school", "school": school]).status, 422)
        // Still serving: the running job was not lost and a new job is accepted.
        XCTAssertEqual(try TimetableHarness.status(plexus, running)["status"] as? String, "running")
        let next = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1, extra: ["moves_budget": 1000])
        XCTAssertEqual(try TimetableHarness.waitFinished(plexus, next)["status"] as? String, "succeeded")
        XCTAssertEqual(try plexus.request("DELETE", "\(TimetableHarness.jobs)/\(running)").status, 200)
    }

    /// An instance within every dimension bound whose model would not fit the configured memory is refused
    /// before it is solved, naming `memory`, the estimate and the limit.
    func testModelMemoryIsBoundedByConfig() throws {
        let plexus = try TimetableHarness.start(config: "max_model_megabytes = 1\n")
        defer { _ = plexus.stop() }
        // 28 days x 64 periods, one course of 200 lectures in one room: the constructor's table alone is ~2.8 MiB.
        let big = """
        Name: Big
        Courses: 1
        Rooms: 1
        Days: 28
        Periods_per_day: 64
        Curricula: 0
        Constraints: 0

        COURSES:
        A tA 200 1 10

        ROOMS:
        r1 10

        CURRICULA:

        UNAVAILABILITY_CONSTRAINTS:
        END.
        """
        let problem = TimetableHarness.assertProblem(try TimetableHarness.postText(plexus, big), status: 422, ["MiB", "limit is 1 MiB"])
        XCTAssertEqual(problem["field"] as? String, "memory")
        XCTAssertEqual(problem["limit"] as? Int, 1 << 20)
        XCTAssertGreaterThan(problem["value"] as? Int ?? 0, 1 << 20)
        // The small instance fits and is accepted.
        _ = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
    }
}
