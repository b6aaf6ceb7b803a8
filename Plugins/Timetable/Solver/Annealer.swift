import Foundation

/// Simulated annealing on the soft cost (internal). Moves keep every assigned lecture free of hard
/// violations: move a lecture to another (period, room), swap two lectures, change or swap rooms within a
/// period, and Kempe-chain interchanges between two periods. Each move is applied to the incremental state,
/// its delta read off the objective, and undone when rejected; the whole cost is never recomputed.
struct Annealer {
    var state: SearchState
    var rng: SeededRandom
    var moves = 0
    var bestObjective: Int
    var bestPeriod: [Int]
    var bestRoom: [Int]
    private var stamp: [Int]
    private var stampValue = 0
    private var chain: [Int] = []
    private var chainPeriod: [Int] = []
    private var chainRoom: [Int] = []

    init(state: SearchState, rng: SeededRandom) {
        self.state = state
        self.rng = rng
        bestObjective = state.objective
        bestPeriod = state.period
        bestRoom = state.room
        stamp = Array(repeating: 0, count: state.pb.L)
    }

    /// Parameters of one annealing run.
    struct Schedule {
        var startTemperature: Double
        var endTemperature: Double
        var movesBudget: Int?
        var deadline: Double
        var start: Double
    }

    /// Runs until the budget or the deadline is reached or `stop` returns true. Calls `improved` on every new best.
    mutating func run(_ sc: Schedule, stop: () -> Bool, improved: (Int) -> Void) -> StopReason {
        let pb = state.pb
        guard pb.L > 1, state.unassigned < pb.L else { return .converged }
        let assigned: [Int] = (0..<pb.L).filter { state.period[$0] >= 0 }
        if assigned.isEmpty { return .converged }
        var t = sc.startTemperature
        let ratio = sc.endTemperature / sc.startTemperature
        let total = sc.deadline - sc.start
        while true {
            if moves & 1023 == 0 {
                let frac: Double
                if let budget = sc.movesBudget {
                    if moves >= budget { return .movesBudget }
                    frac = Double(moves) / Double(max(budget, 1))
                    if moves & 16383 == 0 && monotonicSeconds() >= sc.deadline { return .timeLimit }
                } else {
                    let now = monotonicSeconds()
                    if now >= sc.deadline { return .timeLimit }
                    frac = (now - sc.start) / max(total, 1e-9)
                }
                if stop() { return .cancelled }
                t = sc.startTemperature * pow(ratio, frac)
                if state.objective == 0 && state.unassigned == 0 { return .converged }
            }
            moves += 1
            let l = assigned[rng.int(assigned.count)]
            let delta: Int
            let kind = rng.int(100)
            if kind < 12 {
                delta = kempe(l, t)
            } else {
                let p2 = kind < 25 ? state.period[l] : rng.int(pb.P)
                delta = moveOrSwap(l, p2, rng.int(pb.R), t)
            }
            if delta != Int.min && state.objective < bestObjective {
                bestObjective = state.objective
                bestPeriod = state.period
                bestRoom = state.room
                improved(state.soft)
            }
        }
    }

    @inline(__always) private mutating func accept(_ delta: Int, _ t: Double) -> Bool {
        if delta <= 0 { return true }
        return rng.unit() < exp(-Double(delta) / t)
    }

    /// Moves `l` to (p2, r2), swapping with the occupant if any. Returns the delta, or Int.min when not applied.
    private mutating func moveOrSwap(_ l: Int, _ p2: Int, _ r2: Int, _ t: Double) -> Int {
        let pb = state.pb
        let p1 = state.period[l], r1 = state.room[l]
        if p1 == p2 && r1 == r2 { return Int.min }
        let occ = state.roomAt[p2 * pb.R + r2]
        if occ == -2 { return Int.min }
        let c = pb.lectureCourse[l]
        let before = state.objective
        if occ == -1 {
            if p1 != p2 && !state.canPlace(c, p2) { return Int.min }
            state.remove(l)
            state.insert(l, p2, r2)
            let delta = state.objective - before
            if accept(delta, t) { return delta }
            state.remove(l)
            state.insert(l, p1, r1)
            return Int.min
        }
        let c2 = pb.lectureCourse[occ]
        if p1 != p2 {
            if c == c2 { return Int.min }
            if !pb.available[c * pb.P + p2] || !pb.available[c2 * pb.P + p1] { return Int.min }
        }
        state.remove(l)
        state.remove(occ)
        if p1 == p2 || (state.canPlace(c, p2) && state.canPlace(c2, p1)) {
            state.insert(l, p2, r2)
            state.insert(occ, p1, r1)
            let delta = state.objective - before
            if accept(delta, t) { return delta }
            state.remove(l)
            state.remove(occ)
        }
        state.insert(l, p1, r1)
        state.insert(occ, p2, r2)
        return Int.min
    }

    /// Kempe-chain interchange of the lectures of two periods that conflict transitively with `l`.
    private mutating func kempe(_ l: Int, _ t: Double) -> Int {
        let pb = state.pb
        if pb.P < 2 { return Int.min }
        let p1 = state.period[l]
        var p2 = rng.int(pb.P - 1)
        if p2 >= p1 { p2 += 1 }
        stampValue += 1
        chain.removeAll(keepingCapacity: true)
        chain.append(l); stamp[l] = stampValue
        var i = 0
        while i < chain.count {
            let x = chain[i]
            let cx = pb.lectureCourse[x]
            let px = state.period[x], py = px == p1 ? p2 : p1
            if !pb.available[cx * pb.P + py] { return Int.min }
            for r in 0..<pb.R {
                let y = state.roomAt[py * pb.R + r]
                if y >= 0 && stamp[y] != stampValue && pb.conflict[cx * pb.C + pb.lectureCourse[y]] {
                    stamp[y] = stampValue
                    chain.append(y)
                }
            }
            i += 1
        }
        let before = state.objective
        chainPeriod.removeAll(keepingCapacity: true)
        chainRoom.removeAll(keepingCapacity: true)
        for x in chain {
            chainPeriod.append(state.period[x]); chainRoom.append(state.room[x])
            state.remove(x)
        }
        var ok = true
        // First keep rooms where possible, then best free rooms.
        var pending: [Int] = []
        for (k, x) in chain.enumerated() {
            let np = chainPeriod[k] == p1 ? p2 : p1
            let r = chainRoom[k]
            if state.roomAt[np * pb.R + r] == -1 && state.canPlace(pb.lectureCourse[x], np) {
                state.insert(x, np, r)
            } else { pending.append(k) }
        }
        for k in pending {
            let x = chain[k]
            let np = chainPeriod[k] == p1 ? p2 : p1
            let c = pb.lectureCourse[x]
            let r = state.bestFreeRoom(c, np)
            if r < 0 || !state.canPlace(c, np) { ok = false; break }
            state.insert(x, np, r)
        }
        if ok {
            let delta = state.objective - before
            if accept(delta, t) { return delta }
        }
        for x in chain where state.period[x] >= 0 { state.remove(x) }
        for (k, x) in chain.enumerated() { state.insert(x, chainPeriod[k], chainRoom[k]) }
        return Int.min
    }

    /// Restores the best assignment found into `state`.
    mutating func restoreBest() {
        var s = SearchState(state.pb)
        s.anchorPeriod = state.anchorPeriod
        s.anchorRoom = state.anchorRoom
        s.anchorWeight = state.anchorWeight
        for l in 0..<s.pb.L where bestPeriod[l] >= 0 { s.insert(l, bestPeriod[l], bestRoom[l]) }
        state = s
    }
}
