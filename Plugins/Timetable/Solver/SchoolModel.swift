import Foundation

/// A school timetabling problem as JSON: classes (curricula), teachers, subjects with weekly lessons (courses),
/// rooms, the week's shape, unavailabilities, preferred times and constraint weights.
public struct SchoolModel: Codable, Sendable, Hashable {
    /// A class (group of students); its subjects may not overlap. Maps to a curriculum.
    public struct SchoolClass: Codable, Sendable, Hashable {
        /// Identifier of the class.
        public var id: String
        /// Creates a class.
        public init(id: String) { self.id = id }
    }

    /// A teacher; two subjects of one teacher may not overlap.
    public struct Teacher: Codable, Sendable, Hashable {
        /// Identifier of the teacher.
        public var id: String
        /// Times the teacher cannot teach (hard).
        public var unavailable: [DaySlot]?
        /// Creates a teacher.
        public init(id: String, unavailable: [DaySlot]? = nil) { self.id = id; self.unavailable = unavailable }
    }

    /// A subject taught to one or more classes with a number of weekly lessons. Maps to a course.
    public struct Subject: Codable, Sendable, Hashable {
        /// Identifier of the subject.
        public var id: String
        /// Identifier of the teacher.
        public var teacher: String
        /// Identifiers of the classes attending.
        public var classes: [String]
        /// Lessons per week.
        public var lessonsPerWeek: Int
        /// Minimum number of distinct days (soft); defaults to 1.
        public var minDays: Int?
        /// Number of students (compared with room capacity); defaults to 0.
        public var students: Int?
        /// Times the subject cannot be taught (hard).
        public var unavailable: [DaySlot]?
        /// Preferred times; a lesson elsewhere costs `weights.preferredTime` (soft). Empty or absent: no preference.
        public var preferred: [DaySlot]?
        /// Creates a subject.
        public init(id: String, teacher: String, classes: [String], lessonsPerWeek: Int, minDays: Int? = nil,
                    students: Int? = nil, unavailable: [DaySlot]? = nil, preferred: [DaySlot]? = nil) {
            self.id = id; self.teacher = teacher; self.classes = classes; self.lessonsPerWeek = lessonsPerWeek
            self.minDays = minDays; self.students = students; self.unavailable = unavailable; self.preferred = preferred
        }
    }

    /// A room with a capacity.
    public struct SchoolRoom: Codable, Sendable, Hashable {
        /// Identifier of the room.
        public var id: String
        /// Number of seats.
        public var capacity: Int
        /// Times the room cannot be used (hard).
        public var unavailable: [DaySlot]?
        /// Creates a room.
        public init(id: String, capacity: Int, unavailable: [DaySlot]? = nil) { self.id = id; self.capacity = capacity; self.unavailable = unavailable }
    }

    /// Name of the school or timetable.
    public var name: String
    /// Teaching days per week.
    public var days: Int
    /// Timeslots per day.
    public var periodsPerDay: Int
    /// Classes.
    public var classes: [SchoolClass]
    /// Teachers.
    public var teachers: [Teacher]
    /// Subjects.
    public var subjects: [Subject]
    /// Rooms.
    public var rooms: [SchoolRoom]
    /// Constraint weights; absent keys take the ITC2007 defaults.
    public var weights: Weights?

    /// Creates a school model.
    public init(name: String, days: Int, periodsPerDay: Int, classes: [SchoolClass], teachers: [Teacher],
                subjects: [Subject], rooms: [SchoolRoom], weights: Weights? = nil) {
        self.name = name; self.days = days; self.periodsPerDay = periodsPerDay; self.classes = classes
        self.teachers = teachers; self.subjects = subjects; self.rooms = rooms; self.weights = weights
    }

    /// Decodes JSON; decoding failures become `InstanceError` (kind `.syntax`) carrying the JSON path.
    public static func decode(_ data: Data) throws -> SchoolModel {
        do {
            return try JSONDecoder().decode(SchoolModel.self, from: data)
        } catch let error as DecodingError {
            func path(_ keys: [CodingKey]) -> String {
                var s = ""
                for k in keys {
                    if let i = k.intValue { s += "[\(i)]" } else { s += s.isEmpty ? k.stringValue : ".\(k.stringValue)" }
                }
                return s.isEmpty ? "$" : s
            }
            switch error {
            case .keyNotFound(let key, let ctx):
                throw InstanceError(kind: .syntax, path: path(ctx.codingPath + [key]), message: "missing field \(key.stringValue)")
            case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
                throw InstanceError(kind: .syntax, path: path(ctx.codingPath), message: ctx.debugDescription)
            @unknown default:
                throw InstanceError(kind: .syntax, path: "$", message: "\(error)")
            }
        }
    }

    /// Encodes the model as pretty-printed JSON.
    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    /// Maps the model to the solver's instance; throws `InstanceError` with the JSON path of unknown
    /// references, duplicates, impossible sizes and numbers above `limits` (checked, with the model's estimated
    /// memory for `threads` runs, before anything is sized from them).
    public func makeInstance(limits: InstanceLimits = .standard, threads: Int = 1) throws -> Instance {
        guard days > 0 else { throw InstanceError(kind: .impossibleSize, path: "days", message: "must be positive") }
        guard periodsPerDay > 0 else { throw InstanceError(kind: .impossibleSize, path: "periodsPerDay", message: "must be positive") }
        try checkLimits(limits, threads: threads)
        func period(_ s: DaySlot, _ path: String) throws -> Int {
            guard s.day >= 0, s.day < days, s.slot >= 0, s.slot < periodsPerDay else {
                throw InstanceError(kind: .impossibleSize, path: path, message: "day \(s.day) slot \(s.slot) is outside the \(days)x\(periodsPerDay) week")
            }
            return s.day * periodsPerDay + s.slot
        }
        func unique(_ ids: [String], _ field: String) throws -> [String: Int] {
            var m: [String: Int] = [:]
            for (i, id) in ids.enumerated() {
                if m[id] != nil { throw InstanceError(kind: .syntax, path: "\(field)[\(i)].id", message: "duplicate id \(id)") }
                m[id] = i
            }
            return m
        }
        let classIndex = try unique(classes.map(\.id), "classes")
        let teacherIndex = try unique(teachers.map(\.id), "teachers")
        _ = try unique(subjects.map(\.id), "subjects")
        _ = try unique(rooms.map(\.id), "rooms")
        var teacherOff = Array(repeating: Set<Int>(), count: teachers.count)
        for (t, teacher) in teachers.enumerated() {
            for (k, s) in (teacher.unavailable ?? []).enumerated() { teacherOff[t].insert(try period(s, "teachers[\(t)].unavailable[\(k)]")) }
        }
        var courses: [Course] = [], unavailable: [Set<Int>] = [], penalties: [[Int: Int]] = []
        var members = Array(repeating: [Int](), count: classes.count)
        let P = days * periodsPerDay
        for (i, s) in subjects.enumerated() {
            guard let t = teacherIndex[s.teacher] else {
                throw InstanceError(kind: .unknownReference, path: "subjects[\(i)].teacher", message: "unknown teacher \(s.teacher)")
            }
            for (k, cl) in s.classes.enumerated() {
                guard let q = classIndex[cl] else {
                    throw InstanceError(kind: .unknownReference, path: "subjects[\(i)].classes[\(k)]", message: "unknown class \(cl)")
                }
                members[q].append(i)
            }
            guard s.lessonsPerWeek >= 0, s.lessonsPerWeek <= P else {
                throw InstanceError(kind: .impossibleSize, path: "subjects[\(i)].lessonsPerWeek", message: "\(s.lessonsPerWeek) lessons do not fit in a week of \(P) periods")
            }
            guard (s.minDays ?? 1) >= 0, (s.students ?? 0) >= 0 else {
                throw InstanceError(kind: .impossibleSize, path: "subjects[\(i)]", message: "minDays and students must not be negative")
            }
            var off = teacherOff[t]
            for (k, u) in (s.unavailable ?? []).enumerated() { off.insert(try period(u, "subjects[\(i)].unavailable[\(k)]")) }
            var pen: [Int: Int] = [:]
            if let pref = s.preferred, !pref.isEmpty {
                var ok = Set<Int>()
                for (k, u) in pref.enumerated() { ok.insert(try period(u, "subjects[\(i)].preferred[\(k)]")) }
                for p in 0..<P where !ok.contains(p) { pen[p] = 1 }
            }
            courses.append(Course(name: s.id, teacher: s.teacher, lectures: s.lessonsPerWeek,
                                  minWorkingDays: min(s.minDays ?? 1, s.lessonsPerWeek), students: s.students ?? 0))
            unavailable.append(off); penalties.append(pen)
        }
        var roomList: [Room] = [], roomOff: [Set<Int>] = []
        for (r, room) in rooms.enumerated() {
            guard room.capacity >= 0 else { throw InstanceError(kind: .impossibleSize, path: "rooms[\(r)].capacity", message: "must not be negative") }
            var off = Set<Int>()
            for (k, u) in (room.unavailable ?? []).enumerated() { off.insert(try period(u, "rooms[\(r)].unavailable[\(k)]")) }
            roomList.append(Room(name: room.id, capacity: room.capacity)); roomOff.append(off)
        }
        let curricula = classes.enumerated().map { Curriculum(name: $0.element.id, courses: members[$0.offset]) }
        let inst = Instance(name: name, days: days, periodsPerDay: periodsPerDay, courses: courses, rooms: roomList,
                            curricula: curricula, unavailablePeriods: unavailable, roomUnavailablePeriods: roomOff,
                            periodPenalties: penalties, weights: weights ?? .itc2007)
        do { try inst.checkConsistency() } catch var e as InstanceError {
            if e.path == nil { e.path = "$" }
            throw e
        }
        return inst
    }
}

extension SchoolModel {
    /// Checks every number and count of the model against `limits`, and the estimated memory of its model for
    /// `threads` runs, before any table is sized from them; errors carry the JSON path.
    func checkLimits(_ limits: InstanceLimits, threads: Int) throws {
        try InstanceLimits.check(days, atMost: limits.maxDays, field: "days", path: "days")
        try InstanceLimits.check(periodsPerDay, atMost: min(64, limits.maxPeriodsPerDay), field: "periodsPerDay", path: "periodsPerDay")
        try InstanceLimits.check(classes.count, atMost: limits.maxCurricula, field: "classes", path: "classes")
        try InstanceLimits.check(teachers.count, atMost: limits.maxTeachers, field: "teachers", path: "teachers")
        try InstanceLimits.check(subjects.count, atMost: limits.maxCourses, field: "subjects", path: "subjects")
        try InstanceLimits.check(rooms.count, atMost: limits.maxRooms, field: "rooms", path: "rooms")
        var lessons = 0, entries = 0, memberships = 0, preferring = 0
        for (i, s) in subjects.enumerated() {
            try InstanceLimits.check(s.lessonsPerWeek, atMost: limits.maxLectures, field: "lessonsPerWeek", path: "subjects[\(i)].lessonsPerWeek")
            try InstanceLimits.check(s.students ?? 0, atMost: limits.maxHeadcount, field: "students", path: "subjects[\(i)].students")
            lessons = lessons.addingSaturated(max(0, s.lessonsPerWeek))
            entries = entries.addingSaturated((s.unavailable?.count ?? 0).addingSaturated(s.preferred?.count ?? 0))
            memberships = memberships.addingSaturated(s.classes.count)
            if !(s.preferred ?? []).isEmpty { preferring += 1 }
        }
        try InstanceLimits.check(lessons, atMost: limits.maxLectures, field: "lessons", path: "subjects")
        try InstanceLimits.check(memberships, atMost: limits.maxMemberships, field: "class memberships", path: "subjects")
        for (r, room) in rooms.enumerated() {
            try InstanceLimits.check(room.capacity, atMost: limits.maxHeadcount, field: "capacity", path: "rooms[\(r)].capacity")
            entries = entries.addingSaturated(room.unavailable?.count ?? 0)
        }
        for teacher in teachers { entries = entries.addingSaturated(teacher.unavailable?.count ?? 0) }
        try InstanceLimits.check(entries, atMost: limits.maxConstraints, field: "unavailable and preferred entries", path: "$")
        if let weights { try weights.checkLimits(limits, pathPrefix: "weights.") }
        let footprint = ModelFootprint(days: days, periodsPerDay: periodsPerDay, courses: subjects.count, rooms: rooms.count,
                                       curricula: classes.count, teachers: teachers.count, lectures: lessons,
                                       curriculumMemberships: memberships,
                                       penalizedPeriods: preferring.multipliedSaturated(days.multipliedSaturated(periodsPerDay)),
                                       threads: threads)
        do { try footprint.check(limits) } catch var error as InstanceError {
            error.path = "$"
            throw error
        }
    }
}
