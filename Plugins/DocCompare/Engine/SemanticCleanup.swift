/// A semantic clean-up pass over token edit scripts, in the spirit of diff-match-patch's
/// `cleanupSemantic` and `cleanupSemanticLossless`.
///
/// 1. Small equalities wedged between edits that are at least as long on both sides are
///    folded into the edits (so "the cat sat" → "a dog ran" is one change, not confetti).
/// 2. Single insertions/deletions are slid sideways to the most natural boundary
///    (blank line > line break > sentence end > whitespace > punctuation).
enum SemanticCleanup {
    /// An equal run or a change (deletion plus insertion, either possibly empty).
    struct Group {
        var isEqual: Bool
        var a: Range<Int>
        var b: Range<Int>
    }

    static func groups(_ ops: [DiffOp]) -> [Group] {
        var out: [Group] = []
        for op in ops {
            let eq = op.kind == .equal
            if !eq, let last = out.last, !last.isEqual {
                out[out.count - 1].a = last.a.lowerBound..<op.oldRange.upperBound
                out[out.count - 1].b = last.b.lowerBound..<op.newRange.upperBound
            } else if eq, let last = out.last, last.isEqual {
                out[out.count - 1].a = last.a.lowerBound..<op.oldRange.upperBound
                out[out.count - 1].b = last.b.lowerBound..<op.newRange.upperBound
            } else {
                out.append(Group(isEqual: eq, a: op.oldRange, b: op.newRange))
            }
        }
        return out
    }

    static func ops(_ groups: [Group]) -> [DiffOp] {
        var out: [DiffOp] = []
        for g in groups {
            if g.a.isEmpty && g.b.isEmpty { continue }
            if g.isEqual {
                out.append(DiffOp(kind: .equal, oldRange: g.a, newRange: g.b))
            } else {
                if !g.a.isEmpty { out.append(DiffOp(kind: .delete, oldRange: g.a, newRange: g.b.lowerBound..<g.b.lowerBound)) }
                if !g.b.isEmpty { out.append(DiffOp(kind: .insert, oldRange: g.a.upperBound..<g.a.upperBound, newRange: g.b)) }
            }
        }
        return normalize(out)
    }

    /// Merges adjacent operations of the same kind.
    static func normalize(_ ops: [DiffOp]) -> [DiffOp] {
        var out: [DiffOp] = []
        for op in ops {
            if let last = out.last, last.kind == op.kind, last.moveID == nil, op.moveID == nil {
                out[out.count - 1].oldRange = last.oldRange.lowerBound..<op.oldRange.upperBound
                out[out.count - 1].newRange = last.newRange.lowerBound..<op.newRange.upperBound
            } else {
                out.append(op)
            }
        }
        return out
    }

    /// Runs the clean-up. `oldWeights`/`newWeights` give each token's length in characters.
    static func run(_ input: [DiffOp], old: TokenizedText, new: TokenizedText,
                    oldIDs: [Int32], newIDs: [Int32]) -> [DiffOp] {
        let wa = weights(old), wb = weights(new)
        var prefixA = [0], prefixB = [0]
        prefixA.reserveCapacity(wa.count + 1)
        for w in wa { prefixA.append(prefixA.last! + w) }
        for w in wb { prefixB.append(prefixB.last! + w) }
        func lenA(_ r: Range<Int>) -> Int { prefixA[r.upperBound] - prefixA[r.lowerBound] }
        func lenB(_ r: Range<Int>) -> Int { prefixB[r.upperBound] - prefixB[r.lowerBound] }

        // 1. Fold small equalities into surrounding edits.
        var out: [Group] = []
        for g in groups(input) {
            out.append(g)
            while out.count >= 3 {
                let c2 = out[out.count - 1], e = out[out.count - 2], c1 = out[out.count - 3]
                guard !c2.isEqual, e.isEqual, !c1.isEqual else { break }
                let eqLen = lenA(e.a)
                if eqLen <= max(lenA(c1.a), lenB(c1.b)) && eqLen <= max(lenA(c2.a), lenB(c2.b)) {
                    out.removeLast(3)
                    out.append(Group(isEqual: false, a: c1.a.lowerBound..<c2.a.upperBound,
                                     b: c1.b.lowerBound..<c2.b.upperBound))
                } else {
                    break
                }
            }
        }

        // 2. Slide lone insertions/deletions to natural boundaries.
        if out.count >= 3 {
            for k in 1..<(out.count - 1) where !out[k].isEqual && out[k - 1].isEqual && out[k + 1].isEqual {
                let g = out[k]
                let isDelete = g.b.isEmpty
                if !isDelete && !g.a.isEmpty { continue }
                let ids = isDelete ? oldIDs : newIDs
                let text = isDelete ? old : new
                var e = isDelete ? g.a : g.b
                let pSide = isDelete ? out[k - 1].a : out[k - 1].b
                let nSide = isDelete ? out[k + 1].a : out[k + 1].b
                // Shift fully left.
                var shiftLeft = 0
                while e.lowerBound - shiftLeft > pSide.lowerBound
                        && ids[e.upperBound - 1 - shiftLeft] == ids[e.lowerBound - 1 - shiftLeft] { shiftLeft += 1 }
                e = (e.lowerBound - shiftLeft)..<(e.upperBound - shiftLeft)
                var best = 0, bestScore = -1
                var s = 0
                while true {
                    let lo = e.lowerBound + s, hi = e.upperBound + s
                    let score = boundaryScore(text, lo) + boundaryScore(text, hi)
                    if score >= bestScore { bestScore = score; best = s }
                    if hi >= nSide.upperBound || ids[lo] != ids[hi] { break }
                    s += 1
                }
                let delta = best - shiftLeft
                if delta == 0 { continue }
                out[k - 1].a = out[k - 1].a.lowerBound..<(out[k - 1].a.upperBound + delta)
                out[k - 1].b = out[k - 1].b.lowerBound..<(out[k - 1].b.upperBound + delta)
                out[k + 1].a = (out[k + 1].a.lowerBound + delta)..<out[k + 1].a.upperBound
                out[k + 1].b = (out[k + 1].b.lowerBound + delta)..<out[k + 1].b.upperBound
                if isDelete {
                    out[k].a = (g.a.lowerBound + delta)..<(g.a.upperBound + delta)
                    out[k].b = (g.b.lowerBound + delta)..<(g.b.upperBound + delta)
                } else {
                    out[k].b = (g.b.lowerBound + delta)..<(g.b.upperBound + delta)
                    out[k].a = (g.a.lowerBound + delta)..<(g.a.upperBound + delta)
                }
            }
        }
        return ops(out)
    }

    /// Character length of each token (counted in Unicode scalars).
    static func weights(_ t: TokenizedText) -> [Int] {
        var w = [Int](repeating: 0, count: t.count)
        t.bytes.withUnsafeBufferPointer { buf in
            for i in 0..<t.count {
                var c = 0
                for k in t.bounds[i]..<t.bounds[i + 1] where buf[k] & 0xC0 != 0x80 { c += 1 }
                w[i] = c
            }
        }
        return w
    }

    /// How natural a cut is just before token `i` (higher is better), after diff-match-patch.
    static func boundaryScore(_ t: TokenizedText, _ i: Int) -> Int {
        if i <= 0 || i >= t.count { return 6 }
        let left = t.bytes[t.bounds[i] - 1]
        let right = t.bytes[t.bounds[i]]
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        func isAlnum(_ c: UInt8) -> Bool { c >= 0x80 || (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) }
        if left == 0x0A && right == 0x0A { return 5 }
        if left == 0x0A || right == 0x0A { return 4 }
        if (left == 0x2E || left == 0x21 || left == 0x3F) && isSpace(right) { return 3 }
        if isSpace(left) || isSpace(right) { return 2 }
        if !isAlnum(left) || !isAlnum(right) { return 1 }
        return 0
    }
}
