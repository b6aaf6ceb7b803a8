import Foundation

/// The result of one independent run (internal).
struct RunOutcome: Sendable {
    var timetable: Timetable
    var hard: Int
    var objective: Int
    var moves: Int
    var stop: StopReason
    var seed: UInt64
    var unplacedCourses: [Int]
}

/// One run: construction, then simulated annealing (internal). `state` may be pre-loaded (re-planning).
func runOnce(_ start: SearchState, seed: UInt64, options: SolverOptions, startTime: Double, deadline: Double,
             cancellation: CancellationToken?, reporter: ProgressReporter?) -> RunOutcome {
    var state = start
    var rng = SeededRandom(seed: seed)
    let pb = state.pb
    let stop: () -> Bool = { cancellation?.isCancelled ?? false }
    // Construction: bounded chunks until feasible or half of the time is used.
    let constructDeadline = startTime + (deadline - startTime) * 0.5
    var rounds = 0
    while state.unassigned > 0 && rounds < 20 {
        rounds += 1
        let done = Constructor.run(&state, rng: &rng, maxSteps: 20 * pb.L + 200) {
            stop() || monotonicSeconds() >= constructDeadline
        }
        if done || stop() || monotonicSeconds() >= constructDeadline { break }
    }
    if state.unassigned > 0 { Constructor.fillFreeSlots(&state) }
    reporter?.offer(hard: state.unassigned, soft: state.soft)
    let hard = state.unassigned
    var annealer = Annealer(state: state, rng: rng)
    let schedule = Annealer.Schedule(startTemperature: options.initialTemperature, endTemperature: options.finalTemperature,
                                     movesBudget: options.movesBudget, deadline: deadline, start: monotonicSeconds())
    let reason: StopReason
    if stop() { reason = .cancelled } else {
        reason = annealer.run(schedule, stop: stop) { soft in
            reporter?.offer(hard: hard, soft: soft)
        }
    }
    annealer.restoreBest()
    let final = annealer.state
    var unplaced = Set<Int>()
    for l in 0..<pb.L where final.period[l] < 0 { unplaced.insert(pb.lectureCourse[l]) }
    return RunOutcome(timetable: final.timetable(), hard: final.unassigned, objective: final.objective,
                      moves: annealer.moves, stop: reason, seed: seed, unplacedCourses: unplaced.sorted())
}

/// Runs `options.threads` independent runs (seeds derived from `options.seed`) and returns the best (internal).
func portfolio(_ start: SearchState, options: SolverOptions, cancellation: CancellationToken?,
               progress: ProgressHandler?) -> (RunOutcome, Double) {
    let t0 = monotonicSeconds()
    let deadline = t0 + max(options.timeLimit, 0)
    let reporter = ProgressReporter(handler: progress, interval: options.progressInterval, start: t0)
    let n = max(1, options.threads)
    let seeds = (0..<n).map { $0 == 0 ? options.seed : SeededRandom.derive(options.seed, $0) }
    let outcome: RunOutcome
    if n == 1 {
        outcome = runOnce(start, seed: seeds[0], options: options, startTime: t0, deadline: deadline,
                          cancellation: cancellation, reporter: reporter)
    } else {
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var results: [RunOutcome?]
            init(_ n: Int) { results = Array(repeating: nil, count: n) }
        }
        let box = Box(n)
        DispatchQueue.concurrentPerform(iterations: n) { i in
            let r = runOnce(start, seed: seeds[i], options: options, startTime: t0, deadline: deadline,
                            cancellation: cancellation, reporter: reporter)
            box.lock.lock(); box.results[i] = r; box.lock.unlock()
        }
        let all = box.results.compactMap { $0 }
        var best = all[0]
        for r in all.dropFirst() where (r.hard, r.objective) < (best.hard, best.objective) { best = r }
        best.moves = all.reduce(0) { $0 + $1.moves }
        outcome = best
    }
    reporter.flush()
    return (outcome, monotonicSeconds() - t0)
}

/// Solves an instance synchronously on the calling (worker) thread, or on `options.threads` threads.
///
/// - Parameters:
///   - instance: the problem; call `checkConsistency()` first to get readable errors for broken input.
///   - options: time limit, seed, optional moves budget, threads.
///   - cancellation: a token another thread may set; the solve then returns its best so far promptly.
///   - progress: called (rate-limited, from a worker thread) when the best timetable improves.
/// - Returns: the best timetable, its independent validation, and an infeasibility explanation when it is not feasible.
public func solve(_ instance: Instance, options: SolverOptions = SolverOptions(),
                  cancellation: CancellationToken? = nil, progress: ProgressHandler? = nil) -> SolveResult {
    let pb = Problem(instance)
    let (best, elapsed) = portfolio(SearchState(pb), options: options, cancellation: cancellation, progress: progress)
    let report = validate(best.timetable, instance)
    var explanation: InfeasibilityExplanation? = nil
    if !report.isFeasible {
        if best.stop == .cancelled {
            explanation = InfeasibilityExplanation(courses: best.unplacedCourses.map { instance.courses[$0].name },
                summary: "The solve was cancelled before a feasible timetable was found; \(report.breakdown[.lectures] ?? 0) lectures are not scheduled yet.", proven: false)
        } else {
            explanation = explainInfeasibility(instance, hint: best.unplacedCourses)
        }
    }
    return SolveResult(timetable: best.timetable, report: report, explanation: explanation, moves: best.moves,
                       elapsed: elapsed, stopReason: best.stop, seed: best.seed)
}
