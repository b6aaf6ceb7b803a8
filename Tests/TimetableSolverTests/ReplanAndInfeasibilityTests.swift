import XCTest
@testable import TimetableSolver

final class ReplanTests: XCTestCase {
    func testTeacherUnavailabilityKeepsUntouchedLectures() throws {
        let inst = try Fixtures.comp01() ?? CTTParser.parse(Fixtures.small)
        let solved = solve(inst, options: SolverOptions(timeLimit: 20, seed: 2, movesBudget: 10_000))
        XCTAssertTrue(solved.report.isFeasible)
        // The teacher of the first placed lecture becomes unavailable at that lecture's time.
        let first = solved.timetable.placements[0]
        let teacher = inst.courses[first.course].teacher
        let at = DaySlot(day: first.day, slot: first.slot)
        let affected = solved.timetable.placements.filter {
            inst.courses[$0.course].teacher == teacher && $0.day == at.day && $0.slot == at.slot
        }
        XCTAssertEqual(affected.count, 1)
        let r = try replan(inst, timetable: solved.timetable, disruptions: [.teacherUnavailable(teacher: teacher, at: [at])],
                           options: SolverOptions(timeLimit: 5, seed: 1, movesBudget: 10_000, initialTemperature: 0.5))
        XCTAssertTrue(r.report.isFeasible, "\(r.report.violations.filter { $0.constraint.isHard })")
        XCTAssertEqual(validate(r.timetable, r.instance).hardViolations, 0)
        XCTAssertTrue(r.instance.unavailablePeriods[first.course].contains(inst.period(day: at.day, slot: at.slot)))
        // The affected lecture moved; every other lecture is either where it was or listed as changed
        // (a lecture may be ejected when no free feasible slot is left), and only a handful changed.
        XCTAssertGreaterThanOrEqual(r.changes.count, 1)
        XCTAssertLessThanOrEqual(r.changes.count, 3, "\(r.changes)")
        XCTAssertTrue(r.changes.contains { $0.course == inst.courses[first.course].name && $0.old == at && $0.new != at })
        var remaining = r.timetable.placements
        var unchanged = 0
        for p in solved.timetable.placements {
            if let i = remaining.firstIndex(of: p) { remaining.remove(at: i); unchanged += 1 }
        }
        XCTAssertEqual(unchanged, inst.lectureCount - r.changes.count, "changes list exactly the moved lectures")
        XCTAssertEqual(remaining.count, r.changes.count)
    }

    func testRoomUnavailabilityMovesOnlyThatRoomsLectures() throws {
        let inst = try CTTParser.parse(Fixtures.small)
        let solved = solve(inst, options: SolverOptions(timeLimit: 5, seed: 9, movesBudget: 20_000))
        XCTAssertTrue(solved.report.isFeasible)
        let used = solved.timetable.placements[0]
        let room = inst.rooms[used.room].name
        let r = try replan(inst, timetable: solved.timetable,
                           disruptions: [.roomUnavailable(room: room, at: [DaySlot(day: used.day, slot: used.slot)])])
        XCTAssertTrue(r.report.isFeasible, "\(r.report.violations)")
        XCTAssertFalse(r.timetable.placements.contains { $0.room == used.room && $0.day == used.day && $0.slot == used.slot })
        XCTAssertGreaterThanOrEqual(r.changes.count, 1)
        XCTAssertLessThanOrEqual(r.changes.count, 3, "\(r.changes)")
        XCTAssertThrowsError(try replan(inst, timetable: solved.timetable, disruptions: [.roomUnavailable(room: "nope", at: [])]))
    }
}

final class InfeasibilityTests: XCTestCase {
    /// Three mutually conflicting courses (one curriculum and a shared teacher) need 4 periods; only 3 exist for them.
    static let clique = """
    Name: Tight
    Courses: 4
    Rooms: 2
    Days: 2
    Periods_per_day: 2
    Curricula: 1
    Constraints: 1

    COURSES:
    Alg t1 2 1 10
    Bio t2 1 1 10
    Chem t1 1 1 10
    Free t9 2 1 10

    ROOMS:
    R1 20
    R2 20

    CURRICULA:
    Q 2 Alg Bio

    UNAVAILABILITY_CONSTRAINTS:
    Alg 1 1
    END.
    """

    func testCliqueCoreIsNamed() throws {
        var inst = try CTTParser.parse(Self.clique)
        // Bio and Chem may not use day 1 period 1 either; Bio-Chem share curriculum Q2, Alg-Chem teacher t1,
        // so Alg (2), Bio (1) and Chem (1) need 4 periods among 3; no two of them alone are infeasible.
        inst.curricula.append(Curriculum(name: "Q2", courses: [1, 2]))
        inst.unavailablePeriods[1].insert(3); inst.unavailablePeriods[2].insert(3)
        let r = solve(inst, options: SolverOptions(timeLimit: 2, seed: 1, movesBudget: 5_000))
        XCTAssertGreaterThan(r.report.hardViolations, 0)
        let e = try XCTUnwrap(r.explanation)
        XCTAssertEqual(Set(e.courses), ["Alg", "Bio", "Chem"])
        XCTAssertTrue(e.proven)
        XCTAssertTrue(e.summary.contains("4 lectures"), e.summary)
        XCTAssertTrue(e.summary.contains("only 3 periods"), e.summary)
        XCTAssertFalse(e.summary.contains("Free"))
    }

    func testSingleCourseWithTooFewPeriods() throws {
        var inst = try CTTParser.parse(Self.clique)
        inst.unavailablePeriods[3] = [0, 1, 2]
        let e = try XCTUnwrap(explainInfeasibility(inst))
        XCTAssertEqual(e.courses, ["Free"])
        XCTAssertTrue(e.summary.contains("only 1 periods"), e.summary)
    }

    func testFeasibleInstanceHasNoCore() throws {
        let inst = try CTTParser.parse(Fixtures.small)
        XCTAssertNil(explainInfeasibility(inst))
    }
}
