/// Parser for the ITC2007 Track 3 `.ctt` format.
public enum CTTParser {
    private struct Line {
        let number: Int
        let tokens: [Substring]
    }

    /// Parses `.ctt` text; throws `InstanceError` with the line number of syntax errors, unknown references
    /// and numbers above `limits` (each number is checked as it is read, before anything is sized from it).
    public static func parse(_ text: String, limits: InstanceLimits = .standard) throws -> Instance {
        var lines: [Line] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let tokens = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if !tokens.isEmpty { lines.append(Line(number: number, tokens: tokens)) }
        }
        var index = 0
        func next(_ what: String) throws -> Line {
            guard index < lines.count else {
                throw InstanceError(kind: .syntax, line: number, message: "unexpected end of file, expected \(what)")
            }
            defer { index += 1 }
            return lines[index]
        }
        /// A non-negative integer of at most `limit`; digits too many for an `Int` are too large, not a syntax error.
        func int(_ token: Substring, _ line: Line, _ what: String, atMost limit: Int) throws -> Int {
            guard let value = Int(token) else {
                let digits = token.first == "-" ? token.dropFirst() : token[...]
                if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
                    if token.first == "-" {
                        throw InstanceError(kind: .impossibleSize, line: line.number, message: "\(what) must not be negative, found \(token)")
                    }
                    throw InstanceError.tooLarge(field: what, value: String(token), limit: limit, line: line.number)
                }
                throw InstanceError(kind: .syntax, line: line.number, message: "expected an integer for \(what), found '\(token)'")
            }
            if value < 0 {
                throw InstanceError(kind: .impossibleSize, line: line.number, message: "\(what) must not be negative, found \(value)")
            }
            try InstanceLimits.check(value, atMost: limit, field: what, line: line.number)
            return value
        }
        func header(_ key: String) throws -> (Line, Substring) {
            let line = try next("'\(key):'")
            guard line.tokens.count == 2, line.tokens[0] == "\(key):" else {
                throw InstanceError(kind: .syntax, line: line.number, message: "expected '\(key): <value>', found '\(line.tokens.joined(separator: " "))'")
            }
            return (line, line.tokens[1])
        }
        func section(_ name: String) throws {
            let line = try next("'\(name):'")
            guard line.tokens.count == 1, line.tokens[0] == "\(name):" else {
                throw InstanceError(kind: .syntax, line: line.number, message: "expected section '\(name):', found '\(line.tokens.joined(separator: " "))'")
            }
        }
        func fields(_ line: Line, _ count: Int, _ what: String) throws {
            guard line.tokens.count == count else {
                throw InstanceError(kind: .syntax, line: line.number, message: "a \(what) line needs \(count) fields, found \(line.tokens.count)")
            }
        }

        let name = String(try header("Name").1)
        let (cl, cv) = try header("Courses"); let courseCount = try int(cv, cl, "Courses", atMost: limits.maxCourses)
        let (rl, rv) = try header("Rooms"); let roomCount = try int(rv, rl, "Rooms", atMost: limits.maxRooms)
        let (dl, dv) = try header("Days"); let days = try int(dv, dl, "Days", atMost: limits.maxDays)
        let (pl, pv) = try header("Periods_per_day"); let ppd = try int(pv, pl, "Periods_per_day", atMost: min(64, limits.maxPeriodsPerDay))
        let (ql, qv) = try header("Curricula"); let curriculumCount = try int(qv, ql, "Curricula", atMost: limits.maxCurricula)
        let (ul, uv) = try header("Constraints"); let constraintCount = try int(uv, ul, "Constraints", atMost: limits.maxConstraints)
        if days == 0 || ppd == 0 {
            throw InstanceError(kind: .impossibleSize, line: days == 0 ? dl.number : pl.number, message: "days and periods per day must be positive")
        }
        let periods = days.multipliedSaturated(ppd)

        try section("COURSES")
        var courses: [Course] = []
        var courseIndex: [Substring: Int] = [:]
        var total = 0
        var courseLines: [Int] = []
        for _ in 0..<courseCount {
            let line = try next("a course line")
            try fields(line, 5, "course")
            let t = line.tokens
            if courseIndex[t[0]] != nil {
                throw InstanceError(kind: .syntax, line: line.number, message: "course \(t[0]) is declared twice")
            }
            let course = Course(name: String(t[0]), teacher: String(t[1]),
                                lectures: try int(t[2], line, "the number of lectures", atMost: limits.maxLectures),
                                minWorkingDays: try int(t[3], line, "the minimum working days", atMost: limits.maxDays),
                                students: try int(t[4], line, "the number of students", atMost: limits.maxHeadcount))
            if course.lectures > periods {
                throw InstanceError(kind: .impossibleSize, line: line.number, message: "course \(course.name) has \(course.lectures) lectures but the week has only \(periods) periods")
            }
            try InstanceLimits.check(total.addingSaturated(course.lectures), atMost: limits.maxLectures, field: "lectures", line: line.number)
            courseIndex[t[0]] = courses.count
            courses.append(course)
            courseLines.append(line.number)
            total += course.lectures
        }
        try section("ROOMS")
        var rooms: [Room] = []
        var roomNames = Set<Substring>()
        for _ in 0..<roomCount {
            let line = try next("a room line")
            try fields(line, 2, "room")
            if !roomNames.insert(line.tokens[0]).inserted {
                throw InstanceError(kind: .syntax, line: line.number, message: "room \(line.tokens[0]) is declared twice")
            }
            rooms.append(Room(name: String(line.tokens[0]), capacity: try int(line.tokens[1], line, "the room capacity", atMost: limits.maxHeadcount)))
        }
        let roomPeriods = rooms.count.multipliedSaturated(periods)
        if total > roomPeriods {
            throw InstanceError(kind: .impossibleSize, line: courseLines.last, message: "there are \(total) lectures but only \(roomPeriods) room-periods (\(rooms.count) rooms x \(periods) periods)")
        }
        try section("CURRICULA")
        var curricula: [Curriculum] = []
        var memberships = 0
        for _ in 0..<curriculumCount {
            let line = try next("a curriculum line")
            guard line.tokens.count >= 2 else {
                throw InstanceError(kind: .syntax, line: line.number, message: "a curriculum line needs a name and a course count")
            }
            let n = try int(line.tokens[1], line, "the number of courses of a curriculum", atMost: courseCount)
            try fields(line, n + 2, "curriculum")
            var members: [Int] = []
            for token in line.tokens[2...] {
                guard let c = courseIndex[token] else {
                    throw InstanceError(kind: .unknownReference, line: line.number, message: "curriculum \(line.tokens[0]) refers to unknown course \(token)")
                }
                members.append(c)
            }
            memberships = memberships.addingSaturated(members.count)
            try InstanceLimits.check(memberships, atMost: limits.maxMemberships, field: "curriculum memberships", line: line.number)
            curricula.append(Curriculum(name: String(line.tokens[0]), courses: members))
        }
        try section("UNAVAILABILITY_CONSTRAINTS")
        var unavailable = Array(repeating: Set<Int>(), count: courses.count)
        for _ in 0..<constraintCount {
            let line = try next("an unavailability line")
            try fields(line, 3, "unavailability")
            guard let c = courseIndex[line.tokens[0]] else {
                throw InstanceError(kind: .unknownReference, line: line.number, message: "unavailability constraint refers to unknown course \(line.tokens[0])")
            }
            let day = try int(line.tokens[1], line, "the day", atMost: Int.max), slot = try int(line.tokens[2], line, "the period", atMost: Int.max)
            guard day < days, slot < ppd else {
                throw InstanceError(kind: .impossibleSize, line: line.number, message: "day \(day) period \(slot) is outside the \(days)x\(ppd) week")
            }
            unavailable[c].insert(day * ppd + slot)
        }
        let end = try next("'END.'")
        guard end.tokens == ["END."] else {
            throw InstanceError(kind: .syntax, line: end.number, message: "expected 'END.', found '\(end.tokens.joined(separator: " "))'")
        }
        if index < lines.count {
            throw InstanceError(kind: .syntax, line: lines[index].number, message: "unexpected text after 'END.'")
        }
        let instance = Instance(name: name, days: days, periodsPerDay: ppd, courses: courses, rooms: rooms,
                                curricula: curricula, unavailablePeriods: unavailable)
        return instance
    }
}
