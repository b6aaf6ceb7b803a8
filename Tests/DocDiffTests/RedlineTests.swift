import XCTest
@testable import DocDiff

final class RedlineTests: XCTestCase {
    /// Accept-all gives the new text and reject-all the old, for the model and the parsed HTML,
    /// over random edits at every granularity and algorithm.
    func testAcceptRejectAllRandom() {
        for seed in 0..<60 {
            var rng = SeededRNG(seed: UInt64(9000 + seed))
            let a = Fixtures.randomLines(&rng, count: Int.random(in: 0...40, using: &rng))
            let b = Fixtures.edit(a, &rng)
            let ta = Fixtures.join(a, trailingNewline: seed % 2 == 0) + "<b>&amp; \"q\"</b>"
            let tb = Fixtures.join(b, trailingNewline: seed % 3 == 0) + (seed % 4 == 0 ? "<b>&amp; 'q'</b>" : "")
            for g in Granularity.allCases {
                for alg in DiffAlgorithm.allCases {
                    let r = DocDiff.diff(ta, tb, options: DiffOptions(granularity: g, algorithm: alg))
                    let red = Redline(r, title: "T <&>")
                    XCTAssertEqual(red.acceptAll(), tb, "seed \(seed) \(g) \(alg)")
                    XCTAssertEqual(red.rejectAll(), ta, "seed \(seed) \(g) \(alg)")
                    let html = red.html
                    XCTAssertEqual(RedlineHTML.acceptAll(html: html), tb, "seed \(seed) \(g) \(alg) html")
                    XCTAssertEqual(RedlineHTML.rejectAll(html: html), ta, "seed \(seed) \(g) \(alg) html")
                    XCTAssertEqual(try EditScript(r).apply(to: ta), tb)
                }
            }
        }
    }

    func testHTMLIsCompleteAndEscaped() {
        let r = DocDiff.diff("a <script>alert(1)</script>\n", "a <b>bold</b> & more\n")
        let html = Redline(r).html
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(html.contains("</html>"))
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertTrue(html.contains("&lt;"))
        XCTAssertTrue(html.contains(" &amp; "))
        XCTAssertTrue(html.contains("<ins data-change=\"ins\">"))
        XCTAssertTrue(html.contains("<del data-change=\"del\">"))
    }

    /// Semantic clean-up turns scattered character edits into a readable word replacement.
    func testSemanticCleanup() {
        let r = DocDiff.diff("The cat sat on the mat.", "The dog ran on the mat.", options: DiffOptions(granularity: .character))
        let red = Redline(r)
        XCTAssertEqual(red.acceptAll(), "The dog ran on the mat.")
        let changes = red.segments.filter { if case .equal = $0 { return false }; return true }
        XCTAssertEqual(changes, [.delete("cat sat"), .insert("dog ran")])
        let raw = DocDiff.diff("The cat sat on the mat.", "The dog ran on the mat.",
                               options: DiffOptions(granularity: .character, semanticCleanup: false))
        XCTAssertGreaterThan(raw.ops.filter { $0.kind != .equal }.count, 2)
    }

    func testWordDiffAndStatistics() {
        let r = DocDiff.diff("pay within thirty days", "pay within sixty days", options: DiffOptions(granularity: .word))
        XCTAssertEqual(Redline(r).segments, [.equal("pay within "), .delete("thirty"), .insert("sixty"), .equal(" days")])
        XCTAssertEqual(r.statistics.inserted, 1)
        XCTAssertEqual(r.statistics.deleted, 1)
        XCTAssertEqual(r.statistics.unchanged, 6)
    }
}
