import Foundation
import XCTest
@testable import TimetableSolver

/// Client-supplied numbers: huge, negative, overflowing in products, or fitting every bound but not in memory.
/// Each must come back as an `InstanceError` (never an arithmetic trap, never an allocation sized from it).
final class InstanceLimitsTests: XCTestCase {
    private func ctt(_ replacements: [(String, String)]) -> String {
        replacements.reduce(Fixtures.small) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }

    private func expectTooLarge(_ text: String, field: String, value: String, limit: Int, line: Int?,
                                limits: InstanceLimits = .standard, file: StaticString = #filePath, ln: UInt = #line) {
        XCTAssertThrowsError(try { let i = try CTTParser.parse(text, limits: limits); try i.checkConsistency(); try i.checkLimits(limits) }(),
                             file: file, line: ln) { error in
            guard let e = error as? InstanceError else { return XCTFail("wrong error \(error)", file: file, line: ln) }
            XCTAssertEqual(e.kind, .tooLarge, "\(e)", file: file, line: ln)
            XCTAssertEqual(e.field, field, "\(e)", file: file, line: ln)
            XCTAssertEqual(e.value, value, "\(e)", file: file, line: ln)
            XCTAssertEqual(e.limit, limit, "\(e)", file: file, line: ln)
            XCTAssertEqual(e.line, line, "\(e)", file: file, line: ln)
        }
    }

    /// `Days: Int.max` used to trap in `days * ppd` (two sites in the parser).
    func testHugeDaysIsTooLargeNotATrap() {
        expectTooLarge(ctt([("Days: 2", "Days: 9223372036854775807")]), field: "Days", value: "9223372036854775807", limit: 28, line: 4)
        // More digits than an Int holds: still "too large", with the number as written.
        expectTooLarge(ctt([("Days: 2", "Days: 99999999999999999999999")]), field: "Days", value: "99999999999999999999999", limit: 28, line: 4)
        expectTooLarge(ctt([("Periods_per_day: 3", "Periods_per_day: 9223372036854775807")]),
                       field: "Periods_per_day", value: "9223372036854775807", limit: 64, line: 5)
        expectTooLarge(ctt([("Days: 2", "Days: 1000000")]), field: "Days", value: "1000000", limit: 28, line: 4)
    }

    /// Every header count and every number on a course, room or curriculum line is bounded.
    func testEveryCountIsBounded() {
        let max = "9223372036854775807"
        expectTooLarge(ctt([("Courses: 5", "Courses: \(max)")]), field: "Courses", value: max, limit: 5_000, line: 2)
        expectTooLarge(ctt([("Rooms: 3", "Rooms: \(max)")]), field: "Rooms", value: max, limit: 2_000, line: 3)
        expectTooLarge(ctt([("Curricula: 3", "Curricula: \(max)")]), field: "Curricula", value: max, limit: 5_000, line: 6)
        expectTooLarge(ctt([("Constraints: 3", "Constraints: \(max)")]), field: "Constraints", value: max, limit: 200_000, line: 7)
        expectTooLarge(ctt([("E tE 1 1 40", "E tE \(max) 1 40")]), field: "the number of lectures", value: max, limit: 50_000, line: 14)
        expectTooLarge(ctt([("E tE 1 1 40", "E tE 1 \(max) 40")]), field: "the minimum working days", value: max, limit: 28, line: 14)
        expectTooLarge(ctt([("E tE 1 1 40", "E tE 1 1 \(max)")]), field: "the number of students", value: max, limit: 100_000, line: 14)
        expectTooLarge(ctt([("r3 10", "r3 \(max)")]), field: "the room capacity", value: max, limit: 100_000, line: 19)
        // `n + 2` fields for a curriculum of n courses used to overflow.
        expectTooLarge(ctt([("q3 2 C E", "q3 \(max) C E")]), field: "the number of courses of a curriculum", value: max, limit: 5, line: 24)
    }

    /// Negative numbers stay "impossible size", also when they do not fit in an Int.
    func testNegativeNumbers() {
        for text in [ctt([("Days: 2", "Days: -2")]), ctt([("Days: 2", "Days: -99999999999999999999999")]), ctt([("r3 10", "r3 -1")])] {
            XCTAssertThrowsError(try CTTParser.parse(text)) { error in
                XCTAssertEqual((error as? InstanceError)?.kind, .impossibleSize, "\(error)")
            }
        }
    }

    /// With the dimension limits lifted, products that overflow an Int saturate instead of trapping, and the
    /// memory estimate refuses what cannot fit: a 1-lecture instance with a million days, and days x periods
    /// beyond Int.max.
    func testOverflowingProductsAndAMillionDaysAreRefusedByMemory() {
        var open = InstanceLimits.standard
        open.maxDays = .max
        let millionDays = ctt([("Days: 2", "Days: 1000000")])
        let footprint = ModelFootprint(days: 1_000_000, periodsPerDay: 3, courses: 5, rooms: 3, curricula: 3, teachers: 4, lectures: 11,
                                      curriculumMemberships: 6)
        expectTooLarge(millionDays, field: "memory", value: String(footprint.bytes), limit: open.maxModelBytes, line: nil, limits: open)
        let overflowing = ctt([("Days: 2", "Days: 4611686018427387904"), ("Periods_per_day: 3", "Periods_per_day: 4")])
        expectTooLarge(overflowing, field: "memory", value: String(Int.max), limit: open.maxModelBytes, line: nil, limits: open)
        XCTAssertEqual(ModelFootprint(days: .max, periodsPerDay: 64, courses: .max, rooms: .max, curricula: .max,
                                      teachers: .max, lectures: .max, threads: .max).bytes, .max)
    }

    /// Dimensions within every bound that still need gigabytes (lectures x periods for the constructor's table).
    func testMemoryEstimateRefusesLargeModels() throws {
        let footprint = ModelFootprint(days: 28, periodsPerDay: 64, courses: 5_000, rooms: 2_000, curricula: 5_000, teachers: 5_000,
                                       lectures: 50_000, threads: 2)
        XCTAssertThrowsError(try footprint.check(.standard)) { error in
            let e = error as? InstanceError
            XCTAssertEqual(e?.kind, .tooLarge)
            XCTAssertEqual(e?.field, "memory")
            XCTAssertEqual(e?.limit, 512 << 20)
            XCTAssertTrue("\(error)".contains("MiB"), "\(error)")
        }
        // Real instances fit with room to spare, on two threads too.
        try CTTParser.parse(Fixtures.small).checkLimits(.standard, threads: 2)
        if let comp01 = try Fixtures.comp01() { try comp01.checkLimits(.standard, threads: 2) }
    }

    /// The school model: the same bounds, at JSON paths, checked before `days * periodsPerDay` is computed.
    func testSchoolModelNumbersAreBounded() {
        func expect(_ json: String, path: String, kind: InstanceError.Kind, field: String? = nil, line: UInt = #line) {
            XCTAssertThrowsError(try SchoolModel.decode(Data(json.utf8)).makeInstance(), line: line) { error in
                let e = error as? InstanceError
                XCTAssertEqual(e?.kind, kind, "\(error)", line: line)
                XCTAssertEqual(e?.path, path, "\(error)", line: line)
                if let field { XCTAssertEqual(e?.field, field, "\(error)", line: line) }
            }
        }
        let json = SchoolModelTests.json
        expect(json.replacingOccurrences(of: "\"days\": 5", with: "\"days\": 9223372036854775807"), path: "days", kind: .tooLarge, field: "days")
        expect(json.replacingOccurrences(of: "\"days\": 5", with: "\"days\": 1000000"), path: "days", kind: .tooLarge, field: "days")
        expect(json.replacingOccurrences(of: "\"periodsPerDay\": 4", with: "\"periodsPerDay\": 9223372036854775807"),
               path: "periodsPerDay", kind: .tooLarge)
        expect(json.replacingOccurrences(of: "\"lessonsPerWeek\": 2,", with: "\"lessonsPerWeek\": 9223372036854775807,"),
               path: "subjects[2].lessonsPerWeek", kind: .tooLarge)
        expect(json.replacingOccurrences(of: "\"students\": 50", with: "\"students\": 9223372036854775807"),
               path: "subjects[2].students", kind: .tooLarge)
        expect(json.replacingOccurrences(of: "\"capacity\": 30", with: "\"capacity\": 9223372036854775807"),
               path: "rooms[0].capacity", kind: .tooLarge)
        expect(json.replacingOccurrences(of: "\"preferredTime\": 10", with: "\"preferredTime\": 9223372036854775807"),
               path: "weights.preferredTime", kind: .tooLarge, field: "weights.preferredTime")
        expect(json.replacingOccurrences(of: "\"preferredTime\": 10", with: "\"preferredTime\": -3"),
               path: "weights.preferredTime", kind: .impossibleSize)
    }
}
