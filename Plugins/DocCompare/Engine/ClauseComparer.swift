/// How a clause changed between versions.
public struct ClauseChange: Codable, Sendable, Equatable {
    /// The kind of change.
    public enum Status: String, Codable, Sendable {
        /// Same words (apart from its number, layout and renumbered references).
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
    /// The move this clause is part of (clauses moved together share one move).
    public var moveID: Int?
    /// Ordered word similarity (1 for the same words).
    public var similarity: Double
    /// Word-level changes inside the clause (runs of changed words; 0 for unchanged clauses).
    public var wordChanges: Int
    /// Word-level redline of the clause (lead, number, body, separator).
    public var segments: [Redline.Segment]
}

/// A block of consecutive clauses that moved together.
public struct ClauseMove: Codable, Sendable, Equatable {
    /// The move's id (as in the redline's move segments).
    public var id: Int
    /// Unit indices of the block in the old version.
    public var oldRange: Range<Int>
    /// Unit indices of the block in the new version.
    public var newRange: Range<Int>
}

/// The result of a clause-aware comparison.
public struct ClauseComparison: Sendable {
    /// Units of the old version.
    public let oldClauses: [Clause]
    /// Units of the new version.
    public let newClauses: [Clause]
    /// One entry per matched, added or removed unit, in reading order of the redline.
    public let changes: [ClauseChange]
    /// Blocks of clauses that moved, one per block.
    public let moves: [ClauseMove]
    /// The redline: untouched clauses plain, renumbering marked as such, edits at word level,
    /// reordered blocks as moves, added/removed clauses as insertions/deletions.
    public let redline: Redline

    /// Number of clauses that are modified, added or removed (renumbering, layout and pure moves excluded).
    public var changedClauseCount: Int { changes.filter { $0.status != .unchanged }.count }
}

/// Clause-aware comparison of contracts and policies.
///
/// Units come from ``ClauseSplitter``; they are paired by ``ClauseAligner`` (content first, then
/// structure). A pair is unchanged when its words are the same, whatever its number, indentation,
/// line wrapping or blank lines, and whatever the numbers of the clauses it refers to, when those
/// were renumbered along with them. Pairs out of order are moves, one per block of consecutive units.
public enum ClauseComparer {
    /// Compares two documents clause by clause.
    /// - Parameters:
    ///   - threshold: the ordered word similarity a pair needs (a little less when its neighbours are paired).
    ///   - ignoreCase: compare words without regard to case.
    public static func compare(_ old: String, _ new: String, threshold: Double = 0.6, ignoreCase: Bool = false,
                               title: String = "Clause redline") -> ClauseComparison {
        var oc = ClauseSplitter.split(old), nc = ClauseSplitter.split(new)
        // Where one version has a paragraph on its own and the other glued it to a clause (layout
        // could not tell), split the other one too.
        let oldOpenings = ClauseSplitter.paragraphOpenings(oc), newOpenings = ClauseSplitter.paragraphOpenings(nc)
        let onlyNew = newOpenings.subtracting(oldOpenings), onlyOld = oldOpenings.subtracting(newOpenings)
        if !onlyNew.isEmpty { oc = ClauseSplitter.split(old, paragraphOpenings: onlyNew) }
        if !onlyOld.isEmpty { nc = ClauseSplitter.split(new, paragraphOpenings: onlyOld) }
        var vocabulary: [String: Int32] = [:]
        let ow = ClauseWords(oc, ignoreCase: ignoreCase, vocabulary: &vocabulary)
        let nw = ClauseWords(nc, ignoreCase: ignoreCase, vocabulary: &vocabulary)
        let (oldOfNew, similarity) = ClauseAligner(old: oc, new: nc, oldWords: ow.words, newWords: nw.words,
                                                   oldContent: ow.content, newContent: nw.content,
                                                   threshold: threshold).align()
        let references = RenumberedReferences(old: oc, new: nc, oldOfNew: oldOfNew)
        var builder = ClauseRedlineBuilder(old: oc, new: nc, oldWords: ow.words, newWords: nw.words,
                                           numberWords: ow.numberWords.merging(nw.numberWords) { a, _ in a },
                                           references: references, oldOfNew: oldOfNew, similarity: similarity)
        builder.build()
        return ClauseComparison(oldClauses: oc, newClauses: nc, changes: builder.changes, moves: builder.moves,
                                redline: Redline(segments: builder.segments, title: title))
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

/// How the numbers of paired clauses changed (`9.1` → `10.1`), so that references to them
/// (`clause 9.1` → `clause 10.1`) are read as renumbering, not as edits.
struct RenumberedReferences {
    private(set) var map: [String: String] = [:]

    init(old: [Clause], new: [Clause], oldOfNew: [Int?]) {
        var conflicting = Set<String>()
        for (j, i) in oldOfNew.enumerated() {
            guard let i, let a = Self.core(old[i].number), let b = Self.core(new[j].number), a != b else { continue }
            if let known = map[a], known != b { conflicting.insert(a) } else { map[a] = b }
        }
        for k in conflicting { map[k] = nil }
    }

    /// `9.1` for `9.1`, `9.1.`, `Section 9.1`, `Article 9`; nil for `(a)` and other list labels.
    static func core(_ label: String?) -> String? {
        guard var s = label?.split(separator: " ").last.map(String.init) else { return nil }
        while s.hasSuffix(".") || s.hasSuffix(":") { s.removeLast() }
        guard !s.isEmpty, s.first!.isNumber, s.allSatisfy({ $0.isNumber || $0 == "." }) else { return nil }
        return s
    }

    /// True when `old` became `new` by renumbering.
    func renumbers(_ old: String, _ new: String) -> Bool { map[old] == new }
}
