import Foundation
import PlexusTesting
import XCTest

/// Moved paragraphs and clause-aware comparison.
final class MovesAndClausesTests: DocCompareTestCase {

    func testMovedParagraphIsReportedAsAMove() throws {
        let plexus = try plexus()
        let p = Samples.paragraphs
        let old = [p[0], p[1], p[2], p[3]].joined(separator: "\n\n") + "\n"
        let new = [p[0], p[2], p[3], p[1]].joined(separator: "\n\n") + "\n"
        for granularity in ["line", "word"] {
            let report = try DocCompareHarness.json(try DocCompareHarness.postJSON(plexus, [
                "old": ["text": old], "new": ["text": new], "granularity": granularity,
            ]))
            let moves = report["moves"] as? [[String: Any]] ?? []
            XCTAssertEqual(moves.count, 1, "\(granularity): \(moves)")
            XCTAssertEqual(moves.first?["is_modified"] as? Bool, false)
            let statistics = report["statistics"] as? [String: Any] ?? [:]
            XCTAssertEqual(statistics["move_blocks"] as? Int, 1)
            XCTAssertGreaterThan(statistics["moved"] as? Int ?? 0, 0)
            let operations = (report["edit_script"] as? [String: Any])?["operations"] as? [[String: Any]] ?? []
            let moveEnds = operations.filter { $0["move_id"] != nil }
            XCTAssertEqual(Set(moveEnds.compactMap { $0["kind"] as? String }), ["delete", "insert"])
            XCTAssertTrue(moveEnds.contains { ($0["text"] as? String)?.contains("Bravo paragraph") == true })
            XCTAssertEqual(String(decoding: try DocCompareHarness.applyEditScript(report, to: Array(old.utf8)), as: UTF8.self), new)
        }
        // Without move detection it is a plain delete and insert.
        let plain = try DocCompareHarness.json(try DocCompareHarness.postJSON(plexus, [
            "old": ["text": old], "new": ["text": new], "detect_moves": false,
        ]))
        XCTAssertEqual((plain["moves"] as? [Any])?.count, 0)

        // The redline shows the move and still resolves to both texts.
        let page = try DocCompareHarness.postJSON(plexus, "/api/v1/documents/redline", ["old": ["text": old], "new": ["text": new]]).text
        XCTAssertTrue(page.contains("data-move=\"1\""))
        XCTAssertEqual(try DocCompareHarness.resolveRedline(page, accept: true), new)
        XCTAssertEqual(try DocCompareHarness.resolveRedline(page, accept: false), old)
    }

    func testClauseModeReportsNoChangeForReorderedAndRenumberedClauses() throws {
        let plexus = try plexus()
        let report = try DocCompareHarness.json(try DocCompareHarness.postJSON(plexus, [
            "old": ["text": Samples.contractOld], "new": ["text": Samples.contractNew], "mode": "clauses",
        ]))
        XCTAssertEqual(report["mode"] as? String, "clauses")
        let clauses = report["clauses"] as? [String: Any] ?? [:]
        XCTAssertEqual(clauses["changed_clause_count"] as? Int, 1, "\(clauses)")
        let changes = clauses["changes"] as? [[String: Any]] ?? []
        XCTAssertEqual(changes.count, 7)   // title heading, preamble paragraph, five clauses
        for change in changes {
            let text = "\(change["old_number"] ?? "-") -> \(change["new_number"] ?? "-")"
            if change["old_number"] as? String == "2." {
                XCTAssertEqual(change["status"] as? String, "modified", text)
                XCTAssertEqual(change["new_number"] as? String, "3.")
                XCTAssertGreaterThan(change["word_changes"] as? Int ?? 0, 0)
            } else {
                XCTAssertEqual(change["status"] as? String, "unchanged", text)
                XCTAssertEqual(change["word_changes"] as? Int, 0, text)
            }
        }
        let confidentiality = changes.first { $0["old_number"] as? String == "3." }
        XCTAssertEqual(confidentiality?["new_number"] as? String, "5.")
        XCTAssertEqual(confidentiality?["renumbered"] as? Bool, true)
        // The plain edit script is still there and rebuilds the new text.
        XCTAssertEqual(String(decoding: try DocCompareHarness.applyEditScript(report, to: Array(Samples.contractOld.utf8)), as: UTF8.self),
                       Samples.contractNew)

        // The clause redline resolves to both versions.
        let page = try DocCompareHarness.postJSON(plexus, "/api/v1/documents/redline", [
            "old": ["text": Samples.contractOld], "new": ["text": Samples.contractNew], "mode": "clauses",
        ]).text
        XCTAssertTrue(page.contains("class=\"renumber\""))
        XCTAssertEqual(try DocCompareHarness.resolveRedline(page, accept: true), Samples.contractNew)
        XCTAssertEqual(try DocCompareHarness.resolveRedline(page, accept: false), Samples.contractOld)
    }
}
