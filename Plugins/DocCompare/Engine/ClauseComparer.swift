/// How a clause changed between versions.
public struct ClauseChange: Codable, Sendable, Equatable {
    /// The kind of change.
    public enum Status: String, Codable, Sendable {
        /// Same text (apart from its number).
        case unchanged
        /// Matched to its old self, with word-level edits.
        case modified
        /// Only in the new version.
        case added
        /// Only in the old version.
        case removed
    }
    /// The kind of change.
    public var status: Status
    /// Index of the clause in the old version.
    public var oldIndex: Int?
    /// Index of the clause in the new version.
    public var newIndex: Int?
    /// Number in the old version.
    public var oldNumber: String?
    /// Number in the new version.
    public var newNumber: String?
    /// True when the number changed (not itself counted as a change).
    public var renumbered: Bool
    /// True when the clause changed position relative to the other matched clauses.
    public var moved: Bool
    /// Body similarity (word Dice coefficient, 1 for identical).
    public var similarity: Double
    /// Word-level edit marks inside the clause body (0 for unchanged clauses).
    public var wordChanges: Int
    /// Word-level redline of the clause (lead, number, body).
    public var segments: [Redline.Segment]
}

/// The result of a clause-aware comparison.
public struct ClauseComparison: Sendable {
    /// Clauses of the old version.
    public let oldClauses: [Clause]
    /// Clauses of the new version.
    public let newClauses: [Clause]
    /// One entry per matched, added or removed clause, in reading order of the redline.
    public let changes: [ClauseChange]
    /// The redline: untouched clauses plain, renumbering marked as such, edits at word level,
    /// reordered clauses as moves, added/removed clauses as insertions/deletions.
    public let redline: Redline

    /// Number of clauses that are modified, added or removed (renumbering and pure moves excluded).
    public var changedClauseCount: Int { changes.filter { $0.status != .unchanged }.count }
}

/// Clause-aware comparison of contracts and policies.
///
/// Clauses are aligned by content, not by number: identical bodies are paired first, then
/// the remaining clauses greedily by word similarity (at least `threshold`). A clause that
/// moved and was renumbered is therefore matched to its old self and reported unchanged.
public enum ClauseComparer {
    /// Compares two documents clause by clause.
    public static func compare(_ old: String, _ new: String, threshold: Double = 0.5, title: String = "Clause redline") -> ClauseComparison {
        let oc = ClauseSplitter.split(old), nc = ClauseSplitter.split(new)
        let match = align(oc, nc, threshold: threshold)   // new index -> (old index, similarity)
        // Stable anchors: longest increasing subsequence of old indices in new order.
        let matchedNew = nc.indices.filter { match[$0] != nil }
        let anchorsNew = Set(lis(matchedNew.map { match[$0]!.0 }).map { matchedNew[$0] })
        var newOfOld: [Int: Int] = [:]
        for j in matchedNew { newOfOld[match[j]!.0] = j }

        var segments: [Redline.Segment] = []
        var changes: [ClauseChange] = []
        var moveIDs: [Int: Int] = [:]   // new index -> move id
        var nextMove = 1
        func label(_ c: Clause?) -> String { c?.number ?? "preamble" }

        func clauseSegments(_ o: Clause, _ n: Clause) -> [Redline.Segment] {
            var s: [Redline.Segment] = []
            if o.lead == n.lead { s.append(.equal(n.lead)) } else { s += [.delete(o.lead), .insert(n.lead)] }
            switch (o.number, n.number) {
            case let (on?, nn?): s.append(on == nn ? .equal(nn) : .renumber(old: on, new: nn))
            case let (on?, nil): s.append(.delete(on))
            case let (nil, nn?): s.append(.insert(nn))
            case (nil, nil): break
            }
            s += o.body == n.body ? [.equal(n.body)] : Redline.wordSegments(o.body, n.body)
            return Redline.coalesce(s)
        }
        func matchedChange(_ i: Int, _ j: Int, moved: Bool) -> ClauseChange {
            let o = oc[i], n = nc[j]
            let segs = clauseSegments(o, n)
            let words = o.body == n.body && o.lead == n.lead ? 0 : Redline(segments: segs).changeCount
            return ClauseChange(status: words == 0 ? .unchanged : .modified, oldIndex: i, newIndex: j,
                                oldNumber: o.number, newNumber: n.number, renumbered: o.number != n.number,
                                moved: moved, similarity: match[j]!.1, wordChanges: words, segments: segs)
        }

        for j in matchedNew where !anchorsNew.contains(j) { moveIDs[j] = nextMove; nextMove += 1 }
        var oi = 0, nj = 0
        let anchorList = nc.indices.filter { anchorsNew.contains($0) }.map { (match[$0]!.0, $0) } + [(oc.count, nc.count)]
        for (ai, aj) in anchorList {
            while oi < ai {
                let o = oc[oi]
                if let j = newOfOld[oi] {
                    // Moved: source end here, destination end at its new position.
                    let id = moveIDs[j]!
                    segments.append(.clauseLabel("\(label(o)) moved to \(label(nc[j]))"))
                    segments.append(.moveFrom(id: id, text: o.text))
                } else {
                    segments.append(.clauseLabel("\(label(o)) removed"))
                    segments.append(.delete(o.text))
                    changes.append(ClauseChange(status: .removed, oldIndex: oi, newIndex: nil, oldNumber: o.number,
                                                newNumber: nil, renumbered: false, moved: false, similarity: 0,
                                                wordChanges: 1, segments: [.delete(o.text)]))
                }
                oi += 1
            }
            while nj < aj {
                let n = nc[nj]
                if let (i, _) = match[nj] {
                    let ch = matchedChange(i, nj, moved: true)
                    changes.append(ch)
                    let id = moveIDs[nj]!
                    segments.append(.clauseLabel("\(label(n)) moved from \(label(oc[i]))"))
                    segments.append(.moveTo(id: id, segments: ch.segments))
                } else {
                    segments.append(.clauseLabel("\(label(n)) added"))
                    segments.append(.insert(n.text))
                    changes.append(ClauseChange(status: .added, oldIndex: nil, newIndex: nj, oldNumber: nil,
                                                newNumber: n.number, renumbered: false, moved: false, similarity: 0,
                                                wordChanges: 1, segments: [.insert(n.text)]))
                }
                nj += 1
            }
            if ai < oc.count {
                let ch = matchedChange(ai, aj, moved: false)
                changes.append(ch)
                let n = nc[aj]
                let tag = ch.renumbered ? "\(label(n)) (was \(label(oc[ai])))" : label(n)
                segments.append(.clauseLabel(ch.status == .unchanged ? tag : "\(tag) modified"))
                segments += ch.segments
                oi = ai + 1; nj = aj + 1
            }
        }
        return ClauseComparison(oldClauses: oc, newClauses: nc, changes: changes,
                                redline: Redline(segments: segments, title: title))
    }

    /// Aligns clauses by content. Returns, per new index, the matched old index and similarity.
    static func align(_ oc: [Clause], _ nc: [Clause], threshold: Double) -> [Int: (Int, Double)] {
        func norm(_ s: String) -> String { s.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ") }
        var result: [Int: (Int, Double)] = [:]
        var usedOld = Set<Int>()
        var byBody: [String: [Int]] = [:]
        for (i, c) in oc.enumerated() { byBody[norm(c.body), default: []].append(i) }
        for (j, c) in nc.enumerated() {
            let key = norm(c.body)
            if var l = byBody[key], !l.isEmpty, (c.number == nil) == (oc[l[0]].number == nil) {
                let i = l.removeFirst(); byBody[key] = l
                result[j] = (i, 1); usedOld.insert(i)
            }
        }
        func bag(_ s: String) -> [Substring: Int] {
            var d: [Substring: Int] = [:]
            for w in s.split(whereSeparator: { !$0.isLetter && !$0.isNumber }) { d[w, default: 0] += 1 }
            return d
        }
        let ob = oc.map { bag($0.body.lowercased()) }, nb = nc.map { bag($0.body.lowercased()) }
        var cands: [(Int, Int, Double)] = []
        for j in nc.indices where result[j] == nil {
            let tn = nb[j].values.reduce(0, +)
            for i in oc.indices where !usedOld.contains(i) {
                let to = ob[i].values.reduce(0, +)
                if tn + to == 0 { continue }
                var common = 0
                for (w, c) in nb[j] { if let c2 = ob[i][w] { common += min(c, c2) } }
                let sim = 2.0 * Double(common) / Double(tn + to)
                if sim >= threshold { cands.append((i, j, sim)) }
            }
        }
        cands.sort { $0.2 != $1.2 ? $0.2 > $1.2 : ($0.1, $0.0) < ($1.1, $1.0) }
        for (i, j, s) in cands where result[j] == nil && !usedOld.contains(i) {
            result[j] = (i, s); usedOld.insert(i)
        }
        return result
    }

    /// Indices (into `xs`) of a longest strictly increasing subsequence.
    static func lis(_ xs: [Int]) -> [Int] {
        var tails: [Int] = []      // indices into xs
        var prev = [Int](repeating: -1, count: xs.count)
        for (k, x) in xs.enumerated() {
            var lo = 0, hi = tails.count
            while lo < hi { let mid = (lo + hi) / 2; if xs[tails[mid]] < x { lo = mid + 1 } else { hi = mid } }
            if lo > 0 { prev[k] = tails[lo - 1] }
            if lo == tails.count { tails.append(k) } else { tails[lo] = k }
        }
        var out: [Int] = []
        var k = tails.last ?? -1
        while k >= 0 { out.append(k); k = prev[k] }
        return out.reversed()
    }
}
