/// An error found while reading an instance (from `.ctt` text or from the JSON school model).
public struct InstanceError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The category of the problem.
    public enum Kind: String, Sendable, Hashable {
        /// Malformed text or JSON: a missing field, a wrong token, a bad number.
        case syntax
        /// A reference to a course, room, teacher, class or curriculum that does not exist.
        case unknownReference
        /// A size that cannot be right: negative numbers, more lectures than room-periods, out-of-range days.
        case impossibleSize
        /// A number above its limit (``InstanceLimits``): `field`, `value` and `limit` say which, how much and how much is allowed.
        case tooLarge
    }

    /// The category of the problem.
    public var kind: Kind
    /// The 1-based line number in a `.ctt` file, if the error comes from one.
    public var line: Int?
    /// The JSON path (for example `subjects[3].teacher`), if the error comes from the school model.
    public var path: String?
    /// A human-readable explanation.
    public var message: String
    /// For `.tooLarge`: the name of the number (a `.ctt` header such as `Days`, a JSON member, or `memory`).
    public var field: String?
    /// For `.tooLarge`: the number as written (it may not fit in an `Int`).
    public var value: String?
    /// For `.tooLarge`: the largest value allowed.
    public var limit: Int?

    /// Creates an error.
    public init(kind: Kind, line: Int? = nil, path: String? = nil, message: String) {
        self.kind = kind
        self.line = line
        self.path = path
        self.message = message
    }

    /// The message prefixed by the location.
    public var description: String {
        var prefix = ""
        if let line { prefix = "line \(line): " }
        if let path { prefix += "\(path): " }
        return "\(prefix)\(kind.rawValue): \(message)"
    }
}

extension Instance {
    /// Checks sizes and references of the instance; throws an `InstanceError` for the first problem found.
    public func checkConsistency() throws {
        // Products are saturated: this check runs on unchecked client input and must not trap.
        let periodCount = days.multipliedSaturated(periodsPerDay)
        let lectureCount = courses.reduce(0) { $0.addingSaturated($1.lectures) }
        if days <= 0 || periodsPerDay <= 0 {
            throw InstanceError(kind: .impossibleSize, message: "days (\(days)) and periods per day (\(periodsPerDay)) must be positive")
        }
        if periodsPerDay > 64 {
            throw InstanceError(kind: .impossibleSize, message: "at most 64 periods per day are supported, got \(periodsPerDay)")
        }
        for course in courses {
            if course.lectures < 0 || course.minWorkingDays < 0 || course.students < 0 {
                throw InstanceError(kind: .impossibleSize, message: "course \(course.name) has a negative number")
            }
            if course.lectures > periodCount {
                throw InstanceError(kind: .impossibleSize, message: "course \(course.name) has \(course.lectures) lectures but the week has only \(periodCount) periods")
            }
        }
        for room in rooms where room.capacity < 0 {
            throw InstanceError(kind: .impossibleSize, message: "room \(room.name) has a negative capacity")
        }
        if rooms.isEmpty && lectureCount > 0 {
            throw InstanceError(kind: .impossibleSize, message: "there are \(lectureCount) lectures but no rooms")
        }
        let roomPeriods = rooms.count.multipliedSaturated(periodCount)
        if lectureCount > roomPeriods {
            throw InstanceError(kind: .impossibleSize, message: "there are \(lectureCount) lectures but only \(roomPeriods) room-periods (\(rooms.count) rooms x \(periodCount) periods)")
        }
        for curriculum in curricula {
            for c in curriculum.courses where c < 0 || c >= courses.count {
                throw InstanceError(kind: .unknownReference, message: "curriculum \(curriculum.name) refers to course index \(c)")
            }
        }
        for sets in [unavailablePeriods, roomUnavailablePeriods] {
            for set in sets { for p in set where p < 0 || p >= periodCount {
                throw InstanceError(kind: .impossibleSize, message: "period \(p) is outside the week")
            } }
        }
        if unavailablePeriods.count != courses.count || periodPenalties.count != courses.count || roomUnavailablePeriods.count != rooms.count {
            throw InstanceError(kind: .impossibleSize, message: "per-course or per-room tables do not match the number of courses or rooms")
        }
    }
}
