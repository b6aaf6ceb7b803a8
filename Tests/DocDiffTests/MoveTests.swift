import XCTest
@testable import DocDiff

final class MoveTests: XCTestCase {
    static let paragraphs = [
        "The licensee shall pay all fees within thirty days of the invoice date.",
        "Either party may terminate this agreement with ninety days written notice.",
        "Confidential information must not be disclosed to any third party without consent.",
        "The supplier warrants that the goods are free from defects in materials and workmanship.",
        "This agreement is governed by the laws of the State of New York.",
        "Any dispute shall first be referred to mediation before litigation is commenced.",
    ]

    func doc(_ order: [Int], replace: [Int: String] = [:]) -> String {
        order.map { replace[$0] ?? Self.paragraphs[$0] }.joined(separator: "\n\n") + "\n"
    }

    func testExactMovesAreReportedAsMoves() {
        let old = doc([0, 1, 2, 3, 4, 5])
        let new = doc([2, 0, 1, 3, 5, 4])   // paragraph 2 moved up, 4/5 swapped
        let r = DocDiff.diff(old, new)
        XCTAssertEqual(r.moves.count, 2)
        XCTAssertTrue(r.moves.allSatisfy { !$0.isModified && $0.similarity == 1 })
        let stats = r.statistics
        XCTAssertEqual(stats.moveBlocks, 2)
        XCTAssertEqual(stats.moved, 4)   // two paragraphs, each with the blank line that travelled with it
        // Nothing but blank separator lines is left as plain insert/delete.
        for op in r.ops where op.kind != .equal && op.moveID == nil {
            let text = op.kind == .delete ? r.old.text(op.oldRange) : r.new.text(op.newRange)
            XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "", "unexpected plain change: \(text)")
        }
        let red = Redline(r)
        XCTAssertEqual(red.acceptAll(), new)
        XCTAssertEqual(red.rejectAll(), old)
        XCTAssertEqual(try EditScript(r).apply(to: old), new)
    }

    func testMovedAndModifiedParagraph() {
        let old = doc([0, 1, 2, 3, 4])
        let edited = "Either party may terminate this agreement with sixty days prior written notice."
        let new = doc([0, 2, 3, 1, 4], replace: [1: edited])
        let r = DocDiff.diff(old, new)
        XCTAssertEqual(r.moves.count, 1)
        let m = try! XCTUnwrap(r.moves.first)
        XCTAssertTrue(m.isModified)
        XCTAssertEqual(r.old.text(m.oldRange).trimmingCharacters(in: .newlines), Self.paragraphs[1])
        XCTAssertEqual(r.new.text(m.newRange).trimmingCharacters(in: .newlines), edited)
        let red = Redline(r)
        XCTAssertEqual(red.acceptAll(), new)
        XCTAssertEqual(red.rejectAll(), old)
        // The moved block's redline shows the word edits inside it.
        let moveTo = red.segments.compactMap { s -> [Redline.Segment]? in if case .moveTo(_, let inner) = s { return inner }; return nil }
        XCTAssertEqual(moveTo.count, 1)
        XCTAssertTrue(moveTo[0].contains(.insert("sixty")) || moveTo[0].contains { if case .insert(let t) = $0 { return t.contains("sixty") }; return false })
    }

    func testInPlaceEditIsNotAMove() {
        let old = doc([0, 1, 2])
        let new = doc([0, 1, 2], replace: [1: "Either party may terminate this agreement with sixty days written notice."])
        let r = DocDiff.diff(old, new)
        XCTAssertEqual(r.moves.count, 0)
    }

    func testWordLevelMove() {
        let old = "alpha beta gamma delta epsilon. The quick brown fox jumps.\nzeta eta theta\n"
        let new = "zeta eta theta\nalpha beta gamma delta epsilon. The quick brown fox jumps.\n"
        let r = DocDiff.diff(old, new, options: DiffOptions(granularity: .word))
        XCTAssertEqual(r.moves.count, 1)
        XCTAssertEqual(Redline(r).acceptAll(), new)
        XCTAssertEqual(Redline(r).rejectAll(), old)
    }
}

final class MovedBlockTests: XCTestCase {
    func testMovedBlockOfSeveralParagraphsIsOneMove() {
        let p = MoveTests.paragraphs
        let old = [p[0], p[1], p[2], p[3], p[4], p[5]].joined(separator: "\n\n") + "\n"
        let new = [p[0], p[4], p[5], p[1], p[2], p[3]].joined(separator: "\n\n") + "\n"
        let r = DocDiff.diff(old, new)
        XCTAssertEqual(r.moves.count, 1, "\(r.moves)")
        // The moved block spans its paragraphs and the separators between them.
        let m = try! XCTUnwrap(r.moves.first)
        XCTAssertTrue(r.old.text(m.oldRange).contains(p[4] + "\n\n" + p[5]) || r.old.text(m.oldRange).contains(p[1] + "\n\n" + p[2] + "\n\n" + p[3]))
        // Nothing is left as a plain delete or insert.
        XCTAssertTrue(r.ops.allSatisfy { $0.kind == .equal || $0.moveID != nil }, "\(r.ops)")
        XCTAssertEqual(Redline(r).acceptAll(), new)
        XCTAssertEqual(Redline(r).rejectAll(), old)
        XCTAssertEqual(try EditScript(r).apply(to: old), new)
    }
}
