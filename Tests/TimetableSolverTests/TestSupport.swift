import Foundation
@testable import TimetableSolver

/// Shared helpers for the TimetableSolver tests.
enum Fixtures {
    /// Finds the ITC2007 data folder by walking up from this file (works through symlinks and in CI clones).
    static func datasetDirectory() -> String? {
        var candidates: [URL] = []
        let here = URL(fileURLWithPath: #filePath)
        for start in [here, here.resolvingSymlinksInPath()] {
            var dir = start.deletingLastPathComponent()
            for _ in 0..<6 {
                candidates.append(dir.appendingPathComponent("shared/datasets/itc2007-cbctt"))
                dir = dir.deletingLastPathComponent()
            }
        }
        candidates.append(URL(fileURLWithPath: "/work/shared/datasets/itc2007-cbctt"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("comp01.ctt").path) }?.path
    }

    /// Parses comp01, or nil when the data folder is absent.
    static func comp01() throws -> Instance? {
        guard let dir = datasetDirectory() else { return nil }
        return try CTTParser.parse(try String(contentsOfFile: dir + "/comp01.ctt", encoding: .utf8))
    }

    /// A small feasible instance: 2 days x 3 slots, 3 rooms, 5 courses, 3 curricula.
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
}
