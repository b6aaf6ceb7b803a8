import Foundation
import XCTest
@testable import TimetableSolver

final class SchoolModelTests: XCTestCase {
    static let json = """
    {
      "name": "Greenfield",
      "days": 5, "periodsPerDay": 4,
      "classes": [{"id": "1A"}, {"id": "1B"}],
      "teachers": [{"id": "smith", "unavailable": [{"day": 0, "slot": 0}]}, {"id": "jones"}],
      "subjects": [
        {"id": "math-1A", "teacher": "smith", "classes": ["1A"], "lessonsPerWeek": 4, "minDays": 4, "students": 25},
        {"id": "math-1B", "teacher": "smith", "classes": ["1B"], "lessonsPerWeek": 4, "minDays": 4, "students": 25},
        {"id": "art", "teacher": "jones", "classes": ["1A", "1B"], "lessonsPerWeek": 2, "students": 50,
         "preferred": [{"day": 4, "slot": 2}, {"day": 4, "slot": 3}]}
      ],
      "rooms": [{"id": "101", "capacity": 30}, {"id": "hall", "capacity": 60, "unavailable": [{"day": 4, "slot": 3}]}],
      "weights": {"preferredTime": 10}
    }
    """

    func testMapsAndSolves() throws {
        let model = try SchoolModel.decode(Data(Self.json.utf8))
        let inst = try model.makeInstance()
        XCTAssertEqual(inst.courses.map(\.name), ["math-1A", "math-1B", "art"])
        XCTAssertEqual(inst.curricula.map(\.courses), [[0, 2], [1, 2]])
        XCTAssertTrue(inst.unavailablePeriods[0].contains(0), "teacher unavailability applies to the subject")
        XCTAssertEqual(inst.roomUnavailablePeriods[1], [19])
        XCTAssertEqual(inst.periodPenalties[2].count, 18)
        XCTAssertEqual(inst.weights.preferredTime, 10)
        XCTAssertEqual(inst.weights.minWorkingDays, 5)
        let r = solve(inst, options: SolverOptions(timeLimit: 5, seed: 1, movesBudget: 30_000))
        XCTAssertTrue(r.report.isFeasible)
        // Art can go at its preferred (4,2) in the hall but not at (4,3), so one lesson pays 10 at least.
        XCTAssertEqual(r.report.breakdown[.preferredTime], 10, "\(r.report.violations)")
        // Round trip through JSON.
        XCTAssertEqual(try SchoolModel.decode(try model.encoded()), model)
    }

    private func expectPath(_ json: String, _ path: String, _ kind: InstanceError.Kind, _ line: UInt = #line) {
        XCTAssertThrowsError(try SchoolModel.decode(Data(json.utf8)).makeInstance(), line: line) { error in
            let e = error as? InstanceError
            XCTAssertEqual(e?.path, path, "\(error)", line: line)
            XCTAssertEqual(e?.kind, kind, "\(error)", line: line)
        }
    }

    func testUnknownReferencesCarryJSONPath() {
        expectPath(Self.json.replacingOccurrences(of: "\"teacher\": \"jones\"", with: "\"teacher\": \"brown\""), "subjects[2].teacher", .unknownReference)
        expectPath(Self.json.replacingOccurrences(of: "[\"1A\", \"1B\"]", with: "[\"1A\", \"2C\"]"), "subjects[2].classes[1]", .unknownReference)
        expectPath(Self.json.replacingOccurrences(of: "60, \"unavailable\": [{\"day\": 4", with: "60, \"unavailable\": [{\"day\": 9"), "rooms[1].unavailable[0]", .impossibleSize)
        expectPath(Self.json.replacingOccurrences(of: "\"lessonsPerWeek\": 2,", with: "\"lessonsPerWeek\": -2,"), "subjects[2].lessonsPerWeek", .impossibleSize)
        expectPath(Self.json.replacingOccurrences(of: "\"capacity\": 30", with: "\"capacity\": \"big\""), "rooms[0].capacity", .syntax)
        expectPath(Self.json.replacingOccurrences(of: "\"lessonsPerWeek\": 2,", with: ""), "subjects[2].lessonsPerWeek", .syntax)
    }
}
