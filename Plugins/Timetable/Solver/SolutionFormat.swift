/// Reader and writer of the ITC2007 solution format: one line `COURSE ROOM DAY PERIOD` per lecture.
public enum SolutionFormat {
    /// Writes a timetable, one line per scheduled lecture, in placement order.
    public static func write(_ timetable: Timetable, for instance: Instance) -> String {
        var out = ""
        for p in timetable.placements {
            out += "\(instance.courses[p.course].name) \(instance.rooms[p.room].name) \(p.day) \(p.slot)\n"
        }
        return out
    }

    /// Reads a solution; throws `InstanceError` with line numbers for malformed lines or unknown courses and rooms.
    public static func read(_ text: String, for instance: Instance) throws -> Timetable {
        var courseIndex: [Substring: Int] = [:]
        for (i, c) in instance.courses.enumerated() { courseIndex[Substring(c.name)] = i }
        var roomIndex: [Substring: Int] = [:]
        for (i, r) in instance.rooms.enumerated() { roomIndex[Substring(r.name)] = i }
        var placements: [Placement] = []
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            let t = raw.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if t.isEmpty { continue }
            guard t.count == 4 else {
                throw InstanceError(kind: .syntax, line: number, message: "expected 'COURSE ROOM DAY PERIOD', found \(t.count) fields")
            }
            guard let c = courseIndex[t[0]] else {
                throw InstanceError(kind: .unknownReference, line: number, message: "unknown course \(t[0])")
            }
            guard let r = roomIndex[t[1]] else {
                throw InstanceError(kind: .unknownReference, line: number, message: "unknown room \(t[1])")
            }
            guard let d = Int(t[2]), let s = Int(t[3]) else {
                throw InstanceError(kind: .syntax, line: number, message: "day and period must be integers")
            }
            guard d >= 0, d < instance.days, s >= 0, s < instance.periodsPerDay else {
                throw InstanceError(kind: .impossibleSize, line: number, message: "day \(d) period \(s) is outside the week")
            }
            placements.append(Placement(course: c, room: r, day: d, slot: s))
        }
        return Timetable(placements: placements)
    }
}
