/// An estimate, from an instance's dimensions alone, of the memory the solver needs for one job: the compiled
/// problem, the search states of every portfolio run (each keeps a working and a best copy), the
/// constructor's tabu table (one entry per lecture and period: the largest term), and the validator's
/// tables. Computed before anything is allocated, so a job that cannot fit is refused instead of growing
/// the process until it dies.
///
/// The arithmetic saturates at `Int.max` instead of trapping, so the estimate is safe on any dimensions.
public struct ModelFootprint: Sendable, Hashable {
    /// Days per week.
    public var days: Int
    /// Periods per day.
    public var periodsPerDay: Int
    /// Courses.
    public var courses: Int
    /// Rooms.
    public var rooms: Int
    /// Curricula.
    public var curricula: Int
    /// Distinct teachers (at most the courses).
    public var teachers: Int
    /// Lectures over all courses.
    public var lectures: Int
    /// Course memberships over all curricula.
    public var curriculumMemberships: Int
    /// Periods carrying a preference penalty over all courses (school model `preferred`).
    public var penalizedPeriods: Int
    /// Parallel portfolio runs (the job's `threads`).
    public var threads: Int

    /// The footprint of `instance` solved with `threads` runs.
    public init(_ instance: Instance, threads: Int) {
        days = instance.days
        periodsPerDay = instance.periodsPerDay
        courses = instance.courses.count
        rooms = instance.rooms.count
        curricula = instance.curricula.count
        teachers = Set(instance.courses.map(\.teacher)).count
        lectures = instance.courses.reduce(0) { $0.addingSaturated($1.lectures) }
        curriculumMemberships = instance.curricula.reduce(0) { $0.addingSaturated($1.courses.count) }
        penalizedPeriods = instance.periodPenalties.reduce(0) { $0.addingSaturated($1.count) }
        self.threads = threads
    }

    /// Creates a footprint from raw dimensions.
    public init(days: Int, periodsPerDay: Int, courses: Int, rooms: Int, curricula: Int, teachers: Int,
                lectures: Int, curriculumMemberships: Int = 0, penalizedPeriods: Int = 0, threads: Int = 1) {
        self.days = days; self.periodsPerDay = periodsPerDay; self.courses = courses; self.rooms = rooms
        self.curricula = curricula; self.teachers = teachers; self.lectures = lectures
        self.curriculumMemberships = curriculumMemberships; self.penalizedPeriods = penalizedPeriods; self.threads = threads
    }

    /// The estimated bytes (saturating at `Int.max`).
    public var bytes: Int {
        let periods = days.multipliedSaturated(periodsPerDay)
        let word = 8
        func sum(_ terms: Int...) -> Int { terms.reduce(0) { $0.addingSaturated($1) } }
        func product(_ factors: Int...) -> Int { factors.reduce(1) { $0.multipliedSaturated($1) } }
        // Problem: availability (1) and penalty (8) per course-period, blocked room-periods (1), the
        // conflict matrix (1) and neighbour lists (8) per course pair, per-lecture and per-membership lists,
        // and the instance's penalty dictionaries (~48 per entry).
        let problem = sum(product(courses, periods, 9), product(periods, rooms), product(courses, courses, 9),
                          product(lectures, word), product(curriculumMemberships, word * 2), product(penalizedPeriods, 48))
        // One search state: lecture per room-period, free rooms per period, day masks of courses, curricula
        // and teachers, course-room counts, four per-lecture arrays.
        let state = sum(product(periods, rooms, word), product(periods, word),
                        product(sum(courses, curricula, teachers), days, word), product(courses, rooms, word),
                        product(lectures, word * 4))
        // One run: a working and a best state, the tabu table (per lecture-period) and the annealer's stamps.
        let run = sum(product(state, 2), product(lectures, periods, word), product(lectures, word))
        // The validator: lectures per course-period, courses per room-period (an array each), the conflict
        // matrix with its reasons (17 per pair).
        let validator = sum(product(courses, periods, word), product(rooms, periods, word * 3), product(courses, courses, 18))
        return sum(problem, product(run, max(1, threads)), validator)
    }

    /// Throws ``InstanceError`` (`.tooLarge`, field `memory`) when ``bytes`` exceeds `limits.maxModelBytes`.
    public func check(_ limits: InstanceLimits) throws {
        let needed = bytes
        guard needed > limits.maxModelBytes else { return }
        throw InstanceError.tooLarge(
            field: "memory", value: String(needed), limit: limits.maxModelBytes,
            reason: "solving needs about \(Self.mebibytes(needed)) MiB (\(days) days x \(periodsPerDay) periods, \(rooms) rooms, "
                + "\(courses) courses, \(lectures) lectures, \(max(1, threads)) thread(s)), the limit is \(Self.mebibytes(limits.maxModelBytes)) MiB; "
                + "use fewer days, periods, rooms or lectures, or fewer threads")
    }

    private static func mebibytes(_ bytes: Int) -> Int { (bytes >> 20) + (bytes & ((1 << 20) - 1) == 0 ? 0 : 1) }
}

extension Int {
    /// `self + other`, or `Int.max` / `Int.min` when that overflows.
    func addingSaturated(_ other: Int) -> Int {
        let (result, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : result
    }

    /// `self * other`, or `Int.max` / `Int.min` when that overflows.
    func multipliedSaturated(_ other: Int) -> Int {
        let (result, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? ((self < 0) != (other < 0) ? .min : .max) : result
    }
}
