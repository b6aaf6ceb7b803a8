/// One operation of an edit script over token sequences.
public struct DiffOp: Codable, Sendable, Equatable, Hashable {
    /// The kind of operation.
    public enum Kind: String, Codable, Sendable, Hashable {
        /// Tokens present (equal under the options) in both texts.
        case equal
        /// Tokens only in the old text.
        case delete
        /// Tokens only in the new text.
        case insert
    }
    /// The kind of operation.
    public var kind: Kind
    /// Token range in the old text (empty for inserts, positioned where the insertion happens).
    public var oldRange: Range<Int>
    /// Token range in the new text (empty for deletes).
    public var newRange: Range<Int>
    /// For deletes and inserts that are the two ends of a detected move, the move's id.
    public var moveID: Int?

    /// Creates an operation.
    public init(kind: Kind, oldRange: Range<Int>, newRange: Range<Int>, moveID: Int? = nil) {
        self.kind = kind
        self.oldRange = oldRange
        self.newRange = newRange
        self.moveID = moveID
    }
}

/// Computes edit scripts between sequences of interned token ids.
public enum SequenceDiff {
    /// Computes changed flags for `a` and `b` with the given algorithm.
    ///
    /// Tokens that occur in only one of the sequences can never be matched, so they are
    /// removed before running the algorithm (as GNU diff does); this does not change the
    /// longest common subsequence, so Myers stays minimal.
    static func changedFlags(_ a: [Int32], _ b: [Int32], uniqueCount: Int, algorithm: DiffAlgorithm) -> ([Bool], [Bool]) {
        let n = a.count, m = b.count
        var changedA = [Bool](repeating: false, count: n)
        var changedB = [Bool](repeating: false, count: m)
        // Strip the common prefix and suffix once, cheaply.
        var lo = 0
        while lo < n && lo < m && a[lo] == b[lo] { lo += 1 }
        var hiA = n, hiB = m
        while hiA > lo && hiB > lo && a[hiA - 1] == b[hiB - 1] { hiA -= 1; hiB -= 1 }
        if lo == hiA && lo == hiB { return (changedA, changedB) }

        // Occurrence presence in each middle region.
        var inA = [Bool](repeating: false, count: uniqueCount)
        var inB = [Bool](repeating: false, count: uniqueCount)
        for i in lo..<hiA { inA[Int(a[i])] = true }
        for j in lo..<hiB { inB[Int(b[j])] = true }
        var mapA: [Int] = []
        var mapB: [Int] = []
        var ca: [Int32] = []
        var cb: [Int32] = []
        mapA.reserveCapacity(hiA - lo)
        mapB.reserveCapacity(hiB - lo)
        ca.reserveCapacity(hiA - lo)
        cb.reserveCapacity(hiB - lo)
        for i in lo..<hiA {
            if inB[Int(a[i])] { mapA.append(i); ca.append(a[i]) } else { changedA[i] = true }
        }
        for j in lo..<hiB {
            if inA[Int(b[j])] { mapB.append(j); cb.append(b[j]) } else { changedB[j] = true }
        }
        inA = []; inB = []
        var cfa = [Bool](repeating: false, count: ca.count)
        var cfb = [Bool](repeating: false, count: cb.count)
        ca.withUnsafeBufferPointer { pa in
            cb.withUnsafeBufferPointer { pb in
                cfa.withUnsafeMutableBufferPointer { fa in
                    cfb.withUnsafeMutableBufferPointer { fb in
                        switch algorithm {
                        case .myers:
                            MyersDiff.run(a: pa, b: pb, changedA: fa, changedB: fb, aRange: 0..<pa.count, bRange: 0..<pb.count)
                        case .histogram:
                            HistogramDiff.run(a: pa, b: pb, uniqueCount: uniqueCount, changedA: fa, changedB: fb)
                        }
                    }
                }
            }
        }
        for k in 0..<cfa.count where cfa[k] { changedA[mapA[k]] = true }
        for k in 0..<cfb.count where cfb[k] { changedB[mapB[k]] = true }
        return (changedA, changedB)
    }

    /// Turns changed flags into an ordered edit script (deletes before inserts in each change).
    static func ops(changedA: [Bool], changedB: [Bool]) -> [DiffOp] {
        var ops: [DiffOp] = []
        let n = changedA.count, m = changedB.count
        var i = 0, j = 0
        while i < n || j < m {
            let si = i, sj = j
            while i < n && j < m && !changedA[i] && !changedB[j] { i += 1; j += 1 }
            if i > si { ops.append(DiffOp(kind: .equal, oldRange: si..<i, newRange: sj..<j)) }
            let di = i
            while i < n && changedA[i] { i += 1 }
            if i > di { ops.append(DiffOp(kind: .delete, oldRange: di..<i, newRange: j..<j)) }
            let dj = j
            while j < m && changedB[j] { j += 1 }
            if j > dj { ops.append(DiffOp(kind: .insert, oldRange: i..<i, newRange: dj..<j)) }
            if i == si && j == sj { break } // cannot happen for consistent flags
        }
        return ops
    }

    /// Computes a token-level edit script between two id sequences.
    public static func diff(_ a: [Int32], _ b: [Int32], algorithm: DiffAlgorithm = .myers) -> [DiffOp] {
        let unique = Int((a.max() ?? -1)) + 1
        let unique2 = Int((b.max() ?? -1)) + 1
        let (fa, fb) = changedFlags(a, b, uniqueCount: max(unique, unique2), algorithm: algorithm)
        return ops(changedA: fa, changedB: fb)
    }
}
