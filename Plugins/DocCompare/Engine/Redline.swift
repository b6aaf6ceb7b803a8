/// A redline: the new text with every change marked, such that accepting all changes
/// yields the new text and rejecting all yields the old text.
public struct Redline: Codable, Sendable, Equatable {
    /// One piece of the redline.
    public indirect enum Segment: Codable, Sendable, Equatable {
        /// Text present in both versions.
        case equal(String)
        /// Inserted text (kept on accept, dropped on reject).
        case insert(String)
        /// Deleted text (dropped on accept, kept on reject).
        case delete(String)
        /// Source end of a move: the block's old text at its old position (behaves as a deletion).
        case moveFrom(id: Int, text: String)
        /// Destination end of a move at its new position (behaves as an insertion as a whole);
        /// `segments` show the edits made to the block while moving (only equal/insert/delete).
        case moveTo(id: Int, segments: [Segment])
        /// A clause number that changed only because clauses were renumbered (not counted as a change).
        case renumber(old: String, new: String)
        /// A clause heading annotation; part of neither text.
        case clauseLabel(String)
    }

    /// The pieces, in document order.
    public var segments: [Segment]
    /// Optional title for the HTML page.
    public var title: String

    /// Creates a redline from segments.
    public init(segments: [Segment], title: String = "Redline") {
        self.segments = segments
        self.title = title
    }

    /// Builds a redline from a diff. Replacements in line mode are refined to word level,
    /// and moved-and-modified blocks show their internal word edits.
    public init(_ result: DiffResult, title: String = "Redline") {
        self.title = title
        var segs: [Segment] = []
        let ops = result.exactOps
        var k = 0
        while k < ops.count {
            let op = ops[k]
            switch op.kind {
            case .equal:
                segs.append(.equal(result.old.text(op.oldRange)))
            case .delete:
                if let id = op.moveID {
                    segs.append(.moveFrom(id: id, text: result.old.text(op.oldRange)))
                } else if k + 1 < ops.count, ops[k + 1].kind == .insert, ops[k + 1].moveID == nil,
                          result.options.granularity == .line {
                    segs.append(contentsOf: Redline.wordSegments(result.old.text(op.oldRange), result.new.text(ops[k + 1].newRange)))
                    k += 1
                } else {
                    segs.append(.delete(result.old.text(op.oldRange)))
                }
            case .insert:
                if let id = op.moveID {
                    let newText = result.new.text(op.newRange)
                    if let mv = result.move(id: id), mv.isModified {
                        segs.append(.moveTo(id: id, segments: Redline.wordSegments(result.old.text(mv.oldRange), newText)))
                    } else {
                        segs.append(.moveTo(id: id, segments: [.equal(newText)]))
                    }
                } else {
                    segs.append(.insert(result.new.text(op.newRange)))
                }
            }
            k += 1
        }
        self.segments = Redline.coalesce(segs)
    }

    /// Word-level segments turning `old` into `new` (with semantic clean-up).
    public static func wordSegments(_ old: String, _ new: String) -> [Segment] {
        let r = DocDiff.diff(old, new, options: DiffOptions(granularity: .word, detectMoves: false))
        var segs: [Segment] = []
        for op in r.ops {
            switch op.kind {
            case .equal: segs.append(.equal(r.old.text(op.oldRange)))
            case .delete: segs.append(.delete(r.old.text(op.oldRange)))
            case .insert: segs.append(.insert(r.new.text(op.newRange)))
            }
        }
        return coalesce(segs)
    }

    /// Merges neighbouring segments of the same simple kind.
    static func coalesce(_ segs: [Segment]) -> [Segment] {
        var out: [Segment] = []
        for s in segs {
            switch (out.last, s) {
            case (.equal(let a)?, .equal(let b)): out[out.count - 1] = .equal(a + b)
            case (.insert(let a)?, .insert(let b)): out[out.count - 1] = .insert(a + b)
            case (.delete(let a)?, .delete(let b)): out[out.count - 1] = .delete(a + b)
            default:
                if case .equal(let t) = s, t.isEmpty { continue }
                out.append(s)
            }
        }
        return out
    }

    /// The text with all changes accepted (the new text).
    public func acceptAll() -> String { Redline.resolve(segments, accept: true) }

    /// The text with all changes rejected (the old text).
    public func rejectAll() -> String { Redline.resolve(segments, accept: false) }

    static func resolve(_ segs: [Segment], accept: Bool) -> String {
        var out = ""
        for s in segs {
            switch s {
            case .equal(let t): out += t
            case .insert(let t): if accept { out += t }
            case .delete(let t): if !accept { out += t }
            case .moveFrom(_, let t): if !accept { out += t }
            case .moveTo(_, let inner): if accept { out += resolve(inner, accept: true) }
            case .renumber(let o, let n): out += accept ? n : o
            case .clauseLabel: break
            }
        }
        return out
    }

    /// Number of change marks (insertions, deletions, moves), not counting renumbering.
    public var changeCount: Int {
        func count(_ segs: [Segment]) -> Int {
            segs.reduce(0) { acc, s in
                switch s {
                case .insert, .delete, .moveFrom: return acc + 1
                case .moveTo(_, let inner): return acc + 1 + count(inner)
                default: return acc
                }
            }
        }
        return count(segments)
    }
}
