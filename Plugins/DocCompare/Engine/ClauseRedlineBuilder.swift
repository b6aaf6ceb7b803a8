/// Builds the clause redline and the per-clause changes from an alignment.
///
/// The longest run of pairs in the same order stays in place; every other pair is a move, and
/// consecutive moved units that were consecutive before too form one move. Each unit's separator
/// (its trailing blank lines) travels with it as layout.
struct ClauseRedlineBuilder {
    let old: [Clause], new: [Clause]
    let oldWords: [[Int32]], newWords: [[Int32]]
    let numberWords: [Int32: String]
    let references: RenumberedReferences
    let oldOfNew: [Int?]
    let similarity: [Double]

    private(set) var segments: [Redline.Segment] = []
    private(set) var changes: [ClauseChange] = []
    private(set) var moves: [ClauseMove] = []

    init(old: [Clause], new: [Clause], oldWords: [[Int32]], newWords: [[Int32]], numberWords: [Int32: String],
         references: RenumberedReferences, oldOfNew: [Int?], similarity: [Double]) {
        self.old = old; self.new = new; self.oldWords = oldWords; self.newWords = newWords
        self.numberWords = numberWords; self.references = references
        self.oldOfNew = oldOfNew; self.similarity = similarity
    }

    mutating func build() {
        let matchedNew = new.indices.filter { oldOfNew[$0] != nil }
        let anchors = Set(ClauseComparer.lis(matchedNew.map { oldOfNew[$0]! }).map { matchedNew[$0] })
        var newOfOld = [Int?](repeating: nil, count: old.count)
        for j in matchedNew { newOfOld[oldOfNew[j]!] = j }

        // Group moved units into blocks: consecutive in the new version and in the old one.
        var moveOfNew = [Int?](repeating: nil, count: new.count)
        for j in matchedNew where !anchors.contains(j) {
            let i = oldOfNew[j]!
            if j > 0, let id = moveOfNew[j - 1], oldOfNew[j - 1] == i - 1 {
                moveOfNew[j] = id
                moves[id - 1].oldRange = moves[id - 1].oldRange.lowerBound..<(i + 1)
                moves[id - 1].newRange = moves[id - 1].newRange.lowerBound..<(j + 1)
            } else {
                moves.append(ClauseMove(id: moves.count + 1, oldRange: i..<(i + 1), newRange: j..<(j + 1)))
                moveOfNew[j] = moves.count
            }
        }

        var oi = 0, nj = 0
        let anchorList = new.indices.filter { anchors.contains($0) }.map { (oldOfNew[$0]!, $0) } + [(old.count, new.count)]
        for (ai, aj) in anchorList {
            while oi < ai {
                let o = old[oi]
                if let j = newOfOld[oi], let id = moveOfNew[j] {
                    let move = moves[id - 1]
                    if oi == move.oldRange.lowerBound {
                        segments.append(.clauseLabel("\(label(move.oldRange, old)) moved to \(label(move.newRange, new))"))
                        segments.append(.moveFrom(id: id, text: move.oldRange.map { old[$0].text }.joined()))
                    }
                } else {
                    segments.append(.clauseLabel("\(label(o)) removed"))
                    segments.append(.delete(o.text))
                    changes.append(ClauseChange(status: .removed, oldIndex: oi, newIndex: nil, oldNumber: o.number, newNumber: nil,
                                                renumbered: false, moved: false, moveID: nil, similarity: 0, wordChanges: 1,
                                                segments: [.delete(o.text)]))
                }
                oi += 1
            }
            while nj < aj {
                let n = new[nj]
                if let i = oldOfNew[nj], let id = moveOfNew[nj] {
                    let move = moves[id - 1]
                    if nj == move.newRange.lowerBound {
                        var inner: [Redline.Segment] = []
                        for j in move.newRange {
                            let change = matched(oldOfNew[j]!, j, moveID: id)
                            changes.append(change)
                            inner += change.segments
                        }
                        segments.append(.clauseLabel("\(label(move.newRange, new)) moved from \(label(move.oldRange, old))"))
                        segments.append(.moveTo(id: id, segments: Redline.coalesce(inner)))
                    }
                    _ = i
                } else {
                    segments.append(.clauseLabel("\(label(n)) added"))
                    segments.append(.insert(n.text))
                    changes.append(ClauseChange(status: .added, oldIndex: nil, newIndex: nj, oldNumber: nil, newNumber: n.number,
                                                renumbered: false, moved: false, moveID: nil, similarity: 0, wordChanges: 1,
                                                segments: [.insert(n.text)]))
                }
                nj += 1
            }
            if ai < old.count {
                let change = matched(ai, aj, moveID: nil)
                changes.append(change)
                let tag = change.renumbered ? "\(label(new[aj])) (was \(label(old[ai])))" : label(new[aj])
                segments.append(.clauseLabel(change.status == .unchanged ? tag : "\(tag) modified"))
                segments += change.segments
                oi = ai + 1; nj = aj + 1
            }
        }
        segments = Redline.coalesce(segments)
    }

    func label(_ c: Clause) -> String {
        if let n = c.number { return n }
        let words = c.body.split(whereSeparator: { $0.isWhitespace }).prefix(4).joined(separator: " ")
        return c.kind == .heading ? "heading “\(words)”" : "paragraph “\(words)…”"
    }

    func label(_ r: Range<Int>, _ units: [Clause]) -> String {
        r.count == 1 ? label(units[r.lowerBound]) : "\(label(units[r.lowerBound]))–\(label(units[r.upperBound - 1]))"
    }

    /// The change of a matched pair: unchanged unless its words differ (renumbered references aside).
    func matched(_ i: Int, _ j: Int, moveID: Int?) -> ClauseChange {
        let o = old[i], n = new[j]
        var changed = 0
        var renumberedReference = false
        if oldWords[i] != newWords[j] {
            let ops = WordSimilarity.ordered(oldWords[i], newWords[j]).ops
            var k = 0
            while k < ops.count {
                let op = ops[k]
                if op.kind == .equal { k += 1; continue }
                if op.kind == .delete, k + 1 < ops.count, ops[k + 1].kind == .insert,
                   op.oldRange.count == 1, ops[k + 1].newRange.count == 1,
                   let a = numberWords[oldWords[i][op.oldRange.lowerBound]],
                   let b = numberWords[newWords[j][ops[k + 1].newRange.lowerBound]], references.renumbers(a, b) {
                    renumberedReference = true
                    k += 2
                    continue
                }
                changed += 1
                k += op.kind == .delete && k + 1 < ops.count && ops[k + 1].kind == .insert ? 2 : 1
            }
        }
        var segs: [Redline.Segment] = []
        if o.lead == n.lead { segs.append(.equal(n.lead)) } else { segs += [.delete(o.lead), .insert(n.lead)] }
        switch (o.number, n.number) {
        case let (on?, nn?): segs.append(on == nn ? .equal(nn) : .renumber(old: on, new: nn))
        case let (on?, nil): segs.append(.delete(on))
        case let (nil, nn?): segs.append(.insert(nn))
        case (nil, nil): break
        }
        var body = o.body == n.body ? [.equal(n.body)] : Redline.wordSegments(o.body, n.body)
        if renumberedReference { body = markRenumbered(body) }
        segs += body
        if o.separator == n.separator { segs.append(.equal(n.separator)) } else { segs += [.delete(o.separator), .insert(n.separator)] }
        return ClauseChange(status: changed == 0 ? .unchanged : .modified, oldIndex: i, newIndex: j,
                            oldNumber: o.number, newNumber: n.number, renumbered: o.number != n.number,
                            moved: moveID != nil, moveID: moveID, similarity: similarity[j], wordChanges: changed,
                            segments: Redline.coalesce(segs.filter { $0 != .delete("") && $0 != .insert("") }))
    }

    /// Turns `delete 9.1` + `insert 10.1` into a renumbering mark where the references were renumbered.
    func markRenumbered(_ segs: [Redline.Segment]) -> [Redline.Segment] {
        var out: [Redline.Segment] = []
        var k = 0
        while k < segs.count {
            if k + 1 < segs.count, case .delete(let a) = segs[k], case .insert(let b) = segs[k + 1],
               let ca = RenumberedReferences.core(a), let cb = RenumberedReferences.core(b), references.renumbers(ca, cb),
               a.hasPrefix(ca), b.hasPrefix(cb), String(a.dropFirst(ca.count)) == String(b.dropFirst(cb.count)) {
                out.append(.renumber(old: ca, new: cb))
                let tail = String(a.dropFirst(ca.count))
                if !tail.isEmpty { out.append(.equal(tail)) }
                k += 2
                continue
            }
            out.append(segs[k])
            k += 1
        }
        return out
    }
}
