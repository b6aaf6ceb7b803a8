import Foundation
import TimetableSolver

/// The JSON shape of `GET /jobs/<id>/result`, built off the loop from a finished job's outcome.
struct ResultView: Encodable, Sendable {
    /// One lecture: course, room, day and period (both from 0).
    struct PlacementView: Encodable, Sendable {
        var course: String
        var room: String
        var day: Int
        var period: Int
    }

    /// The cost, per constraint: hard ones count violations, soft ones are weighted costs.
    struct CostView: Encodable, Sendable {
        var hard: Int
        var soft: Int
        var byConstraint: [String: Int]
        var hardConstraints: [String]
    }

    /// One violated constraint.
    struct ViolationView: Encodable, Sendable {
        var constraint: String
        var hard: Bool
        var course: String?
        var courses: [String]
        var day: Int?
        var period: Int?
        var room: String?
        var reason: String
        var cost: Int
    }

    /// A day, period and room.
    struct SlotView: Encodable, Sendable {
        var day: Int
        var period: Int
        var room: String?
    }

    /// A lecture that moved during re-planning (`old` nil: was unscheduled; `new` nil: could not be placed).
    struct ChangeView: Encodable, Sendable {
        var course: String
        var old: SlotView?
        var new: SlotView?
    }

    var id: String
    var status: JobStatus
    var name: String
    var feasible: Bool
    var lectures: Int
    var scheduledLectures: Int
    var cost: CostView
    var placements: [PlacementView]
    var violations: [ViolationView]
    var explanation: InfeasibilityExplanation?
    var stopReason: String?
    var moves: Int?
    var elapsedSeconds: Double
    var replanOf: String?
    var changes: [ChangeView]?
    var unchangedLectures: Int?

    /// The snake_case name of a constraint (`room_occupancy`, `curriculum_compactness`, ...).
    static func name(_ kind: ConstraintKind) -> String {
        var out = ""
        for character in kind.rawValue {
            if character.isUppercase, !out.isEmpty { out += "_" }
            out += character.lowercased()
        }
        return out
    }

    /// Builds the view of `outcome` (CPU work proportional to the timetable: call off the loop for big ones).
    init(id: String, status: JobStatus, replanOf: String?, outcome: JobOutcome) {
        let instance = outcome.instance, report = outcome.report
        self.id = id
        self.status = status
        name = instance.name
        feasible = report.isFeasible
        lectures = instance.lectureCount
        scheduledLectures = outcome.timetable.placements.count
        var breakdown: [String: Int] = [:]
        for kind in ConstraintKind.allCases { breakdown[Self.name(kind)] = report.breakdown[kind] ?? 0 }
        cost = CostView(hard: report.hardViolations, soft: report.softCost, byConstraint: breakdown,
                        hardConstraints: ConstraintKind.allCases.filter(\.isHard).map(Self.name))
        placements = outcome.timetable.placements.map {
            PlacementView(course: instance.courses[$0.course].name, room: instance.rooms[$0.room].name, day: $0.day, period: $0.slot)
        }
        violations = report.violations.map {
            ViolationView(constraint: Self.name($0.constraint), hard: $0.constraint.isHard, course: $0.courses.first, courses: $0.courses,
                          day: $0.day, period: $0.slot, room: $0.room, reason: $0.reason, cost: $0.cost)
        }
        explanation = outcome.explanation
        stopReason = outcome.stopReason?.rawValue
        moves = outcome.moves
        elapsedSeconds = (outcome.elapsed * 1000).rounded() / 1000
        self.replanOf = replanOf
        if let changes = outcome.changes {
            self.changes = changes.map { change in
                ChangeView(course: change.course,
                           old: change.old.map { SlotView(day: $0.day, period: $0.slot, room: change.oldRoom) },
                           new: change.new.map { SlotView(day: $0.day, period: $0.slot, room: change.newRoom) })
            }
            unchangedLectures = max(0, scheduledLectures - changes.filter { $0.new != nil }.count)
        }
    }
}
