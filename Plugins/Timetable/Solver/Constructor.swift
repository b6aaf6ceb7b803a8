/// Builds a first timetable (internal): saturation-degree ordering (the lecture with the fewest feasible
/// periods first), greedy cheapest placement, and ejection of conflicting lectures when a lecture has no
/// feasible period left, with a tabu list against cycling.
struct Constructor {
    /// Places the unassigned lectures of `state`. Returns true when every lecture is assigned.
    /// `maxSteps` bounds the work (deterministic); `shouldStop` is polled for time limits and cancellation.
    static func run(_ state: inout SearchState, rng: inout SeededRandom, maxSteps: Int, shouldStop: () -> Bool) -> Bool {
        let pb = state.pb
        var pending: [Int] = (0..<pb.L).filter { state.period[$0] < 0 }
        var tabu = Array(repeating: 0, count: pb.L * pb.P)
        // Static difficulty: lectures of conflicting courses.
        var degree = Array(repeating: 0, count: pb.C)
        for c in 0..<pb.C { degree[c] = pb.neighbors[c].reduce(0) { $0 + pb.lectures[$1] } }
        var step = 0
        var seen = Array(repeating: 0, count: pb.C), counts = Array(repeating: 0, count: pb.C)
        var countStamp = 0
        while !pending.isEmpty {
            step += 1
            if step > maxSteps { return false }
            // Polled every step: one step scans every pending lecture's periods, which on a large
            // instance takes long enough that polling more rarely overshoots the time limit by minutes.
            if shouldStop() { return false }
            // Pick the most constrained pending lecture.
            var bestIdx = -1, bestCount = Int.max, bestDeg = -1
            countStamp &+= 1
            for (i, l) in pending.enumerated() {
                let c = pb.lectureCourse[l]
                // Lectures of one course share their count: compute it once per course and step.
                var n = 0
                if seen[c] == countStamp { n = counts[c] } else {
                    for p in 0..<pb.P where state.freeCount[p] > 0 && state.canPlace(c, p) { n += 1 }
                    seen[c] = countStamp; counts[c] = n
                }
                if n < bestCount || (n == bestCount && degree[c] > bestDeg) || (n == bestCount && degree[c] == bestDeg && rng.int(4) == 0) {
                    bestIdx = i; bestCount = n; bestDeg = degree[c]
                }
            }
            let l = pending[bestIdx]
            let c = pb.lectureCourse[l]
            pending.swapAt(bestIdx, pending.count - 1)
            pending.removeLast()
            if bestCount > 0 {
                // Cheapest feasible period (soft cost), random tie-break.
                var bp = -1, br = -1, bcost = Int.max
                for p in 0..<pb.P where state.freeCount[p] > 0 && state.canPlace(c, p) {
                    let r = state.bestFreeRoom(c, p, prefer: state.anchorPeriod[l] == p ? state.anchorRoom[l] : -1)
                    let before = state.objective
                    state.insert(l, p, r)
                    let cost = state.objective - before
                    state.remove(l)
                    let noisy = cost * 4 + rng.int(4)
                    if noisy < bcost { bcost = noisy; bp = p; br = r }
                }
                state.insert(l, bp, br)
                continue
            }
            // Ejection: choose the available period with the fewest lectures to eject.
            var bp = -1, bscore = Int.max
            var victims: [Int] = [], bestVictims: [Int] = []
            for p in 0..<pb.P where pb.available[c * pb.P + p] {
                if tabu[l * pb.P + p] > step { continue }
                victims.removeAll(keepingCapacity: true)
                var score = 0
                var freeAfter = state.freeCount[p]
                for r in 0..<pb.R {
                    let x = state.roomAt[p * pb.R + r]
                    if x >= 0 && pb.conflict[c * pb.C + pb.lectureCourse[x]] {
                        victims.append(x); freeAfter += 1
                        score += 10 + degree[pb.lectureCourse[x]] / 8
                    }
                }
                if freeAfter == 0 {
                    // Also eject the occupant of the room that fits best.
                    var pick = -1, pickScore = Int.max
                    for r in 0..<pb.R {
                        let x = state.roomAt[p * pb.R + r]
                        if x >= 0 {
                            let s = abs(pb.capacity[r] - pb.students[c]) + rng.int(5)
                            if s < pickScore { pickScore = s; pick = x }
                        }
                    }
                    if pick < 0 { continue }
                    victims.append(pick); score += 10
                }
                score = score * 4 + rng.int(8)
                if score < bscore { bscore = score; bp = p; bestVictims = victims }
            }
            if bp < 0 {
                // Every period is tabu or blocked: pick any available one at random next time.
                for p in 0..<pb.P { tabu[l * pb.P + p] = 0 }
                pending.append(l)
                continue
            }
            for x in bestVictims {
                let xp = state.period[x]
                state.remove(x)
                tabu[x * pb.P + xp] = step + 5 + rng.int(10)
                pending.append(x)
            }
            let r = state.bestFreeRoom(c, bp)
            if r >= 0 && state.canPlace(c, bp) { state.insert(l, bp, r) } else { pending.append(l) }
        }
        return true
    }

    /// Places every unassigned lecture that still has a free room in a feasible period (cheapest soft cost).
    ///
    /// When construction runs out of steps on an infeasible instance, ejection may have left lectures out that
    /// conflict with nothing (their course could go to a free slot); this pass puts them back so that only
    /// lectures that really do not fit stay unscheduled.
    static func fillFreeSlots(_ state: inout SearchState) {
        let pb = state.pb
        for l in 0..<pb.L where state.period[l] < 0 {
            let c = pb.lectureCourse[l]
            var bp = -1, br = -1, bcost = Int.max
            for p in 0..<pb.P where state.freeCount[p] > 0 && state.canPlace(c, p) {
                let r = state.bestFreeRoom(c, p, prefer: state.anchorPeriod[l] == p ? state.anchorRoom[l] : -1)
                guard r >= 0 else { continue }
                let before = state.objective
                state.insert(l, p, r)
                let cost = state.objective - before
                state.remove(l)
                if cost < bcost { bcost = cost; bp = p; br = r }
            }
            if bp >= 0 { state.insert(l, bp, br) }
        }
    }
}
