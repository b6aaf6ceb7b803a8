/// A (day, timeslot) pair.
public struct DaySlot: Sendable, Hashable, Codable {
    /// Day, from 0.
    public var day: Int
    /// Timeslot within the day, from 0.
    public var slot: Int

    /// Creates a day/slot pair.
    public init(day: Int, slot: Int) {
        self.day = day
        self.slot = slot
    }
}

/// A change to a solved instance that calls for re-planning.
public enum Disruption: Sendable, Hashable {
    /// The teacher can no longer teach at these times.
    case teacherUnavailable(teacher: String, at: [DaySlot])
    /// The room can no longer be used at these times.
    case roomUnavailable(room: String, at: [DaySlot])
    /// The course can no longer be taught at these times.
    case courseUnavailable(course: String, at: [DaySlot])
}

/// A lecture whose period or room changed during re-planning.
public struct LectureChange: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Name of the course.
    public var course: String
    /// Old (day, slot) and room, nil if the lecture was not scheduled before.
    public var old: DaySlot?
    /// Old room name.
    public var oldRoom: String?
    /// New (day, slot), nil if the lecture could not be scheduled.
    public var new: DaySlot?
    /// New room name.
    public var newRoom: String?

    /// A one-line description.
    public var description: String {
        func f(_ s: DaySlot?, _ r: String?) -> String { s.map { "day \($0.day) period \($0.slot) room \(r ?? "?")" } ?? "unscheduled" }
        return "\(course): \(f(old, oldRoom)) -> \(f(new, newRoom))"
    }
}

/// The outcome of re-planning.
public struct ReplanResult: Sendable, Hashable {
    /// The instance with the disruptions applied.
    public var instance: Instance
    /// The new timetable.
    public var timetable: Timetable
    /// Independent validation of the new timetable against the new instance.
    public var report: ValidationReport
    /// Lectures that moved (only those).
    public var changes: [LectureChange]
    /// Why the new instance is infeasible, if it is.
    public var explanation: InfeasibilityExplanation?
}

extension Instance {
    /// The instance with the disruptions applied; throws `InstanceError.unknownReference` for unknown names.
    public func applying(_ disruptions: [Disruption]) throws -> Instance {
        var inst = self
        func periods(_ at: [DaySlot]) throws -> [Int] {
            try at.map {
                guard $0.day >= 0, $0.day < days, $0.slot >= 0, $0.slot < periodsPerDay else {
                    throw InstanceError(kind: .impossibleSize, message: "day \($0.day) period \($0.slot) is outside the week")
                }
                return $0.day * periodsPerDay + $0.slot
            }
        }
        for d in disruptions {
            switch d {
            case .teacherUnavailable(let t, let at):
                let cs = courses.indices.filter { courses[$0].teacher == t }
                guard !cs.isEmpty else { throw InstanceError(kind: .unknownReference, message: "unknown teacher \(t)") }
                let ps = try periods(at)
                for c in cs { inst.unavailablePeriods[c].formUnion(ps) }
            case .roomUnavailable(let r, let at):
                guard let ri = roomIndex(named: r) else { throw InstanceError(kind: .unknownReference, message: "unknown room \(r)") }
                inst.roomUnavailablePeriods[ri].formUnion(try periods(at))
            case .courseUnavailable(let c, let at):
                guard let ci = courseIndex(named: c) else { throw InstanceError(kind: .unknownReference, message: "unknown course \(c)") }
                inst.unavailablePeriods[ci].formUnion(try periods(at))
            }
        }
        return inst
    }
}

/// Re-plans a solved timetable after disruptions, moving as few lectures as possible.
///
/// Lectures that are still valid are kept in place; the affected ones are re-placed by the constructor
/// (ejecting others only when needed), then simulated annealing improves the soft cost with a penalty of
/// `moveWeight` for every lecture away from its old period and room. Returns the new timetable and what moved.
public func replan(_ instance: Instance, timetable: Timetable, disruptions: [Disruption],
                   options: SolverOptions = SolverOptions(timeLimit: 2, movesBudget: 50_000, initialTemperature: 0.5),
                   moveWeight: Int = 1000, cancellation: CancellationToken? = nil) throws -> ReplanResult {
    let newInstance = try instance.applying(disruptions)
    let pb = Problem(newInstance)
    var state = SearchState(pb)
    // Anchor each lecture at its old placement (lectures of one course in the timetable's order).
    var next = pb.firstLecture
    for pl in timetable.placements where pl.course < pb.C && next[pl.course] < pb.firstLecture[pl.course + 1] {
        let l = next[pl.course]; next[pl.course] += 1
        state.anchorPeriod[l] = pl.day * pb.S + pl.slot
        state.anchorRoom[l] = pl.room
    }
    state.anchorWeight = moveWeight
    state.load(timetable)
    var single = options
    single.threads = 1
    let (best, _) = portfolio(state, options: single, cancellation: cancellation, progress: nil)
    let report = validate(best.timetable, newInstance)
    // What moved: per course, placements present before but not after (and vice versa), paired in order.
    var changes: [LectureChange] = []
    for c in 0..<pb.C {
        var old = timetable.placements.filter { $0.course == c }
        var new = best.timetable.placements.filter { $0.course == c }
        for p in old where new.contains(p) {
            old.remove(at: old.firstIndex(of: p)!)
            new.remove(at: new.firstIndex(of: p)!)
        }
        for i in 0..<max(old.count, new.count) {
            let o = i < old.count ? old[i] : nil, n = i < new.count ? new[i] : nil
            changes.append(LectureChange(course: newInstance.courses[c].name,
                                         old: o.map { DaySlot(day: $0.day, slot: $0.slot) }, oldRoom: o.map { newInstance.rooms[$0.room].name },
                                         new: n.map { DaySlot(day: $0.day, slot: $0.slot) }, newRoom: n.map { newInstance.rooms[$0.room].name }))
        }
    }
    let explanation = report.isFeasible ? nil : explainInfeasibility(newInstance, hint: best.unplacedCourses)
    return ReplanResult(instance: newInstance, timetable: best.timetable, report: report, changes: changes, explanation: explanation)
}
