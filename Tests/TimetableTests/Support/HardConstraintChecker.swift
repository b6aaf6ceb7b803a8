import Foundation
import PlexusTesting

/// One lecture of a timetable as the API reports it.
struct CheckPlacement: Hashable {
    var course: String
    var room: String
    var day: Int
    var period: Int
}

/// An instance as the test's own checker sees it, read independently of the solver (from `.ctt` text or
/// from a school model dictionary).
struct CheckModel {
    struct Course { var name: String; var teacher: String; var lectures: Int }
    var days = 0
    var periodsPerDay = 0
    var courses: [Course] = []
    var rooms: Set<String> = []
    /// Curriculum name → course names.
    var curricula: [String: Set<String>] = [:]
    /// Course name → unavailable (day, period) pairs.
    var unavailable: [String: Set<[Int]>] = [:]

    /// Reads ITC2007 `.ctt` text (the sections the hard constraints need).
    init(ctt text: String) throws {
        var section = ""
        for raw in text.split(separator: "\n") {
            let tokens = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).map(String.init)
            guard let first = tokens.first else { continue }
            if first.hasSuffix(":") && tokens.count <= 2 {
                switch first {
                case "Days:": days = Int(tokens[1]) ?? 0
                case "Periods_per_day:": periodsPerDay = Int(tokens[1]) ?? 0
                default: section = first
                }
                continue
            }
            if first == "END." { break }
            switch section {
            case "COURSES:": courses.append(Course(name: tokens[0], teacher: tokens[1], lectures: Int(tokens[2]) ?? 0))
            case "ROOMS:": rooms.insert(tokens[0])
            case "CURRICULA:": curricula[tokens[0]] = Set(tokens.dropFirst(2))
            case "UNAVAILABILITY_CONSTRAINTS:":
                unavailable[tokens[0], default: []].insert([Int(tokens[1]) ?? -1, Int(tokens[2]) ?? -1])
            default: break
            }
        }
        guard days > 0, periodsPerDay > 0, !courses.isEmpty else { throw TestFailure("checker could not read the .ctt text") }
    }

    /// Reads a school model dictionary (classes → curricula, subjects → courses, teacher unavailability).
    init(school: [String: Any]) throws {
        days = school["days"] as? Int ?? 0
        periodsPerDay = school["periodsPerDay"] as? Int ?? 0
        var teacherOff: [String: Set<[Int]>] = [:]
        for teacher in school["teachers"] as? [[String: Any]] ?? [] {
            let slots = (teacher["unavailable"] as? [[String: Int]] ?? []).map { [$0["day"] ?? -1, $0["slot"] ?? -1] }
            teacherOff[teacher["id"] as? String ?? ""] = Set(slots)
        }
        for subject in school["subjects"] as? [[String: Any]] ?? [] {
            let name = subject["id"] as? String ?? "", teacher = subject["teacher"] as? String ?? ""
            courses.append(Course(name: name, teacher: teacher, lectures: subject["lessonsPerWeek"] as? Int ?? 0))
            unavailable[name] = teacherOff[teacher] ?? []
            for cls in subject["classes"] as? [String] ?? [] { curricula[cls, default: []].insert(name) }
        }
        rooms = Set((school["rooms"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }

    /// Makes `teacher` unavailable at the given (day, period) pairs.
    mutating func teacherUnavailable(_ teacher: String, _ slots: [[Int]]) {
        for course in courses where course.teacher == teacher { unavailable[course.name, default: []].formUnion(slots) }
    }

    /// Every hard violation of `placements`, in words (empty: feasible), per the ITC2007 rules: all lectures
    /// scheduled in distinct periods, no room used twice at once, no curriculum or teacher conflict, courses
    /// only at available periods, known rooms and periods inside the week.
    func hardViolations(_ placements: [CheckPlacement]) -> [String] {
        var problems: [String] = []
        let byName = Dictionary(uniqueKeysWithValues: courses.map { ($0.name, $0) })
        for placement in placements {
            if byName[placement.course] == nil { problems.append("unknown course \(placement.course)") }
            if !rooms.contains(placement.room) { problems.append("unknown room \(placement.room)") }
            if !(0..<days).contains(placement.day) || !(0..<periodsPerDay).contains(placement.period) {
                problems.append("\(placement.course) at day \(placement.day) period \(placement.period) is outside the week")
            }
            if unavailable[placement.course]?.contains([placement.day, placement.period]) == true {
                problems.append("\(placement.course) is unavailable at day \(placement.day) period \(placement.period)")
            }
        }
        for course in courses {
            let mine = placements.filter { $0.course == course.name }
            if mine.count != course.lectures { problems.append("\(course.name) has \(mine.count) of \(course.lectures) lectures") }
            if Set(mine.map { [$0.day, $0.period] }).count != mine.count { problems.append("\(course.name) has two lectures in one period") }
        }
        var rooms: [String: CheckPlacement] = [:]
        for placement in placements {
            let key = "\(placement.room)@\(placement.day).\(placement.period)"
            if let other = rooms[key] { problems.append("room \(placement.room) double-booked: \(other.course) and \(placement.course)") }
            rooms[key] = placement
        }
        for (i, a) in placements.enumerated() {
            for b in placements[(i + 1)...] where a.day == b.day && a.period == b.period && a.course != b.course {
                if let ta = byName[a.course]?.teacher, ta == byName[b.course]?.teacher {
                    problems.append("teacher \(ta) teaches \(a.course) and \(b.course) at day \(a.day) period \(a.period)")
                }
                for (name, members) in curricula where members.contains(a.course) && members.contains(b.course) {
                    problems.append("curriculum \(name) has \(a.course) and \(b.course) at day \(a.day) period \(a.period)")
                }
            }
        }
        return problems
    }
}
