import Foundation
import XCTest
@testable import TimetableSolver

final class SolverTests: XCTestCase {
    func testSmallInstanceSolvesFeasibly() throws {
        let inst = try CTTParser.parse(Fixtures.small)
        let r = solve(inst, options: SolverOptions(timeLimit: 5, seed: 3, movesBudget: 20_000))
        let check = validate(r.timetable, inst)
        XCTAssertEqual(check.hardViolations, 0, "\(check.violations)")
        XCTAssertEqual(check, r.report)
        XCTAssertNil(r.explanation)
        XCTAssertEqual(r.timetable.placements.count, inst.lectureCount)
    }

    func testComp01FeasibleAndCheckedIndependently() throws {
        guard let inst = try Fixtures.comp01() else { throw XCTSkip("dataset not found") }
        let r = solve(inst, options: SolverOptions(timeLimit: 20, seed: 1, movesBudget: 30_000))
        let check = validate(r.timetable, inst)
        XCTAssertEqual(check.hardViolations, 0, "\(check.violations.prefix(5))")
        XCTAssertEqual(r.timetable.placements.count, 160)
        XCTAssertEqual(check.softCost, r.report.softCost)
        XCTAssertEqual(check.breakdown.filter { !$0.key.isHard }.values.reduce(0, +), check.softCost)
        XCTAssertEqual(check.violations.filter { !$0.constraint.isHard }.reduce(0) { $0 + $1.cost }, check.softCost)
        XCTAssertLessThan(check.softCost, 200)
    }

    /// Property: after a long run of annealing moves, the incrementally maintained cost equals the from-scratch cost.
    func testIncrementalCostMatchesScratchOverSeeds() throws {
        var instances = [try CTTParser.parse(Fixtures.small)]
        if let c = try Fixtures.comp01() { instances.append(c) }
        for inst in instances {
            let pb = Problem(inst)
            for seed in UInt64(1)...3 {
                var st = SearchState(pb)
                var rng = SeededRandom(seed: seed)
                XCTAssertTrue(Constructor.run(&st, rng: &rng, maxSteps: 100_000, shouldStop: { false }))
                XCTAssertEqual(st.soft, validate(st.timetable(), inst).softCost)
                var ann = Annealer(state: st, rng: rng)
                // High temperature so that many uphill moves are accepted too.
                let sc = Annealer.Schedule(startTemperature: 5, endTemperature: 1, movesBudget: 15_000,
                                           deadline: monotonicSeconds() + 60, start: monotonicSeconds())
                _ = ann.run(sc, stop: { false }, improved: { _ in })
                let scratch = validate(ann.state.timetable(), inst)
                XCTAssertEqual(scratch.hardViolations, 0)
                XCTAssertEqual(ann.state.soft, scratch.softCost, "seed \(seed) on \(inst.name)")
                ann.restoreBest()
                XCTAssertEqual(ann.state.soft, validate(ann.state.timetable(), inst).softCost)
                XCTAssertEqual(ann.state.objective, ann.bestObjective)
            }
        }
    }

    func testSameSeedAndBudgetGiveSameResult() throws {
        let inst = try Fixtures.comp01() ?? CTTParser.parse(Fixtures.small)
        let opts = SolverOptions(timeLimit: 30, seed: 42, movesBudget: 8_000)
        let a = solve(inst, options: opts), b = solve(inst, options: opts)
        XCTAssertEqual(a.timetable, b.timetable)
        XCTAssertEqual(a.report.softCost, b.report.softCost)
        var two = opts
        two.threads = 2
        let c = solve(inst, options: two), d = solve(inst, options: two)
        XCTAssertEqual(c.timetable, d.timetable)
        XCTAssertLessThanOrEqual(c.report.softCost, a.report.softCost, "run 0 of the portfolio is the single run")
    }

    func testCancelFromAnotherThreadReturnsPromptly() throws {
        let inst = try Fixtures.comp01() ?? CTTParser.parse(Fixtures.small)
        let token = CancellationToken()
        let feasibleSeen = Counter(), done = Counter()
        let box = ResultBox()
        let thread = Thread {
            let r = solve(inst, options: SolverOptions(timeLimit: 60, seed: 5, progressInterval: 0), cancellation: token) { hard, _, _ in
                if hard == 0 { feasibleSeen.increment() }
            }
            box.set(r)
            done.increment()
        }
        thread.start()
        let t0 = monotonicSeconds()
        while feasibleSeen.value == 0 && monotonicSeconds() - t0 < 30 { Thread.sleep(forTimeInterval: 0.01) }
        XCTAssertGreaterThan(feasibleSeen.value, 0, "progress reported a feasible timetable")
        Thread.sleep(forTimeInterval: 0.2)
        let cancelledAt = monotonicSeconds()
        token.cancel()
        while done.value == 0 && monotonicSeconds() - cancelledAt < 10 { Thread.sleep(forTimeInterval: 0.005) }
        XCTAssertLessThan(monotonicSeconds() - cancelledAt, 1.0, "cancel should stop the solve promptly")
        let r = try XCTUnwrap(box.get())
        XCTAssertEqual(r.stopReason, .cancelled)
        XCTAssertEqual(validate(r.timetable, inst).hardViolations, 0, "best so far is feasible")
    }

    func testCancelDuringConstructionReturnsPartialBest() throws {
        let inst = try Fixtures.comp01() ?? CTTParser.parse(Fixtures.small)
        let token = CancellationToken()
        token.cancel()
        let t0 = monotonicSeconds()
        let r = solve(inst, options: SolverOptions(timeLimit: 60, seed: 5), cancellation: token)
        XCTAssertLessThan(monotonicSeconds() - t0, 5)
        XCTAssertEqual(r.stopReason, .cancelled)
    }
}

/// Holds a solve result across threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var r: SolveResult?
    func set(_ v: SolveResult) { lock.lock(); r = v; lock.unlock() }
    func get() -> SolveResult? { lock.lock(); defer { lock.unlock() }; return r }
}

/// A thread-safe counter for callbacks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func increment() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}
