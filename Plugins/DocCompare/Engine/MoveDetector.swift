/// A block of text that was moved: deleted at `oldRange` and inserted at `newRange`.
public struct MoveBlock: Codable, Sendable, Equatable {
    /// Identifier shared by the delete and insert operations that form this move.
    public var id: Int
    /// Token range of the block in the old text.
    public var oldRange: Range<Int>
    /// Token range of the block in the new text.
    public var newRange: Range<Int>
    /// Word similarity of the two ends (1 for an exact move).
    public var similarity: Double
    /// True when the block was edited as well as moved.
    public var isModified: Bool

    /// Creates a move block.
    public init(id: Int, oldRange: Range<Int>, newRange: Range<Int>, similarity: Double, isModified: Bool) {
        self.id = id
        self.oldRange = oldRange
        self.newRange = newRange
        self.similarity = similarity
        self.isModified = isModified
    }
}

/// Finds moved and moved-and-modified blocks among the deletions and insertions of a diff.
///
/// Deleted and inserted runs are cut into blocks (paragraphs, split at blank lines, in line
/// mode). Identical blocks are paired first; the rest are paired greedily by descending
/// word-multiset Dice similarity, if it reaches the threshold.
enum MoveDetector {
    struct Block {
        var range: Range<Int>
        var opIndex: Int
        var words: [Int: Int]   // word id -> count
        var wordTotal: Int
        var key: [Int32]
    }

    static func detect(ops: [DiffOp], old: TokenizedText, new: TokenizedText,
                       oldIDs: [Int32], newIDs: [Int32], options: DiffOptions) -> ([DiffOp], [MoveBlock]) {
        var vocabulary: [Substring: Int] = [:]
        func blocks(kind: DiffOp.Kind, text: TokenizedText, ids: [Int32]) -> [Block] {
            var out: [Block] = []
            for (k, op) in ops.enumerated() where op.kind == kind {
                let r = kind == .delete ? op.oldRange : op.newRange
                for piece in split(r, text: text, granularity: options.granularity) {
                    let s = text.text(piece)
                    var nonSpace = 0
                    for u in s.unicodeScalars where !u.properties.isWhitespace { nonSpace += 1 }
                    if nonSpace < options.minimumMoveCharacters { continue }
                    var words: [Int: Int] = [:]
                    var total = 0
                    for w in s.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
                        let id: Int
                        if let e = vocabulary[w] { id = e } else { id = vocabulary.count; vocabulary[w] = id }
                        words[id, default: 0] += 1
                        total += 1
                    }
                    out.append(Block(range: piece, opIndex: k, words: words, wordTotal: total, key: Array(ids[piece])))
                }
            }
            return out
        }
        let dels = blocks(kind: .delete, text: old, ids: oldIDs)
        let inss = blocks(kind: .insert, text: new, ids: newIDs)
        if dels.isEmpty || inss.isEmpty { return (ops, []) }

        var pairs: [(d: Int, i: Int, sim: Double)] = []
        var usedD = Set<Int>(), usedI = Set<Int>()
        // Exact moves.
        var byKey: [[Int32]: [Int]] = [:]
        for (k, d) in dels.enumerated() { byKey[d.key, default: []].append(k) }
        for (k, ins) in inss.enumerated() {
            if var list = byKey[ins.key], !list.isEmpty {
                let d = list.removeFirst()
                byKey[ins.key] = list
                pairs.append((d, k, 1.0)); usedD.insert(d); usedI.insert(k)
            }
        }
        // Moved-and-modified blocks.
        let restD = dels.indices.filter { !usedD.contains($0) }
        let restI = inss.indices.filter { !usedI.contains($0) }
        if !restD.isEmpty && !restI.isEmpty && restD.count * restI.count <= 4_000_000 {
            var cands: [(d: Int, i: Int, sim: Double)] = []
            for d in restD {
                let bd = dels[d]
                if bd.wordTotal == 0 { continue }
                for i in restI {
                    let bi = inss[i]
                    if bi.wordTotal == 0 { continue }
                    let lo = min(bd.wordTotal, bi.wordTotal), hi = max(bd.wordTotal, bi.wordTotal)
                    if 2.0 * Double(lo) / Double(lo + hi) < options.moveSimilarityThreshold { continue }
                    var common = 0
                    let (small, large) = bd.words.count <= bi.words.count ? (bd.words, bi.words) : (bi.words, bd.words)
                    for (w, c) in small { if let c2 = large[w] { common += min(c, c2) } }
                    let sim = 2.0 * Double(common) / Double(bd.wordTotal + bi.wordTotal)
                    if sim >= options.moveSimilarityThreshold { cands.append((d, i, sim)) }
                }
            }
            cands.sort { $0.sim != $1.sim ? $0.sim > $1.sim : ($0.d, $0.i) < ($1.d, $1.i) }
            for c in cands where !usedD.contains(c.d) && !usedI.contains(c.i) {
                // A pair that sits in the same change (an in-place edit) is not a move.
                if adjacent(dels[c.d], inss[c.i], ops: ops) { continue }
                pairs.append(c); usedD.insert(c.d); usedI.insert(c.i)
            }
        }
        if pairs.isEmpty { return (ops, []) }
        pairs.sort { dels[$0.d].range.lowerBound < dels[$1.d].range.lowerBound }
        let blocks = mergeAdjacent(pairs.map { (dels[$0.d], inss[$0.i], $0.sim, dels[$0.d].key != inss[$0.i].key) },
                                   ops: ops, old: old, new: new, granularity: options.granularity)
        var moves: [MoveBlock] = []
        var delMove: [Int: (Range<Int>, Int)] = [:]   // by lowerBound
        var insMove: [Int: (Range<Int>, Int)] = [:]
        for (n, b) in blocks.enumerated() {
            let id = n + 1
            moves.append(MoveBlock(id: id, oldRange: b.old, newRange: b.new, similarity: b.sim, isModified: b.modified))
            delMove[b.old.lowerBound] = (b.old, id)
            insMove[b.new.lowerBound] = (b.new, id)
        }
        // Split ops at move boundaries and tag the move pieces.
        var out: [DiffOp] = []
        for op in ops {
            guard op.kind != .equal else { out.append(op); continue }
            let isDel = op.kind == .delete
            let r = isDel ? op.oldRange : op.newRange
            let table = isDel ? delMove : insMove
            var pos = r.lowerBound
            var cursor = r.lowerBound
            func emit(_ piece: Range<Int>, _ id: Int?) {
                if piece.isEmpty { return }
                if isDel {
                    out.append(DiffOp(kind: .delete, oldRange: piece, newRange: op.newRange, moveID: id))
                } else {
                    out.append(DiffOp(kind: .insert, oldRange: op.oldRange, newRange: piece, moveID: id))
                }
            }
            while pos < r.upperBound {
                if let (mr, id) = table[pos], mr.upperBound <= r.upperBound {
                    emit(cursor..<pos, nil)
                    emit(mr, id)
                    pos = mr.upperBound
                    cursor = pos
                } else {
                    pos += 1
                }
            }
            emit(cursor..<r.upperBound, nil)
        }
        return (out, moves)
    }

    /// Paired blocks merged into moves: neighbouring pairs whose ends lie in the same deletion and
    /// the same insertion, with only separators (blank lines) between them, are one move; the
    /// separators between them and those just around both ends belong to the move.
    static func mergeAdjacent(_ pairs: [(Block, Block, Double, Bool)], ops: [DiffOp], old: TokenizedText, new: TokenizedText,
                              granularity: Granularity) -> [(old: Range<Int>, new: Range<Int>, sim: Double, modified: Bool)] {
        var out: [(old: Range<Int>, new: Range<Int>, sim: Double, modified: Bool, delOp: Int, insOp: Int)] = []
        func separators(_ r: Range<Int>, _ text: TokenizedText) -> Bool { r.allSatisfy { isBreak($0, text: text, granularity: granularity) } }
        for (d, i, sim, modified) in pairs {
            if var last = out.last, last.delOp == d.opIndex, last.insOp == i.opIndex,
               last.old.upperBound <= d.range.lowerBound, last.new.upperBound <= i.range.lowerBound,
               separators(last.old.upperBound..<d.range.lowerBound, old), separators(last.new.upperBound..<i.range.lowerBound, new) {
                last.old = last.old.lowerBound..<d.range.upperBound
                last.new = last.new.lowerBound..<i.range.upperBound
                last.sim = min(last.sim, sim)
                last.modified = last.modified || modified
                out[out.count - 1] = last
            } else {
                out.append((d.range, i.range, sim, modified, d.opIndex, i.opIndex))
            }
        }
        // Take in the separators just around each end of each move (blank lines of the same
        // deletion or insertion that no other move holds), so none is left as a change of its own.
        func widen(_ r: Range<Int>, within op: Range<Int>, text: TokenizedText, taken: [Range<Int>]) -> Range<Int> {
            var r = r
            while r.upperBound < op.upperBound, isBreak(r.upperBound, text: text, granularity: granularity),
                  !taken.contains(where: { $0.contains(r.upperBound) }) { r = r.lowerBound..<(r.upperBound + 1) }
            while r.lowerBound > op.lowerBound, isBreak(r.lowerBound - 1, text: text, granularity: granularity),
                  !taken.contains(where: { $0.contains(r.lowerBound - 1) }) { r = (r.lowerBound - 1)..<r.upperBound }
            return r
        }
        for k in out.indices {
            out[k].old = widen(out[k].old, within: ops[out[k].delOp].oldRange, text: old,
                               taken: out.indices.filter { $0 != k }.map { out[$0].old })
            out[k].new = widen(out[k].new, within: ops[out[k].insOp].newRange, text: new,
                               taken: out.indices.filter { $0 != k }.map { out[$0].new })
        }
        return out.map { ($0.old, $0.new, $0.sim, $0.modified) }
    }

    /// True when the deleted and inserted blocks belong to the same change (delete directly followed by insert).
    static func adjacent(_ d: Block, _ i: Block, ops: [DiffOp]) -> Bool {
        if d.opIndex + 1 == i.opIndex { return true }
        return false
    }

    /// Splits a token range into blocks: paragraphs separated by blank lines in line mode,
    /// lines (newline tokens) in word/character mode.
    static func split(_ r: Range<Int>, text: TokenizedText, granularity: Granularity) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = r.lowerBound
        var i = r.lowerBound
        while i < r.upperBound {
            if isBreak(i, text: text, granularity: granularity) {
                if i > start { out.append(start..<i) }
                start = i + 1
            }
            i += 1
        }
        if r.upperBound > start { out.append(start..<r.upperBound) }
        return out
    }

    /// True when token `t` separates blocks: a blank line in line mode, a newline otherwise.
    static func isBreak(_ t: Int, text: TokenizedText, granularity: Granularity) -> Bool {
        let lo = text.bounds[t], hi = text.bounds[t + 1]
        switch granularity {
        case .line:
            for k in lo..<hi where !(text.bytes[k] == 0x20 || text.bytes[k] == 0x09 || text.bytes[k] == 0x0A || text.bytes[k] == 0x0D) { return false }
            return true
        case .word, .character:
            return hi - lo >= 1 && text.bytes[lo] == 0x0A || (hi - lo == 2 && text.bytes[lo] == 0x0D)
        }
    }
}
