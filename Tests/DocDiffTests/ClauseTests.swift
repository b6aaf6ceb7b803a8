import XCTest
@testable import DocDiff

final class ClauseTests: XCTestCase {
    let old = """
    SERVICES AGREEMENT
    This agreement is made between Acme Ltd and Beta LLC.

    1. Definitions. Terms used in this agreement have the meanings given in the schedule.
    2. Payment. The customer shall pay each invoice within thirty days of receipt.
    3. Confidentiality. Each party shall keep the other party's confidential information secret.
    4. Termination. Either party may terminate this agreement on ninety days written notice.
    5. Governing law. This agreement is governed by the laws of England and Wales.
    6. Assignment. Neither party may assign its rights without the prior written consent of the other.

    """
    // Clause 3 moved to the end (renumbered), clause 2 edited, clause 6 removed, a new clause added.
    let new = """
    SERVICES AGREEMENT
    This agreement is made between Acme Ltd and Beta LLC.

    1. Definitions. Terms used in this agreement have the meanings given in the schedule.
    2. Payment. The customer shall pay each invoice within sixty days of receipt.
    3. Termination. Either party may terminate this agreement on ninety days written notice.
    4. Governing law. This agreement is governed by the laws of England and Wales.
    5. Audit. The supplier shall keep complete records and allow audits once a year.
    6. Confidentiality. Each party shall keep the other party's confidential information secret.

    """

    func testSplitter() {
        let text = "Intro\n1. One\n1.1 Sub:\n(a) an item;\nArticle 3 Big\nSection 2.1 Small\n2024 was a year\nplain\n"
        let c = ClauseSplitter.split(text)
        XCTAssertEqual(c.map { $0.number }, [nil, "1.", "1.1", "(a)", "Article 3", "Section 2.1"])
        XCTAssertEqual(c.map { $0.text }.joined(), text)
    }

    func testReorderedRenumberedContract() {
        let cmp = ClauseComparer.compare(old, new)
        func change(newNumber: String?) -> ClauseChange? { cmp.changes.first { $0.newNumber == newNumber && $0.status != .removed } }

        // Untouched clauses (some renumbered, one moved) report zero changes.
        for (n, o) in [("1.", "1."), ("3.", "4."), ("4.", "5."), ("6.", "3.")] {
            let c = try! XCTUnwrap(change(newNumber: n), n)
            XCTAssertEqual(c.status, .unchanged, n)
            XCTAssertEqual(c.wordChanges, 0, n)
            XCTAssertEqual(c.oldNumber, o, n)
            XCTAssertEqual(c.renumbered, n != o, n)
        }
        XCTAssertTrue(change(newNumber: "6.")!.moved)
        // The real edits.
        let pay = try! XCTUnwrap(change(newNumber: "2."))
        XCTAssertEqual(pay.status, .modified)
        XCTAssertEqual(pay.oldNumber, "2.")
        XCTAssertTrue(pay.segments.contains(.delete("thirty")))
        XCTAssertTrue(pay.segments.contains(.insert("sixty")))
        XCTAssertEqual(cmp.changes.filter { $0.status == .added }.map { $0.newNumber }, ["5."])
        XCTAssertEqual(cmp.changes.filter { $0.status == .removed }.map { $0.oldNumber }, ["6."])
        XCTAssertEqual(cmp.changedClauseCount, 3)
        // The preamble is matched and unchanged.
        XCTAssertEqual(change(newNumber: nil)?.status, .unchanged)

        // The redline reproduces both versions.
        XCTAssertEqual(cmp.redline.acceptAll(), new)
        XCTAssertEqual(cmp.redline.rejectAll(), old)
        let html = cmp.redline.html
        XCTAssertEqual(RedlineHTML.acceptAll(html: html), new)
        XCTAssertEqual(RedlineHTML.rejectAll(html: html), old)
        XCTAssertTrue(html.contains("class=\"renumber\""))
        XCTAssertTrue(html.contains("clause-label"))
    }

    func testPureRenumberingIsNoChange() {
        let a = "1. Alpha clause text here.\n2. Beta clause text here.\n3. Gamma clause text here.\n"
        let b = "(a) Alpha clause text here.\n(b) Beta clause text here.\n(c) Gamma clause text here.\n"
        let cmp = ClauseComparer.compare(a, b)
        XCTAssertEqual(cmp.changedClauseCount, 0)
        XCTAssertTrue(cmp.changes.allSatisfy { $0.renumbered && !$0.moved && $0.wordChanges == 0 })
        XCTAssertEqual(cmp.redline.acceptAll(), b)
        XCTAssertEqual(cmp.redline.rejectAll(), a)
    }
}
