import DocDiff
import Foundation

/// `docdiff-bench clauses OLD NEW [OLD NEW ...]`: compares each pair clause by clause and prints
/// one JSON object per pair: the units of both versions (kind, number, first line) and the changes
/// and moves found, for the scorer of `bench/doccompare.sh`.
enum ClauseRun {
    struct Unit: Encodable { var kind: String; var number: String?; var line: Int }
    struct Change: Encodable {
        var status: String; var old: Int?; var new: Int?; var renumbered: Bool; var move: Int?; var words: Int
    }
    struct Move: Encodable { var id: Int; var old: [Int]; var new: [Int] }
    struct Output: Encodable {
        var old: String; var new: String; var seconds: Double
        var oldUnits: [Unit]; var newUnits: [Unit]; var changes: [Change]; var moves: [Move]
    }

    /// The first line (0-based) of each unit.
    static func units(_ clauses: [Clause]) -> [Unit] {
        var line = 0
        return clauses.map { c in
            defer { line += c.text.utf8.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }
            return Unit(kind: c.kind.rawValue, number: c.number, line: line)
        }
    }

    static func run(_ paths: [String]) throws {
        guard paths.count >= 2, paths.count % 2 == 0 else { throw DocDiffError.unreadableFile(path: "", detail: "pairs of files expected") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for k in stride(from: 0, to: paths.count, by: 2) {
            let a = try TextDocument.load(path: paths[k]).string, b = try TextDocument.load(path: paths[k + 1]).string
            let start = now()
            let cmp = ClauseComparer.compare(a, b)
            let seconds = now() - start
            let out = Output(old: paths[k], new: paths[k + 1], seconds: seconds,
                             oldUnits: units(cmp.oldClauses), newUnits: units(cmp.newClauses),
                             changes: cmp.changes.map { Change(status: $0.status.rawValue, old: $0.oldIndex, new: $0.newIndex,
                                                                renumbered: $0.renumbered, move: $0.moveID, words: $0.wordChanges) },
                             moves: cmp.moves.map { Move(id: $0.id, old: [$0.oldRange.lowerBound, $0.oldRange.upperBound],
                                                         new: [$0.newRange.lowerBound, $0.newRange.upperBound]) })
            FileHandle.standardOutput.write(try encoder.encode(out) + Data("\n".utf8))
        }
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
