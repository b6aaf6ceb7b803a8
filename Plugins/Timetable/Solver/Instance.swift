/// A course (ITC2007) or subject (school model): a number of weekly lectures taught by one teacher.
public struct Course: Sendable, Hashable, Codable {
    /// Identifier of the course, unique within the instance.
    public var name: String
    /// Identifier of the teacher; courses with the same teacher may not share a period.
    public var teacher: String
    /// Number of lectures to schedule each week.
    public var lectures: Int
    /// Minimum number of distinct days the lectures should be spread over (soft).
    public var minWorkingDays: Int
    /// Number of students attending; compared with room capacities (soft).
    public var students: Int

    /// Creates a course.
    public init(name: String, teacher: String, lectures: Int, minWorkingDays: Int, students: Int) {
        self.name = name
        self.teacher = teacher
        self.lectures = lectures
        self.minWorkingDays = minWorkingDays
        self.students = students
    }
}

/// A room with a seating capacity.
public struct Room: Sendable, Hashable, Codable {
    /// Identifier of the room, unique within the instance.
    public var name: String
    /// Number of seats.
    public var capacity: Int

    /// Creates a room.
    public init(name: String, capacity: Int) {
        self.name = name
        self.capacity = capacity
    }
}

/// A curriculum (a school class): a group of courses whose lectures may not overlap.
public struct Curriculum: Sendable, Hashable, Codable {
    /// Identifier of the curriculum.
    public var name: String
    /// Indices into `Instance.courses`.
    public var courses: [Int]

    /// Creates a curriculum.
    public init(name: String, courses: [Int]) {
        self.name = name
        self.courses = courses
    }
}

/// A problem instance: the internal model shared by the `.ctt` parser, the JSON school model and the solver.
///
/// Periods are numbered `day * periodsPerDay + slot`.
public struct Instance: Sendable, Hashable {
    /// Name of the instance.
    public var name: String
    /// Number of teaching days per week.
    public var days: Int
    /// Number of timeslots per day.
    public var periodsPerDay: Int
    /// Courses to schedule.
    public var courses: [Course]
    /// Available rooms.
    public var rooms: [Room]
    /// Curricula (groups of courses that conflict with each other).
    public var curricula: [Curriculum]
    /// For each course, the set of periods in which it may not be scheduled (hard).
    public var unavailablePeriods: [Set<Int>]
    /// For each room, the set of periods in which it may not be used (hard).
    public var roomUnavailablePeriods: [Set<Int>]
    /// For each course, an extra unweighted penalty per lecture placed in a given period (soft, weighted by `Weights.preferredTime`).
    public var periodPenalties: [[Int: Int]]
    /// Weights of the soft constraints.
    public var weights: Weights

    /// Creates an instance; missing per-course and per-room tables are filled with empty ones.
    public init(name: String, days: Int, periodsPerDay: Int, courses: [Course], rooms: [Room],
                curricula: [Curriculum], unavailablePeriods: [Set<Int>]? = nil,
                roomUnavailablePeriods: [Set<Int>]? = nil, periodPenalties: [[Int: Int]]? = nil,
                weights: Weights = .itc2007) {
        self.name = name
        self.days = days
        self.periodsPerDay = periodsPerDay
        self.courses = courses
        self.rooms = rooms
        self.curricula = curricula
        self.unavailablePeriods = unavailablePeriods ?? Array(repeating: [], count: courses.count)
        self.roomUnavailablePeriods = roomUnavailablePeriods ?? Array(repeating: [], count: rooms.count)
        self.periodPenalties = periodPenalties ?? Array(repeating: [:], count: courses.count)
        self.weights = weights
    }

    /// Number of periods in the week (`days * periodsPerDay`).
    public var periodCount: Int { days * periodsPerDay }

    /// Total number of lectures over all courses.
    public var lectureCount: Int { courses.reduce(0) { $0 + $1.lectures } }

    /// The period index of a (day, slot) pair.
    public func period(day: Int, slot: Int) -> Int { day * periodsPerDay + slot }

    /// The (day, slot) pair of a period index.
    public func daySlot(of period: Int) -> (day: Int, slot: Int) { (period / periodsPerDay, period % periodsPerDay) }

    /// Index of the course with the given name, if any.
    public func courseIndex(named name: String) -> Int? { courses.firstIndex { $0.name == name } }

    /// Index of the room with the given name, if any.
    public func roomIndex(named name: String) -> Int? { rooms.firstIndex { $0.name == name } }
}
