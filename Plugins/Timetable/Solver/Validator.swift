/// The constraints a timetable is judged by.
public enum ConstraintKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Hard: every lecture is scheduled, lectures of one course are in distinct periods.
    case lectures = "Lectures"
    /// Hard: at most one lecture per room and period.
    case roomOccupancy = "RoomOccupancy"
    /// Hard: courses of one curriculum or one teacher are in distinct periods.
    case conflicts = "Conflicts"
    /// Hard: no lecture in a period where its course (or teacher) is unavailable.
    case availability = "Availability"
    /// Hard: no lecture in a room at a period where the room is unavailable.
    case roomAvailability = "RoomAvailability"
    /// Soft: students above the room capacity.
    case roomCapacity = "RoomCapacity"
    /// Soft: days short of a course's minimum working days.
    case minWorkingDays = "MinWorkingDays"
    /// Soft: isolated lectures of a curriculum.
    case curriculumCompactness = "CurriculumCompactness"
    /// Soft: extra rooms used by a course.
    case roomStability = "RoomStability"
    /// Soft: lectures outside preferred times.
    case preferredTime = "PreferredTime"

    /// Whether the constraint is hard.
    public var isHard: Bool {
        switch self {
        case .lectures, .roomOccupancy, .conflicts, .availability, .roomAvailability: return true
        default: return false
        }
    }
}

/// One violation of a constraint, with its location and cost.
public struct Violation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The violated constraint.
    public var constraint: ConstraintKind
    /// Names of the courses involved.
    public var courses: [String]
    /// Day of the violation, when it is tied to a period.
    public var day: Int?
    /// Timeslot of the violation, when it is tied to a period.
    public var slot: Int?
    /// Room of the violation, when it is tied to a room.
    public var room: String?
    /// Why it is a violation.
    public var reason: String
    /// Number of hard violations (hard constraints) or weighted soft cost (soft constraints).
    public var cost: Int

    /// Creates a violation record.
    public init(constraint: ConstraintKind, courses: [String], day: Int? = nil, slot: Int? = nil, room: String? = nil, reason: String, cost: Int) {
        self.constraint = constraint
        self.courses = courses
        self.day = day
        self.slot = slot
        self.room = room
        self.reason = reason
        self.cost = cost
    }

    /// A one-line description.
    public var description: String {
        var s = "\(constraint.rawValue) [\(courses.joined(separator: ", "))]"
        if let day, let slot { s += " day \(day) period \(slot)" } else if let day { s += " day \(day)" }
        if let room { s += " room \(room)" }
        return s + ": \(reason) (cost \(cost))"
    }
}

/// The result of checking a timetable from scratch.
public struct ValidationReport: Sendable, Hashable, Codable {
    /// Total number of hard violations.
    public var hardViolations: Int
    /// Weighted soft cost.
    public var softCost: Int
    /// Per-constraint totals: violation counts for hard constraints, weighted costs for soft ones.
    public var breakdown: [ConstraintKind: Int]
    /// Every individual violation.
    public var violations: [Violation]

    /// Whether the timetable satisfies all hard constraints.
    public var isFeasible: Bool { hardViolations == 0 }
}

/// Recomputes hard violations and the soft cost of a timetable from scratch, independently of the solver's incremental state.
public func validate(_ timetable: Timetable, _ instance: Instance) -> ValidationReport {
    let P = instance.periodCount, R = instance.rooms.count, C = instance.courses.count, S = instance.periodsPerDay
    var v: [Violation] = []
    var breakdown: [ConstraintKind: Int] = [:]
    for k in ConstraintKind.allCases { breakdown[k] = 0 }
    func add(_ k: ConstraintKind, _ courses: [Int], period: Int? = nil, day: Int? = nil, room: Int? = nil, _ reason: String, _ cost: Int) {
        guard cost > 0 else { return }
        let d = period.map { $0 / S } ?? day
        v.append(Violation(constraint: k, courses: courses.map { instance.courses[$0].name }, day: d, slot: period.map { $0 % S },
                           room: room.map { instance.rooms[$0].name }, reason: reason, cost: cost))
        breakdown[k, default: 0] += cost
    }
    // Occupancy tables.
    var cp = Array(repeating: 0, count: C * P)          // lectures of course c in period p
    var rp = Array(repeating: [Int](), count: R * P)    // courses in room r at period p
    var count = Array(repeating: 0, count: C)
    var roomsOf = Array(repeating: Set<Int>(), count: C)
    for pl in timetable.placements {
        let p = pl.day * S + pl.slot
        cp[pl.course * P + p] += 1
        rp[p * R + pl.room].append(pl.course)
        count[pl.course] += 1
        roomsOf[pl.course].insert(pl.room)
        if instance.unavailablePeriods[pl.course].contains(p) {
            add(.availability, [pl.course], period: p, room: pl.room, "the course is unavailable in this period", 1)
        }
        if instance.roomUnavailablePeriods[pl.room].contains(p) {
            add(.roomAvailability, [pl.course], period: p, room: pl.room, "the room is unavailable in this period", 1)
        }
        let students = instance.courses[pl.course].students, cap = instance.rooms[pl.room].capacity
        if students > cap {
            add(.roomCapacity, [pl.course], period: p, room: pl.room, "\(students) students in a room with \(cap) seats", (students - cap) * instance.weights.roomCapacity)
        }
        if let pen = instance.periodPenalties[pl.course][p], pen > 0 {
            add(.preferredTime, [pl.course], period: p, room: pl.room, "lecture outside the preferred times", pen * instance.weights.preferredTime)
        }
    }
    for c in 0..<C {
        let course = instance.courses[c]
        if count[c] < course.lectures {
            add(.lectures, [c], "\(course.lectures - count[c]) of \(course.lectures) lectures are not scheduled", course.lectures - count[c])
        }
        if count[c] > course.lectures {
            add(.lectures, [c], "\(count[c] - course.lectures) lectures too many are scheduled", count[c] - course.lectures)
        }
        var days = 0
        for d in 0..<instance.days {
            var any = false
            for s in 0..<S where cp[c * P + d * S + s] > 0 { any = true }
            if any { days += 1 }
            for s in 0..<S where cp[c * P + d * S + s] > 1 {
                add(.lectures, [c], period: d * S + s, "\(cp[c * P + d * S + s]) lectures of the course in one period", cp[c * P + d * S + s] - 1)
            }
        }
        if days < course.minWorkingDays {
            add(.minWorkingDays, [c], "spread over \(days) days, minimum is \(course.minWorkingDays)", (course.minWorkingDays - days) * instance.weights.minWorkingDays)
        }
        if roomsOf[c].count > 1 {
            add(.roomStability, [c], "uses \(roomsOf[c].count) rooms: \(roomsOf[c].sorted().map { instance.rooms[$0].name }.joined(separator: ", "))", (roomsOf[c].count - 1) * instance.weights.roomStability)
        }
    }
    for p in 0..<P {
        for r in 0..<R where rp[p * R + r].count > 1 {
            add(.roomOccupancy, rp[p * R + r], period: p, room: r, "\(rp[p * R + r].count) lectures in one room", rp[p * R + r].count - 1)
        }
    }
    // Conflicts: one per pair of distinct conflicting courses per period.
    var conflict = Array(repeating: false, count: C * C)
    var why = [Int: String]()
    for q in instance.curricula {
        for a in q.courses { for b in q.courses where a != b {
            conflict[a * C + b] = true
            if why[a * C + b] == nil { why[a * C + b] = "both in curriculum \(q.name)" }
        } }
    }
    for a in 0..<C { for b in 0..<C where a != b && instance.courses[a].teacher == instance.courses[b].teacher {
        conflict[a * C + b] = true
        why[a * C + b] = "both taught by \(instance.courses[a].teacher)"
    } }
    for p in 0..<P {
        for a in 0..<C where cp[a * P + p] > 0 {
            for b in (a + 1)..<max(a + 1, C) where cp[b * P + p] > 0 && conflict[a * C + b] {
                add(.conflicts, [a, b], period: p, "lectures in the same period, \(why[a * C + b] ?? "conflicting")", 1)
            }
        }
    }
    // Curriculum compactness: a lecture with no lecture of the same curriculum in an adjacent slot of the same day.
    for q in instance.curricula {
        var n = Array(repeating: 0, count: P)
        for c in q.courses { for p in 0..<P { n[p] += cp[c * P + p] } }
        for p in 0..<P where n[p] > 0 {
            let s = p % S
            let before = s > 0 && n[p - 1] > 0, after = s < S - 1 && n[p + 1] > 0
            if !before && !after {
                let who = q.courses.filter { cp[$0 * P + p] > 0 }
                add(.curriculumCompactness, who, period: p, "isolated lecture of curriculum \(q.name)", n[p] * instance.weights.curriculumCompactness)
            }
        }
    }
    let hard = ConstraintKind.allCases.filter(\.isHard).reduce(0) { $0 + breakdown[$1]! }
    let soft = ConstraintKind.allCases.filter { !$0.isHard }.reduce(0) { $0 + breakdown[$1]! }
    return ValidationReport(hardViolations: hard, softCost: soft, breakdown: breakdown, violations: v)
}
