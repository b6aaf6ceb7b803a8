import DocDiff

/// The `format=json` answer of `POST /api/v1/documents/compare` (keys are snake_case on the wire).
struct CompareReport: Encodable, Sendable {
    /// The options as applied, defaults filled in.
    struct Options: Encodable, Sendable {
        var granularity: String
        var algorithm: String
        var ignoreWhitespace: Bool
        var ignoreCase: Bool
        var detectMoves: Bool
    }

    /// What was compared on one side.
    struct DocumentInfo: Encodable, Sendable {
        /// `text` or `docx`.
        var source: String
        /// The uploaded file name, if any.
        var filename: String?
        /// Size of the compared text in UTF-8 bytes (for a .docx: of the extracted text).
        var textBytes: Int
    }

    /// `plain` or `clauses`.
    var mode: String
    /// The options as applied.
    var options: Options
    /// The old side.
    var old: DocumentInfo
    /// The new side.
    var new: DocumentInfo
    /// True when the edit script has no insertions or deletions.
    var identical: Bool
    /// Token counts (inserted, deleted, moved, unchanged, move blocks).
    var statistics: DiffStatistics
    /// Moved blocks (token ranges on both sides), also referenced by `move_id` in the operations.
    var moves: [MoveBlock]
    /// The edit script: byte offsets and lengths, text of deletes and inserts; applying it to the old text yields the new.
    var editScript: EditScript
    /// Clause alignment, in `mode=clauses` only.
    var clauses: ClauseReport?
    /// Which stored versions were compared (the stored-versions route only).
    var versions: VersionPair? = nil
}

/// The stored versions a comparison ran on.
struct VersionPair: Encodable, Sendable {
    var tenant: String
    var document: String
    var from: Int
    var to: Int
}

/// What one comparison found: the payload of `document.compared` (keys are snake_case on the wire).
struct CompareSummary: Encodable, Sendable {
    /// The tenant, when the documents were stored versions.
    var tenant: String?
    /// The document id, when the documents were stored versions.
    var document: String?
    /// The old stored version, if any.
    var from: Int?
    /// The new stored version, if any.
    var to: Int?
    /// `plain` or `clauses`.
    var mode: String
    /// The output format answered.
    var format: String
    /// The granularity the statistics are counted in (`line` for unified diffs).
    var granularity: String
    /// The diff algorithm.
    var algorithm: String
    /// True when nothing was inserted, deleted or moved.
    var identical: Bool
    /// Token counts of the comparison.
    var statistics: DiffStatistics
    /// Number of moved blocks.
    var moves: Int
    /// Sizes of the compared texts in UTF-8 bytes.
    var oldBytes: Int
    var newBytes: Int
}

/// The clause-aware part of a report.
struct ClauseReport: Encodable, Sendable {
    /// One aligned, added or removed clause.
    struct Entry: Encodable, Sendable {
        var status: String
        var oldIndex: Int?
        var newIndex: Int?
        var oldNumber: String?
        var newNumber: String?
        var renumbered: Bool
        var moved: Bool
        var moveId: Int?
        var similarity: Double
        var wordChanges: Int
        var segments: [SegmentInfo]
    }

    /// Number of clauses in the old version.
    var oldClauseCount: Int
    /// Number of clauses in the new version.
    var newClauseCount: Int
    /// Clauses modified, added or removed (renumbering and pure reordering do not count).
    var changedClauseCount: Int
    /// Every clause, in redline order.
    var changes: [Entry]
    /// Blocks of consecutive clauses that moved together: unit index ranges `[from, to)`.
    var moves: [Move]

    /// A moved block of clauses.
    struct Move: Encodable, Sendable {
        var id: Int
        var oldUnits: [Int]
        var newUnits: [Int]
    }

    /// Builds the report of a clause comparison.
    init(_ comparison: ClauseComparison) {
        oldClauseCount = comparison.oldClauses.count
        newClauseCount = comparison.newClauses.count
        changedClauseCount = comparison.changedClauseCount
        changes = comparison.changes.map { change in
            Entry(status: change.status.rawValue, oldIndex: change.oldIndex, newIndex: change.newIndex,
                  oldNumber: change.oldNumber, newNumber: change.newNumber, renumbered: change.renumbered,
                  moved: change.moved, moveId: change.moveID, similarity: change.similarity, wordChanges: change.wordChanges,
                  segments: change.segments.map(SegmentInfo.init))
        }
        moves = comparison.moves.map {
            Move(id: $0.id, oldUnits: [$0.oldRange.lowerBound, $0.oldRange.upperBound],
                 newUnits: [$0.newRange.lowerBound, $0.newRange.upperBound])
        }
    }
}

/// A redline segment as flat JSON: `{"type": "insert", "text": "..."}`.
struct SegmentInfo: Encodable, Sendable {
    /// equal, insert, delete, move_from, move_to, renumber or clause_label.
    var type: String
    /// The segment's text (not for move_to and renumber).
    var text: String?
    /// For renumber: the old and new numbers.
    var oldNumber: String?
    var newNumber: String?
    /// For move_from / move_to.
    var moveId: Int?
    /// For move_to: the block's own segments.
    var segments: [SegmentInfo]?

    /// Flattens an engine segment.
    init(_ segment: Redline.Segment) {
        switch segment {
        case .equal(let text): type = "equal"; self.text = text
        case .insert(let text): type = "insert"; self.text = text
        case .delete(let text): type = "delete"; self.text = text
        case .moveFrom(let id, let text): type = "move_from"; moveId = id; self.text = text
        case .moveTo(let id, let inner): type = "move_to"; moveId = id; segments = inner.map(SegmentInfo.init)
        case .renumber(let old, let new): type = "renumber"; oldNumber = old; newNumber = new
        case .clauseLabel(let text): type = "clause_label"; self.text = text
        }
    }
}
