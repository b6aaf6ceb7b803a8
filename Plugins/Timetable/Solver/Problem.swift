/// The instance compiled into flat arrays for the search (internal).
struct Problem: Sendable {
    let instance: Instance
    let C: Int, R: Int, Q: Int, T: Int, D: Int, S: Int, P: Int, L: Int
    let lectureCourse: [Int]
    let firstLecture: [Int]
    let teacherOf: [Int]
    let teacherNames: [String]
    let currOffset: [Int]
    let currList: [Int]
    let students: [Int]
    let minDays: [Int]
    let lectures: [Int]
    let capacity: [Int]
    /// available[c * P + p]
    let available: [Bool]
    /// roomBlocked[p * R + r]
    let roomBlocked: [Bool]
    /// Weighted period penalty, penalty[c * P + p].
    let penalty: [Int]
    /// conflict[a * C + b], including a == b.
    let conflict: [Bool]
    let neighbors: [[Int]]
    let wCap: Int, wDays: Int, wComp: Int, wStab: Int

    init(_ inst: Instance) {
        instance = inst
        C = inst.courses.count; R = inst.rooms.count; Q = inst.curricula.count
        D = inst.days; S = inst.periodsPerDay; P = D * S
        var lc: [Int] = [], first: [Int] = []
        for (c, course) in inst.courses.enumerated() {
            first.append(lc.count)
            for _ in 0..<course.lectures { lc.append(c) }
        }
        first.append(lc.count)
        lectureCourse = lc; firstLecture = first; L = lc.count
        var tIndex: [String: Int] = [:], tNames: [String] = []
        var tOf: [Int] = []
        for course in inst.courses {
            if let t = tIndex[course.teacher] { tOf.append(t) } else {
                tIndex[course.teacher] = tNames.count; tOf.append(tNames.count); tNames.append(course.teacher)
            }
        }
        teacherOf = tOf; teacherNames = tNames; T = tNames.count
        var cq = Array(repeating: [Int](), count: C)
        for (q, cur) in inst.curricula.enumerated() { for c in Set(cur.courses) { cq[c].append(q) } }
        var off = [0], list: [Int] = []
        for c in 0..<C { list += cq[c]; off.append(list.count) }
        currOffset = off; currList = list
        students = inst.courses.map(\.students); minDays = inst.courses.map(\.minWorkingDays); lectures = inst.courses.map(\.lectures)
        capacity = inst.rooms.map(\.capacity)
        var av = Array(repeating: true, count: C * P), pen = Array(repeating: 0, count: C * P)
        for c in 0..<C {
            for p in inst.unavailablePeriods[c] { av[c * P + p] = false }
            for (p, v) in inst.periodPenalties[c] { pen[c * P + p] = v * inst.weights.preferredTime }
        }
        available = av; penalty = pen
        var rb = Array(repeating: false, count: P * R)
        for r in 0..<R { for p in inst.roomUnavailablePeriods[r] { rb[p * R + r] = true } }
        roomBlocked = rb
        var cf = Array(repeating: false, count: C * C)
        for c in 0..<C { cf[c * C + c] = true }
        for cur in inst.curricula { for a in cur.courses { for b in cur.courses { cf[a * C + b] = true } } }
        for a in 0..<C { for b in 0..<C where tOf[a] == tOf[b] { cf[a * C + b] = true } }
        conflict = cf
        var nb = Array(repeating: [Int](), count: C)
        for a in 0..<C { for b in 0..<C where a != b && cf[a * C + b] { nb[a].append(b) } }
        neighbors = nb
        wCap = inst.weights.roomCapacity; wDays = inst.weights.minWorkingDays
        wComp = inst.weights.curriculumCompactness; wStab = inst.weights.roomStability
    }
}
