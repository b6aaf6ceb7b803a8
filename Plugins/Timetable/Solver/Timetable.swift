/// One scheduled lecture: a course in a room at a (day, slot).
public struct Placement: Sendable, Hashable, Codable {
    /// Index into `Instance.courses`.
    public var course: Int
    /// Index into `Instance.rooms`.
    public var room: Int
    /// Day, from 0.
    public var day: Int
    /// Timeslot within the day, from 0.
    public var slot: Int

    /// Creates a placement.
    public init(course: Int, room: Int, day: Int, slot: Int) {
        self.course = course
        self.room = room
        self.day = day
        self.slot = slot
    }
}

/// A (possibly partial) timetable: the list of scheduled lectures. Lectures that are missing are unscheduled.
public struct Timetable: Sendable, Hashable, Codable {
    /// The scheduled lectures, ordered by course and then by lecture.
    public var placements: [Placement]

    /// Creates a timetable from placements.
    public init(placements: [Placement]) {
        self.placements = placements
    }
}
