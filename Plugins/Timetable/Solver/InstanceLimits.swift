/// Upper bounds on the size of an instance, checked while it is read and before anything is allocated
/// from its numbers.
///
/// Every number an instance carries comes from a client, so every one of them is bounded before it feeds an
/// allocation or a product: the week's shape (days, periods per day), the counts of courses, rooms,
/// curricula, teachers and unavailability entries, the lectures, the students and seats, the weights. With
/// these bounds no product or cost sum the solver computes can overflow. On top of them, ``maxModelBytes``
/// bounds the memory the solver's model of one job needs (see ``ModelFootprint``), which the dimensions
/// alone do not: 28 days x 64 periods with 50 000 lectures is within every bound and would need gigabytes.
///
/// The defaults (``standard``) hold every ITC2007 instance and school timetables far beyond real ones.
public struct InstanceLimits: Sendable, Hashable {
    /// Teaching days per week (a four-week rotation at most). Default 28.
    public var maxDays = 28
    /// Timeslots per day; the solver keeps a day in a 64-bit mask, so never more than 64. Default 64.
    public var maxPeriodsPerDay = 64
    /// Courses (ITC2007) or subjects (school model). Default 5 000.
    public var maxCourses = 5_000
    /// Rooms. Default 2 000.
    public var maxRooms = 2_000
    /// Curricula (ITC2007) or classes (school model). Default 5 000.
    public var maxCurricula = 5_000
    /// Teachers declared by a school model. Default 5 000.
    public var maxTeachers = 5_000
    /// Unavailability entries (`.ctt` constraint lines, or day/slot entries of a school model). Default 200 000.
    public var maxConstraints = 200_000
    /// Lectures over all courses. Default 50 000.
    public var maxLectures = 50_000
    /// Course memberships over all curricula (a class's subjects); the conflict tables grow with their
    /// squares. Default 50 000.
    public var maxMemberships = 50_000
    /// Students of a course and seats of a room. Default 100 000.
    public var maxHeadcount = 100_000
    /// Each constraint weight, from 0. Default 1 000.
    public var maxWeight = 1_000
    /// The estimated memory of one job's model (``ModelFootprint/bytes``). Default 512 MiB.
    public var maxModelBytes = 512 << 20

    /// The default limits.
    public static let standard = InstanceLimits()

    /// Creates the default limits; change single members to tighten or widen them.
    public init() {}

    /// Throws ``InstanceError`` of kind `.tooLarge` naming `field`, `value` and `limit` unless `value <= limit`.
    /// - Parameters:
    ///   - field: the name of the number as the client wrote it (a `.ctt` header, a JSON member).
    ///   - line: the `.ctt` line it is on, if any.
    ///   - path: the JSON path it is at, if any.
    public static func check(_ value: Int, atMost limit: Int, field: String, line: Int? = nil, path: String? = nil) throws {
        guard value > limit else { return }
        throw InstanceError.tooLarge(field: field, value: String(value), limit: limit, line: line, path: path)
    }
}

extension InstanceError {
    /// A number above its limit: `value` is the number as written (it may not fit in an `Int`).
    public static func tooLarge(field: String, value: String, limit: Int, line: Int? = nil, path: String? = nil,
                                reason: String? = nil) -> InstanceError {
        var error = InstanceError(kind: .tooLarge, line: line, path: path,
                                  message: reason ?? "\(field) is \(value), the limit is \(limit)")
        error.field = field
        error.value = value
        error.limit = limit
        return error
    }
}

extension Instance {
    /// Checks every number of the instance against `limits` and the model's estimated memory for `threads`
    /// portfolio runs against `limits.maxModelBytes`; throws ``InstanceError`` of kind `.tooLarge` naming the
    /// first number above its limit. Call it (after the readers' own checks) before solving an instance that
    /// comes from a client: ``solve(_:options:cancellation:progress:)`` allocates from these numbers.
    public func checkLimits(_ limits: InstanceLimits = .standard, threads: Int = 1) throws {
        try InstanceLimits.check(days, atMost: limits.maxDays, field: "days")
        try InstanceLimits.check(periodsPerDay, atMost: limits.maxPeriodsPerDay, field: "periodsPerDay")
        try InstanceLimits.check(courses.count, atMost: limits.maxCourses, field: "courses")
        try InstanceLimits.check(rooms.count, atMost: limits.maxRooms, field: "rooms")
        try InstanceLimits.check(curricula.count, atMost: limits.maxCurricula, field: "curricula")
        try InstanceLimits.check(Set(courses.map(\.teacher)).count, atMost: limits.maxTeachers, field: "teachers")
        let entries = (unavailablePeriods + roomUnavailablePeriods).reduce(0) { $0.addingSaturated($1.count) }
        try InstanceLimits.check(entries, atMost: limits.maxConstraints, field: "constraints")
        try InstanceLimits.check(courses.reduce(0) { $0.addingSaturated($1.lectures) }, atMost: limits.maxLectures, field: "lectures")
        try InstanceLimits.check(curricula.reduce(0) { $0.addingSaturated($1.courses.count) }, atMost: limits.maxMemberships,
                                 field: "curriculum memberships")
        for course in courses {
            try InstanceLimits.check(course.students, atMost: limits.maxHeadcount, field: "students of course \(course.name)")
            try InstanceLimits.check(course.minWorkingDays, atMost: limits.maxDays, field: "minimum working days of course \(course.name)")
        }
        for room in rooms {
            try InstanceLimits.check(room.capacity, atMost: limits.maxHeadcount, field: "capacity of room \(room.name)")
        }
        try weights.checkLimits(limits)
        for penalties in periodPenalties {
            for value in penalties.values {
                try InstanceLimits.check(abs(value == .min ? .max : value), atMost: limits.maxWeight, field: "period penalty")
            }
        }
        try ModelFootprint(self, threads: threads).check(limits)
    }
}

extension Weights {
    /// Throws ``InstanceError`` for a weight below 0 (`.impossibleSize`) or above `limits.maxWeight` (`.tooLarge`),
    /// naming it; `pathPrefix` roots the JSON path (`weights.`).
    public func checkLimits(_ limits: InstanceLimits, pathPrefix: String? = nil) throws {
        let named = [("roomCapacity", roomCapacity), ("minWorkingDays", minWorkingDays), ("curriculumCompactness", curriculumCompactness),
                     ("roomStability", roomStability), ("preferredTime", preferredTime)]
        for (name, value) in named {
            let path = pathPrefix.map { $0 + name }
            if value < 0 {
                throw InstanceError(kind: .impossibleSize, path: path, message: "weight \(name) must not be negative, found \(value)")
            }
            try InstanceLimits.check(value, atMost: limits.maxWeight, field: "weights.\(name)", path: path)
        }
    }
}
