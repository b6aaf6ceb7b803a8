import Foundation
import TimetableSolver

/// A parsed `POST /jobs/<id>/replan` body.
///
/// ```json
/// {"disruptions": [{"teacher": "t1", "unavailable": [{"day": 0, "period": 2}]},
///                  {"room": "r1", "unavailable": [{"day": 1, "period": 0}]},
///                  {"course": "c3", "unavailable": [...]}],
///  "time_limit_seconds": 2, "seed": 1, "moves_budget": 50000}
/// ```
/// Options default to a short re-planning run (2 s, 50 000 moves).
struct ReplanRequest: Sendable {
    /// The disruptions, in the order given.
    var disruptions: [Disruption]
    /// The options of the re-planning run.
    var options: JobOptions

    /// Reads and checks the body against `instance` (the source job's instance). Call off the loop.
    /// - Throws: 400 for malformed bodies and options (naming the field), 422 for unknown teachers, rooms or
    ///   courses and out-of-week periods (with the JSON path, e.g. `disruptions[0].teacher`).
    static func parse(_ body: [UInt8], instance: Instance, limits: JobLimits) throws -> ReplanRequest {
        guard let members = try JSONValue.parse(body).objectValue else {
            throw TimetableProblem.badRequest("the body must be a JSON object with a 'disruptions' array")
        }
        var options = JobOptions(limits: limits, timeLimitSeconds: min(2, limits.maxTimeLimitSeconds))
        options.movesBudget = 50_000
        for (name, value) in members.sorted(by: { $0.key < $1.key }) where name != "disruptions" {
            guard JobOptions.fieldNames.contains(name) else {
                throw TimetableProblem.badOption(name, "unknown field; allowed: disruptions, \(JobOptions.fieldNames.joined(separator: ", "))")
            }
            try options.set(name, json: value, limits: limits)
        }
        guard case .array(let items)? = members["disruptions"], !items.isEmpty else {
            throw TimetableProblem.badOption("disruptions", "must be a non-empty array of {\"teacher\"|\"room\"|\"course\": name, \"unavailable\": [{\"day\", \"period\"}]}")
        }
        let teachers = Set(instance.courses.map(\.teacher))
        var disruptions: [Disruption] = []
        for (index, item) in items.enumerated() {
            disruptions.append(try disruption(item, at: "disruptions[\(index)]", instance: instance, teachers: teachers))
        }
        return ReplanRequest(disruptions: disruptions, options: options)
    }

    private static func disruption(_ item: JSONValue, at path: String, instance: Instance, teachers: Set<String>) throws -> Disruption {
        guard let members = item.objectValue else {
            throw TimetableProblem.badOption(path, "must be an object, found \(item.typeName)")
        }
        let subjects = ["teacher", "room", "course"].filter { members[$0] != nil }
        guard subjects.count == 1, let subject = subjects.first else {
            throw TimetableProblem.badOption(path, "needs exactly one of 'teacher', 'room', 'course'")
        }
        for key in members.keys where key != subject && key != "unavailable" {
            throw TimetableProblem.badOption("\(path).\(key)", "unknown field; allowed: \(subject), unavailable")
        }
        guard let name = members[subject]?.stringValue else {
            throw TimetableProblem.badOption("\(path).\(subject)", "must be a string")
        }
        let known: Bool
        switch subject {
        case "teacher": known = teachers.contains(name)
        case "room": known = instance.roomIndex(named: name) != nil
        default: known = instance.courseIndex(named: name) != nil
        }
        guard known else {
            throw TimetableProblem.invalidInstance(InstanceError(kind: .unknownReference, path: "\(path).\(subject)",
                                                                 message: "unknown \(subject) '\(name)'"))
        }
        guard case .array(let slots)? = members["unavailable"], !slots.isEmpty else {
            throw TimetableProblem.badOption("\(path).unavailable", "must be a non-empty array of {\"day\": n, \"period\": n}")
        }
        var at: [DaySlot] = []
        for (k, slot) in slots.enumerated() {
            let slotPath = "\(path).unavailable[\(k)]"
            guard let fields = slot.objectValue, let day = fields["day"]?.numberValue, let period = fields["period"]?.numberValue,
                  day.rounded() == day, period.rounded() == period, abs(day) < 1e9, abs(period) < 1e9 else {
                throw TimetableProblem.badOption(slotPath, "must be an object {\"day\": integer, \"period\": integer}")
            }
            guard day >= 0, Int(day) < instance.days, period >= 0, Int(period) < instance.periodsPerDay else {
                throw TimetableProblem.invalidInstance(InstanceError(
                    kind: .impossibleSize, path: slotPath,
                    message: "day \(Int(day)) period \(Int(period)) is outside the \(instance.days) x \(instance.periodsPerDay) week (days 0-\(instance.days - 1), periods 0-\(instance.periodsPerDay - 1))"))
            }
            at.append(DaySlot(day: Int(day), slot: Int(period)))
        }
        switch subject {
        case "teacher": return .teacherUnavailable(teacher: name, at: at)
        case "room": return .roomUnavailable(room: name, at: at)
        default: return .courseUnavailable(course: name, at: at)
        }
    }
}
