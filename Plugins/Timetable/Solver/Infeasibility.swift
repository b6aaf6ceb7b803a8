/// Why no feasible timetable was found: a small set of courses whose constraints conflict, in words.
public struct InfeasibilityExplanation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Names of the courses in the conflicting core.
    public var courses: [String]
    /// A sentence saying which constraints conflict.
    public var summary: String
    /// True when the core is proven infeasible by counting; false when it is the smallest set the constructor
    /// failed on within its budget (strong evidence, not a proof).
    public var proven: Bool

    /// Creates an explanation.
    public init(courses: [String], summary: String, proven: Bool) {
        self.courses = courses
        self.summary = summary
        self.proven = proven
    }

    /// The summary.
    public var description: String { summary }
}

extension Instance {
    /// The sub-instance made of the given courses (indices into `courses`), with curricula and tables restricted to them.
    public func restricted(to keep: [Int]) -> Instance {
        var map: [Int: Int] = [:]
        for (i, c) in keep.enumerated() { map[c] = i }
        let cur = curricula.compactMap { q -> Curriculum? in
            let m = q.courses.compactMap { map[$0] }
            return m.isEmpty ? nil : Curriculum(name: q.name, courses: m)
        }
        return Instance(name: name, days: days, periodsPerDay: periodsPerDay, courses: keep.map { courses[$0] }, rooms: rooms,
                        curricula: cur, unavailablePeriods: keep.map { unavailablePeriods[$0] },
                        roomUnavailablePeriods: roomUnavailablePeriods, periodPenalties: keep.map { periodPenalties[$0] }, weights: weights)
    }

    /// Why courses `a` and `b` may not share a period, in words (nil if they may).
    func conflictReason(_ a: Int, _ b: Int) -> String? {
        if courses[a].teacher == courses[b].teacher { return "teacher \(courses[a].teacher)" }
        if let q = curricula.first(where: { $0.courses.contains(a) && $0.courses.contains(b) }) { return "curriculum \(q.name)" }
        return nil
    }
}

/// Looks for a small set of courses that cannot all be scheduled and says why.
///
/// Tries, in order: total lectures against usable room-periods; single courses with too few available periods;
/// cliques of mutually conflicting courses whose lectures outnumber the periods open to them (proven); and
/// finally a deletion filter over the courses in `hint` and their neighbours, keeping a minimal set on which
/// the constructor still fails (heuristic). Returns nil when nothing conflicting was found.
public func explainInfeasibility(_ instance: Instance, hint: [Int] = [], stepBudget: Int = 3000) -> InfeasibilityExplanation? {
    let pb = Problem(instance)
    let names = { (cs: [Int]) in cs.map { instance.courses[$0].name } }
    // Usable periods: at least one room open.
    var periodOpen = Array(repeating: false, count: pb.P)
    var roomPeriods = 0
    for p in 0..<pb.P { for r in 0..<pb.R where !pb.roomBlocked[p * pb.R + r] { periodOpen[p] = true; roomPeriods += 1 } }
    if pb.L > roomPeriods {
        return InfeasibilityExplanation(courses: names(Array(0..<pb.C)),
            summary: "The \(pb.L) lectures need more room-periods than the \(roomPeriods) that are open.", proven: true)
    }
    func usable(_ c: Int) -> [Int] { (0..<pb.P).filter { periodOpen[$0] && pb.available[c * pb.P + $0] } }
    for c in 0..<pb.C where usable(c).count < pb.lectures[c] {
        return InfeasibilityExplanation(courses: names([c]),
            summary: "Course \(instance.courses[c].name) has \(pb.lectures[c]) lectures but only \(usable(c).count) periods in which it is available.", proven: true)
    }
    // Cliques of mutually conflicting courses.
    func violated(_ k: [Int]) -> (need: Int, open: Int)? {
        var union = Set<Int>()
        for c in k { union.formUnion(usable(c)) }
        let need = k.reduce(0) { $0 + pb.lectures[$1] }
        return need > union.count ? (need, union.count) : nil
    }
    var bestCore: [Int]? = nil
    let seeds = hint + (0..<pb.C).filter { !hint.contains($0) }
    for seed in seeds {
        var clique = [seed]
        let cand = pb.neighbors[seed].sorted { (pb.lectures[$0], -$0) > (pb.lectures[$1], -$1) }
        for b in cand where clique.allSatisfy({ pb.conflict[$0 * pb.C + b] }) {
            clique.append(b)
        }
        guard violated(clique) != nil else { continue }
        var core = clique
        for c in clique where core.count > 1 {
            let smaller = core.filter { $0 != c }
            if violated(smaller) != nil { core = smaller }
        }
        if bestCore == nil || core.count < bestCore!.count { bestCore = core }
    }
    if let core = bestCore?.sorted(), let (need, open) = violated(core) {
        var reasons = Set<String>()
        for a in core { for b in core where a < b { if let r = instance.conflictReason(a, b) { reasons.insert(r) } } }
        let s = "Courses \(names(core).joined(separator: ", ")) conflict pairwise (they share \(reasons.sorted().joined(separator: ", "))), so their \(need) lectures need \(need) different periods, but only \(open) periods are available to them."
        return InfeasibilityExplanation(courses: names(core), summary: s, proven: true)
    }
    // Heuristic deletion filter.
    var set = Set(hint)
    for c in hint { set.formUnion(pb.neighbors[c]) }
    if set.isEmpty { set = Set(0..<pb.C) }
    func fails(_ cs: [Int]) -> Bool {
        let sub = Problem(instance.restricted(to: cs))
        for attempt in 0..<2 {
            var st = SearchState(sub)
            var rng = SeededRandom(seed: UInt64(attempt + 7))
            if Constructor.run(&st, rng: &rng, maxSteps: stepBudget, shouldStop: { false }) { return false }
        }
        return true
    }
    var core = set.sorted()
    if core.count > 60 || !fails(core) {
        guard !hint.isEmpty else { return nil }
        return InfeasibilityExplanation(courses: names(hint),
            summary: "No feasible timetable was found in the time given; lectures of \(names(hint).joined(separator: ", ")) could not be placed, but no small conflicting set of courses was identified.", proven: false)
    }
    for c in core.sorted(by: { pb.lectures[$0] < pb.lectures[$1] }) where core.count > 1 {
        let smaller = core.filter { $0 != c }
        if fails(smaller) { core = smaller }
    }
    let need = core.reduce(0) { $0 + pb.lectures[$1] }
    var reasons = Set<String>()
    for a in core { for b in core where a < b { if let r = instance.conflictReason(a, b) { reasons.insert(r) } } }
    let shared = reasons.isEmpty ? "" : " (conflicts through \(reasons.sorted().joined(separator: ", ")))"
    return InfeasibilityExplanation(courses: names(core),
        summary: "Courses \(names(core).joined(separator: ", "))\(shared) could not all be placed: the constructor fails on these \(need) lectures together with their unavailabilities and the rooms, and succeeds whenever any one of these courses is left out.", proven: false)
}
