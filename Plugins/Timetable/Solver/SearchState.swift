/// The incremental state of the search (internal). Every assigned lecture is free of hard violations;
/// lectures that cannot be placed stay unassigned. Costs are updated by each insert/remove.
struct SearchState: Sendable {
    let pb: Problem
    /// Period of each lecture, -1 when unassigned.
    var period: [Int]
    /// Room of each lecture, -1 when unassigned.
    var room: [Int]
    /// Lecture in each (period, room), -1 free, -2 blocked.
    var roomAt: [Int]
    /// Free rooms per period.
    var freeCount: [Int]
    /// Bitmask of slots used per (course, day), (curriculum, day) and (teacher, day).
    var courseMask: [UInt64]
    var currMask: [UInt64]
    var teacherMask: [UInt64]
    var courseDays: [Int]
    var courseRoomCount: [Int]
    var courseRooms: [Int]
    var unassigned: Int
    /// Weighted soft cost (including preferred-time penalties).
    var soft: Int
    /// Re-planning anchors: the old period and room of each lecture (or -1), and the penalty for leaving them.
    var anchorPeriod: [Int]
    var anchorRoom: [Int]
    var anchorWeight: Int
    var anchorCost: Int

    init(_ pb: Problem) {
        self.pb = pb
        period = Array(repeating: -1, count: pb.L)
        room = Array(repeating: -1, count: pb.L)
        var ra = Array(repeating: -1, count: pb.P * pb.R)
        var fc = Array(repeating: pb.R, count: pb.P)
        for i in 0..<(pb.P * pb.R) where pb.roomBlocked[i] { ra[i] = -2; fc[i / pb.R] -= 1 }
        roomAt = ra; freeCount = fc
        courseMask = Array(repeating: 0, count: pb.C * pb.D)
        currMask = Array(repeating: 0, count: pb.Q * pb.D)
        teacherMask = Array(repeating: 0, count: pb.T * pb.D)
        courseDays = Array(repeating: 0, count: pb.C)
        courseRoomCount = Array(repeating: 0, count: pb.C * pb.R)
        courseRooms = Array(repeating: 0, count: pb.C)
        unassigned = pb.L
        var s = 0
        for c in 0..<pb.C { s += pb.minDays[c] * pb.wDays }
        soft = s
        anchorPeriod = Array(repeating: -1, count: pb.L)
        anchorRoom = Array(repeating: -1, count: pb.L)
        anchorWeight = 0
        anchorCost = 0
    }

    /// The search objective: soft cost plus re-planning penalties.
    @inline(__always) var objective: Int { soft + anchorCost }

    @inline(__always) static func isolated(_ m: UInt64) -> Int {
        (m & ~(m << 1) & ~(m >> 1)).nonzeroBitCount
    }

    /// Whether a lecture of course `c` may go to period `p` without a conflict or an unavailability (ignores rooms).
    @inline(__always) func canPlace(_ c: Int, _ p: Int) -> Bool {
        if !pb.available[c * pb.P + p] { return false }
        let d = p / pb.S, bit: UInt64 = 1 << UInt64(p % pb.S)
        if courseMask[c * pb.D + d] & bit != 0 { return false }
        if teacherMask[pb.teacherOf[c] * pb.D + d] & bit != 0 { return false }
        var i = pb.currOffset[c]
        let e = pb.currOffset[c + 1]
        while i < e {
            if currMask[pb.currList[i] * pb.D + d] & bit != 0 { return false }
            i += 1
        }
        return true
    }

    @inline(__always) func anchorPenalty(_ l: Int, _ p: Int, _ r: Int) -> Int {
        let ap = anchorPeriod[l]
        if ap < 0 || (ap == p && anchorRoom[l] == r) { return 0 }
        return anchorWeight
    }

    /// Places lecture `l` at (p, r). The caller guarantees `canPlace` and a free room.
    mutating func insert(_ l: Int, _ p: Int, _ r: Int) {
        let c = pb.lectureCourse[l], d = p / pb.S, bit: UInt64 = 1 << UInt64(p % pb.S)
        period[l] = p; room[l] = r
        roomAt[p * pb.R + r] = l
        freeCount[p] -= 1
        unassigned -= 1
        var delta = pb.penalty[c * pb.P + p]
        let over = pb.students[c] - pb.capacity[r]
        if over > 0 { delta += over * pb.wCap }
        let ci = c * pb.D + d
        if courseMask[ci] == 0 {
            if courseDays[c] < pb.minDays[c] { delta -= pb.wDays }
            courseDays[c] += 1
        }
        courseMask[ci] |= bit
        let cr = c * pb.R + r
        if courseRoomCount[cr] == 0 {
            courseRooms[c] += 1
            if courseRooms[c] > 1 { delta += pb.wStab }
        }
        courseRoomCount[cr] += 1
        var i = pb.currOffset[c]
        let e = pb.currOffset[c + 1]
        while i < e {
            let qi = pb.currList[i] * pb.D + d
            let m = currMask[qi], nm = m | bit
            delta += pb.wComp * (SearchState.isolated(nm) - SearchState.isolated(m))
            currMask[qi] = nm
            i += 1
        }
        teacherMask[pb.teacherOf[c] * pb.D + d] |= bit
        soft += delta
        if anchorWeight != 0 { anchorCost += anchorPenalty(l, p, r) }
    }

    /// Unassigns lecture `l` (which must be assigned).
    mutating func remove(_ l: Int) {
        let c = pb.lectureCourse[l], p = period[l], r = room[l]
        let d = p / pb.S, bit: UInt64 = 1 << UInt64(p % pb.S)
        if anchorWeight != 0 { anchorCost -= anchorPenalty(l, p, r) }
        period[l] = -1; room[l] = -1
        roomAt[p * pb.R + r] = -1
        freeCount[p] += 1
        unassigned += 1
        var delta = -pb.penalty[c * pb.P + p]
        let over = pb.students[c] - pb.capacity[r]
        if over > 0 { delta -= over * pb.wCap }
        let ci = c * pb.D + d
        courseMask[ci] &= ~bit
        if courseMask[ci] == 0 {
            courseDays[c] -= 1
            if courseDays[c] < pb.minDays[c] { delta += pb.wDays }
        }
        let cr = c * pb.R + r
        courseRoomCount[cr] -= 1
        if courseRoomCount[cr] == 0 {
            if courseRooms[c] > 1 { delta -= pb.wStab }
            courseRooms[c] -= 1
        }
        var i = pb.currOffset[c]
        let e = pb.currOffset[c + 1]
        while i < e {
            let qi = pb.currList[i] * pb.D + d
            let m = currMask[qi], nm = m & ~bit
            delta += pb.wComp * (SearchState.isolated(nm) - SearchState.isolated(m))
            currMask[qi] = nm
            i += 1
        }
        teacherMask[pb.teacherOf[c] * pb.D + d] &= ~bit
        soft += delta
    }

    /// The timetable of the assigned lectures, in lecture order.
    func timetable() -> Timetable {
        var out: [Placement] = []
        out.reserveCapacity(pb.L)
        for l in 0..<pb.L where period[l] >= 0 {
            out.append(Placement(course: pb.lectureCourse[l], room: room[l], day: period[l] / pb.S, slot: period[l] % pb.S))
        }
        return out.isEmpty ? Timetable(placements: []) : Timetable(placements: out)
    }

    /// Loads placements lecture by lecture (in order per course); placements that would break a hard
    /// constraint in this problem are skipped and their lectures stay unassigned. Returns the skipped lectures.
    @discardableResult
    mutating func load(_ t: Timetable) -> [Int] {
        var next = pb.firstLecture
        var skipped: [Int] = []
        for pl in t.placements {
            let c = pl.course
            guard c < pb.C, next[c] < pb.firstLecture[c + 1] else { continue }
            let l = next[c]; next[c] += 1
            let p = pl.day * pb.S + pl.slot
            if pl.room < pb.R, roomAt[p * pb.R + pl.room] == -1, canPlace(c, p) { insert(l, p, pl.room) } else { skipped.append(l) }
        }
        return skipped
    }

    /// The best free room for course `c` at period `p`: the smallest room that seats everyone, else the largest; -1 if none.
    func bestFreeRoom(_ c: Int, _ p: Int, prefer: Int = -1) -> Int {
        if prefer >= 0 && roomAt[p * pb.R + prefer] == -1 && pb.capacity[prefer] >= pb.students[c] { return prefer }
        var best = -1, bestScore = Int.max
        for r in 0..<pb.R where roomAt[p * pb.R + r] == -1 {
            let cap = pb.capacity[r]
            var score = cap >= pb.students[c] ? cap - pb.students[c] : (pb.students[c] - cap) * 1000
            if courseRoomCount[c * pb.R + r] > 0 { score -= 500 }
            if score < bestScore { bestScore = score; best = r }
        }
        return best
    }
}
