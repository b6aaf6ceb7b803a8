import Foundation

/// Instances written for these tests.
enum Instances {
    /// A small feasible instance: 2 days × 3 periods, 3 rooms, 5 courses (11 lectures), 3 curricula.
    static let small = """
    Name: Small
    Courses: 5
    Rooms: 3
    Days: 2
    Periods_per_day: 3
    Curricula: 3
    Constraints: 3

    COURSES:
    A tA 3 2 30
    B tB 2 2 50
    C tA 2 1 20
    D tD 3 2 10
    E tE 1 1 40

    ROOMS:
    r1 30
    r2 50
    r3 10

    CURRICULA:
    q1 2 A B
    q2 2 B D
    q3 2 C E

    UNAVAILABILITY_CONSTRAINTS:
    A 0 0
    D 1 2
    E 0 1
    END.
    """

    /// Infeasible: A, B and C share curriculum q1 and need 3 periods, but the week has 2. D is unrelated.
    static let tight = """
    Name: Tight
    Courses: 4
    Rooms: 2
    Days: 1
    Periods_per_day: 2
    Curricula: 1
    Constraints: 0

    COURSES:
    A tA 1 1 10
    B tB 1 1 10
    C tC 1 1 10
    D tD 1 1 10

    ROOMS:
    r1 20
    r2 20

    CURRICULA:
    q1 3 A B C

    UNAVAILABILITY_CONSTRAINTS:
    END.
    """

    /// A generated medium instance (deterministic): 5 days × 6 periods, 8 rooms, 40 courses in 10 curricula,
    /// 20 teachers; enough soft cost that a solve runs to its time limit. Used when comp01 is absent.
    static func medium() -> String {
        var rng = UInt64(12345)
        func next(_ bound: Int) -> Int {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            return Int((rng >> 33) % UInt64(bound))
        }
        var courses: [String] = [], curricula: [String] = [], constraints: [String] = []
        for c in 0..<40 { courses.append("c\(c) t\(c % 20) \(2 + next(3)) \(2 + next(2)) \(20 + next(80))") }
        for q in 0..<10 { curricula.append("q\(q) 4 c\(q * 4) c\(q * 4 + 1) c\(q * 4 + 2) c\(q * 4 + 3)") }
        for c in 0..<40 where c % 3 == 0 { constraints.append("c\(c) \(next(5)) \(next(6))") }
        let rooms = (0..<8).map { "r\($0) \(30 + 10 * $0)" }
        return """
        Name: Medium
        Courses: 40
        Rooms: 8
        Days: 5
        Periods_per_day: 6
        Curricula: 10
        Constraints: \(constraints.count)

        COURSES:
        \(courses.joined(separator: "\n"))

        ROOMS:
        \(rooms.joined(separator: "\n"))

        CURRICULA:
        \(curricula.joined(separator: "\n"))

        UNAVAILABILITY_CONSTRAINTS:
        \(constraints.joined(separator: "\n"))
        END.
        """
    }

    /// comp01 when the data set is present, else ``medium()``.
    static func larger() -> String { TimetableHarness.comp01() ?? medium() }

    /// A small school: 2 classes, 3 teachers (one with an unavailable slot), 4 subjects, 2 rooms, 3 days × 4 periods.
    static let school: [String: Any] = [
        "name": "Little School",
        "days": 3,
        "periodsPerDay": 4,
        "classes": [["id": "1a"], ["id": "1b"]],
        "teachers": [["id": "smith", "unavailable": [["day": 0, "slot": 0]]], ["id": "jones"], ["id": "lee"]],
        "subjects": [
            ["id": "math1a", "teacher": "smith", "classes": ["1a"], "lessonsPerWeek": 3, "minDays": 3, "students": 25],
            ["id": "math1b", "teacher": "smith", "classes": ["1b"], "lessonsPerWeek": 3, "minDays": 2, "students": 25],
            ["id": "art", "teacher": "jones", "classes": ["1a", "1b"], "lessonsPerWeek": 2, "students": 50],
            ["id": "music1a", "teacher": "lee", "classes": ["1a"], "lessonsPerWeek": 2, "students": 25],
        ],
        "rooms": [["id": "hall", "capacity": 60], ["id": "room1", "capacity": 30]],
    ]
}
