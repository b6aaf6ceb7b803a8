import XCTest
@testable import TimetableSolver

final class ParserTests: XCTestCase {
    func testParsesSmallInstance() throws {
        let inst = try CTTParser.parse(Fixtures.small)
        XCTAssertEqual(inst.name, "Small")
        XCTAssertEqual(inst.courses.count, 5)
        XCTAssertEqual(inst.rooms.map(\.capacity), [30, 50, 10])
        XCTAssertEqual(inst.curricula[1].courses, [1, 3])
        XCTAssertEqual(inst.unavailablePeriods[3], [5])
        XCTAssertEqual(inst.lectureCount, 11)
        XCTAssertNoThrow(try inst.checkConsistency())
    }

    func testParsesComp01() throws {
        guard let inst = try Fixtures.comp01() else { throw XCTSkip("dataset not found") }
        XCTAssertEqual(inst.courses.count, 30)
        XCTAssertEqual(inst.lectureCount, 160)
        XCTAssertEqual(inst.unavailablePeriods.reduce(0) { $0 + $1.count }, 53)
    }

    private func expectError(_ text: String, kind: InstanceError.Kind, line: Int, _ file: StaticString = #filePath, _ ln: UInt = #line) {
        XCTAssertThrowsError(try CTTParser.parse(text), file: file, line: ln) { error in
            guard let e = error as? InstanceError else { return XCTFail("wrong error \(error)", file: file, line: ln) }
            XCTAssertEqual(e.kind, kind, "\(e)", file: file, line: ln)
            XCTAssertEqual(e.line, line, "\(e)", file: file, line: ln)
            XCTAssertTrue(e.description.hasPrefix("line \(line):"), file: file, line: ln)
        }
    }

    func testSyntaxErrorCarriesLineNumber() {
        expectError(Fixtures.small.replacingOccurrences(of: "B tB 2 2 50", with: "B tB two 2 50"), kind: .syntax, line: 11)
        expectError(Fixtures.small.replacingOccurrences(of: "r2 50", with: "r2"), kind: .syntax, line: 18)
        expectError(Fixtures.small.replacingOccurrences(of: "Rooms: 3", with: "Roms: 3"), kind: .syntax, line: 3)
        expectError(Fixtures.small.replacingOccurrences(of: "END.", with: "FIN."), kind: .syntax, line: 30)
    }

    func testUnknownReferences() {
        expectError(Fixtures.small.replacingOccurrences(of: "q2 2 B D", with: "q2 2 B Z"), kind: .unknownReference, line: 23)
        expectError(Fixtures.small.replacingOccurrences(of: "D 1 2", with: "X 1 2"), kind: .unknownReference, line: 28)
    }

    func testImpossibleSizes() {
        expectError(Fixtures.small.replacingOccurrences(of: "E tE 1 1 40", with: "E tE 1 1 -4"), kind: .impossibleSize, line: 14)
        expectError(Fixtures.small.replacingOccurrences(of: "E tE 1 1 40", with: "E tE 7 1 40"), kind: .impossibleSize, line: 14)
        // 11 lectures in 3 rooms x 6 periods fits; with one room there are 6 room-periods only.
        let oneRoom = Fixtures.small.replacingOccurrences(of: "Rooms: 3", with: "Rooms: 1")
            .replacingOccurrences(of: "r2 50\n", with: "").replacingOccurrences(of: "r3 10\n", with: "")
        XCTAssertThrowsError(try CTTParser.parse(oneRoom)) { error in
            XCTAssertEqual((error as? InstanceError)?.kind, .impossibleSize)
            XCTAssertTrue("\(error)".contains("room-periods"))
        }
        expectError(Fixtures.small.replacingOccurrences(of: "E 0 1", with: "E 0 9"), kind: .impossibleSize, line: 29)
    }

    func testSolutionRoundTrip() throws {
        let inst = try CTTParser.parse(Fixtures.small)
        let t = Timetable(placements: [Placement(course: 0, room: 1, day: 1, slot: 2), Placement(course: 4, room: 0, day: 0, slot: 0)])
        let text = SolutionFormat.write(t, for: inst)
        XCTAssertEqual(text, "A r2 1 2\nE r1 0 0\n")
        XCTAssertEqual(try SolutionFormat.read(text, for: inst), t)
        XCTAssertThrowsError(try SolutionFormat.read("A r2 1 2\nQ r1 0 0\n", for: inst)) { error in
            XCTAssertEqual((error as? InstanceError)?.line, 2)
        }
    }
}
