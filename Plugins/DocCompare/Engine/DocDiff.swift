/// Counts describing an edit script, in tokens of the chosen granularity.
public struct DiffStatistics: Codable, Sendable, Equatable {
    /// Tokens inserted (not counting the destination ends of moves).
    public var inserted: Int
    /// Tokens deleted (not counting the source ends of moves).
    public var deleted: Int
    /// Tokens moved (counted at the destination end).
    public var moved: Int
    /// Tokens unchanged.
    public var unchanged: Int
    /// Number of move blocks.
    public var moveBlocks: Int

    /// Creates statistics.
    public init(inserted: Int = 0, deleted: Int = 0, moved: Int = 0, unchanged: Int = 0, moveBlocks: Int = 0) {
        self.inserted = inserted
        self.deleted = deleted
        self.moved = moved
        self.unchanged = unchanged
        self.moveBlocks = moveBlocks
    }

    /// Computes statistics for ops and moves.
    public init(ops: [DiffOp], moves: [MoveBlock]) {
        self.init(moveBlocks: moves.count)
        for op in ops {
            switch op.kind {
            case .equal: unchanged += op.oldRange.count
            case .delete: if op.moveID == nil { deleted += op.oldRange.count }
            case .insert: if op.moveID == nil { inserted += op.newRange.count } else { moved += op.newRange.count }
            }
        }
    }
}

/// The result of comparing two texts: the tokenized texts, the edit script and detected moves.
public struct DiffResult: Sendable {
    /// The old text, tokenized.
    public let old: TokenizedText
    /// The new text, tokenized.
    public let new: TokenizedText
    /// The edit script, in order; deletes precede inserts within a change.
    public let ops: [DiffOp]
    /// Detected moves (their ends are the ops carrying the same `moveID`).
    public let moves: [MoveBlock]
    /// The options used.
    public let options: DiffOptions
    /// Counts of inserted, deleted, moved and unchanged tokens.
    public var statistics: DiffStatistics { DiffStatistics(ops: ops, moves: moves) }

    /// Creates a result.
    public init(old: TokenizedText, new: TokenizedText, ops: [DiffOp], moves: [MoveBlock], options: DiffOptions) {
        self.old = old
        self.new = new
        self.ops = ops
        self.moves = moves
        self.options = options
    }

    /// Total tokens deleted plus inserted, moves included (for line mode: the changed-line count of `diff`).
    public var changedTokenCount: Int {
        ops.reduce(0) { $0 + ($1.kind == .delete ? $1.oldRange.count : $1.kind == .insert ? $1.newRange.count : 0) }
    }

    /// The ops with "equal under the ignore options but not byte-identical" runs turned into
    /// delete + insert pairs, so that replaying them reproduces the new text exactly.
    public var exactOps: [DiffOp] {
        guard options.ignoreCase || options.ignoreWhitespace else { return ops }
        var out: [DiffOp] = []
        func same(_ i: Int, _ j: Int) -> Bool { old.bytes.slice(old.byteRange(i..<(i + 1))).elementsEqual(new.bytes.slice(new.byteRange(j..<(j + 1)))) }
        for op in ops {
            guard op.kind == .equal else { out.append(op); continue }
            var k = 0
            let n = op.oldRange.count
            while k < n {
                let s = k
                let eq = same(op.oldRange.lowerBound + k, op.newRange.lowerBound + k)
                while k < n && same(op.oldRange.lowerBound + k, op.newRange.lowerBound + k) == eq { k += 1 }
                let o = (op.oldRange.lowerBound + s)..<(op.oldRange.lowerBound + k)
                let nr = (op.newRange.lowerBound + s)..<(op.newRange.lowerBound + k)
                if eq {
                    out.append(DiffOp(kind: .equal, oldRange: o, newRange: nr))
                } else {
                    out.append(DiffOp(kind: .delete, oldRange: o, newRange: nr.lowerBound..<nr.lowerBound))
                    out.append(DiffOp(kind: .insert, oldRange: o.upperBound..<o.upperBound, newRange: nr))
                }
            }
        }
        return out
    }

    /// The move with the given id.
    public func move(id: Int) -> MoveBlock? { moves.first { $0.id == id } }
}

/// Entry points of the DocDiff engine. All functions are synchronous, pure and thread-safe.
public enum DocDiff {
    /// Compares two documents.
    public static func diff(_ old: TextDocument, _ new: TextDocument, options: DiffOptions = DiffOptions()) -> DiffResult {
        diff(old: old.bytes, new: new.bytes, options: options)
    }

    /// Compares two strings.
    public static func diff(_ old: String, _ new: String, options: DiffOptions = DiffOptions()) -> DiffResult {
        diff(oldBytes: Array(old.utf8), newBytes: Array(new.utf8), options: options)
    }

    /// Compares two UTF-8 byte buffers (the caller guarantees valid UTF-8, e.g. via `TextDocument`).
    public static func diff(oldBytes: [UInt8], newBytes: [UInt8], options: DiffOptions = DiffOptions()) -> DiffResult {
        diff(old: ByteView(oldBytes), new: ByteView(newBytes), options: options)
    }

    /// Compares two UTF-8 byte views, read in place (valid UTF-8 is the caller's guarantee).
    public static func diff(old: ByteView, new: ByteView, options: DiffOptions = DiffOptions()) -> DiffResult {
        let a = TokenizedText(bytes: old, granularity: options.granularity)
        let b = TokenizedText(bytes: new, granularity: options.granularity)
        return diff(tokenized: a, b, options: options)
    }

    /// Compares two already tokenized texts.
    public static func diff(tokenized a: TokenizedText, _ b: TokenizedText, options: DiffOptions) -> DiffResult {
        let interned = Interner.intern(KeyNormalizer.keys(a, options: options), KeyNormalizer.keys(b, options: options))
        let (fa, fb) = SequenceDiff.changedFlags(interned.a, interned.b, uniqueCount: interned.uniqueCount,
                                                 algorithm: options.algorithm)
        var ops = SequenceDiff.ops(changedA: fa, changedB: fb)
        if options.semanticCleanup && options.granularity != .line {
            ops = SemanticCleanup.run(ops, old: a, new: b, oldIDs: interned.a, newIDs: interned.b)
        }
        var moves: [MoveBlock] = []
        if options.detectMoves {
            (ops, moves) = MoveDetector.detect(ops: ops, old: a, new: b, oldIDs: interned.a, newIDs: interned.b,
                                               options: options)
        }
        return DiffResult(old: a, new: b, ops: ops, moves: moves, options: options)
    }

    /// Line-mode Myers diff of two byte buffers returning only the number of deleted plus
    /// inserted lines (the hot path used by the benchmark; no moves, no clean-up).
    public static func changedLineCount(oldBytes: [UInt8], newBytes: [UInt8], algorithm: DiffAlgorithm = .myers) -> Int {
        changedLineCount(old: ByteView(oldBytes), new: ByteView(newBytes), algorithm: algorithm)
    }

    /// ``changedLineCount(oldBytes:newBytes:algorithm:)`` of two byte views.
    public static func changedLineCount(old: ByteView, new: ByteView, algorithm: DiffAlgorithm = .myers) -> Int {
        let opts = DiffOptions(granularity: .line, algorithm: algorithm, semanticCleanup: false, detectMoves: false)
        return diff(old: old, new: new, options: opts).changedTokenCount
    }
}
