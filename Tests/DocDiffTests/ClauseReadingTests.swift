import XCTest
@testable import DocDiff

/// Clause mode reads a contract as a lawyer does: layout is never a change, separators belong to
/// no clause, wrapped lines do not start clauses, headings stand alone, pairing respects structure.
final class ClauseReadingTests: XCTestCase {
    func assertRoundTrip(_ cmp: ClauseComparison, _ old: String, _ new: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(cmp.redline.acceptAll(), new, file: file, line: line)
        XCTAssertEqual(cmp.redline.rejectAll(), old, file: file, line: line)
    }

    func testRenumberingThatShiftsTheHangingIndentIsNoChange() {
        let old = """
        9.1  The Supplier shall deliver the Goods to the Delivery Address on the
             Delivery Date and shall bear the risk in the Goods until delivery.
        9.2  Title to the Goods passes to the Customer on payment in full.

        """
        let new = """
        10.1  The Supplier shall deliver the Goods to the Delivery Address on
              the Delivery Date and shall bear the risk in the Goods until
              delivery.
        10.2  Title to the Goods passes to the Customer on payment in full.


        """
        let cmp = ClauseComparer.compare(old, new)
        XCTAssertEqual(cmp.changedClauseCount, 0, "\(cmp.changes.map { ($0.oldNumber, $0.newNumber, $0.status) })")
        XCTAssertEqual(cmp.changes.filter { $0.renumbered }.count, 2)
        assertRoundTrip(cmp, old, new)
    }

    func testSwappingTwoClausesSeparatedByABlankLineChangesNeither() {
        let old = "1. Payment. The Customer shall pay within thirty days.\n\n2. Notices. Notices shall be in writing.\n"
        let new = "1. Notices. Notices shall be in writing.\n\n2. Payment. The Customer shall pay within thirty days.\n"
        let cmp = ClauseComparer.compare(old, new)
        XCTAssertEqual(cmp.changedClauseCount, 0, "\(cmp.changes.map { ($0.oldNumber, $0.newNumber, $0.status) })")
        XCTAssertEqual(cmp.changes.filter { $0.moved }.count, 1)
        XCTAssertTrue(cmp.oldClauses.allSatisfy { !$0.body.hasSuffix("\n\n") })
        assertRoundTrip(cmp, old, new)
    }

    func testWrappedLinesBeginningWithNumbersDoNotStartClauses() {
        let text = """
        4.1 The Customer shall pay each invoice within thirty
        (30) days of receipt, and any disputed amount within one hundred and twenty
        (120) days, and the Supplier shall answer queries between
        9.00 a.m. and 5.00 p.m. on Business Days.
        4.2 The Supplier shall:
        (a) keep records; and
        (b) allow audits.

        """
        let clauses = ClauseSplitter.split(text)
        XCTAssertEqual(clauses.map { $0.number }, ["4.1", "4.2", "(a)", "(b)"])
        XCTAssertEqual(clauses.map { $0.text }.joined(), text)
    }

    func testHeadingsAreUnitsOfTheirOwn() {
        let old = """
        12. Notices. Notices shall be given in writing to the addresses above.

        Schedule 1 - The Services

        The Supplier shall provide cleaning services at the Premises.

        IN WITNESS WHEREOF the parties have signed this agreement.

        Signed by John Smith for and on behalf of Acme Limited

        """
        let new = old.replacingOccurrences(of: "cleaning services", with: "cleaning and maintenance services")
        let clauses = ClauseSplitter.split(old)
        XCTAssertEqual(clauses.count, 5, "\(clauses.map { $0.text })")
        XCTAssertEqual(clauses[1].number, "Schedule 1")
        let cmp = ClauseComparer.compare(old, new)
        let changed = cmp.changes.filter { $0.status != .unchanged }
        XCTAssertEqual(changed.count, 1)
        XCTAssertEqual(changed.first?.status, .modified)
        XCTAssertEqual(changed.first?.newIndex, 2)
        assertRoundTrip(cmp, old, new)
    }

    func testAddedAndDeletedClausesAreNotPaired() {
        let old = """
        1. Definitions. In this agreement the following terms shall have the following meanings.
        2. Insurance. The Supplier shall maintain insurance with a reputable insurer for the term of this agreement.
        3. Notices. Any notice under this agreement shall be in writing.

        """
        let new = """
        1. Definitions. In this agreement the following terms shall have the following meanings.
        2. Records. The Supplier shall maintain complete records of the Services for the term of this agreement.
        3. Notices. Any notice under this agreement shall be in writing.

        """
        let cmp = ClauseComparer.compare(old, new)
        XCTAssertEqual(cmp.changes.filter { $0.status == .modified }.count, 0, "\(cmp.changes.map { ($0.oldNumber, $0.newNumber, $0.status, $0.similarity) })")
        XCTAssertEqual(cmp.changes.filter { $0.status == .added }.count, 1)
        XCTAssertEqual(cmp.changes.filter { $0.status == .removed }.count, 1)
        assertRoundTrip(cmp, old, new)
    }

    /// A short clause moved to another section and edited in three of its 15 words (one replaced,
    /// one deleted, one added) keeps 4 of its 6 content words in order: under every content bar,
    /// and with no paired neighbour or parent. It is still the same clause, moved and modified,
    /// not a deletion plus an addition (the bench's one missed moved block, pair 194).
    func testShortClauseMovedAndEditedInAFewWordsIsOneMove() {
        let old = """
        1. WAIVER

        1.1 The Supplier must not procure all Confidential Information promptly without
            delay within ten (10) Business Days of the request.

        1.2 The Customer will test the Software as soon as practicable using prompt care
            and skill and in a proper manner.

        1.3 No failure to exercise a right under this agreement is a waiver of that right.

        2. CONFIDENTIALITY

        2.1 The Territory must not invoice the Specification at its own cost in
            accordance with paragraph 2.

        2.2 The Price will use the Services without delay between 9.00 a.m. and 5.00
            p.m. on any Business Day.

        2.3 The Invoice shall not document all Confidential Information to the all
            satisfaction of the Deliverables.

        2.4 The Records shall invoice all Confidential Information as soon as
            practicable to the applicable satisfaction of the Milestone.

        """
        let new = """
        1. WAIVER

        1.1 The Invoice shall not annual all Information to the all satisfaction of
            additional the Deliverables.

        1.2 The Supplier must not procure all Confidential Information promptly without
            delay within ten (10) Business Days of the request.

        1.3 The Customer will test the Software as soon as practicable using prompt care
            and skill and in a proper manner.

        1.4 No failure to exercise a right under this agreement is a waiver of that right.

        2. CONFIDENTIALITY

        2.1 The Territory must not invoice the Specification at its own cost in
            accordance with paragraph 2.

        2.2 The Price will use the Services without delay between 9.00 a.m. and 5.00
            p.m. on any Business Day.

        2.3 The Records shall invoice all Confidential Information as soon as
            practicable to the applicable satisfaction of the Milestone.

        """
        let cmp = ClauseComparer.compare(old, new)
        let summary = "\(cmp.changes.map { ($0.oldNumber, $0.newNumber, $0.status, $0.moved) })"
        XCTAssertEqual(cmp.changes.filter { $0.status == .added || $0.status == .removed }.count, 0, summary)
        let modified = cmp.changes.filter { $0.status == .modified }
        XCTAssertEqual(modified.count, 1, summary)
        XCTAssertEqual(modified.first?.oldNumber.flatMap(RenumberedReferences.core), "2.3", summary)
        XCTAssertEqual(modified.first?.newNumber.flatMap(RenumberedReferences.core), "1.1", summary)
        XCTAssertEqual(cmp.moves.count, 1, summary)
        XCTAssertEqual(cmp.changes.filter { $0.moved }.count, 1, "only the moved clause is reported as moved: \(summary)")
        assertRoundTrip(cmp, old, new)
    }

    func testWordEditIsReportedWithItsWords() {
        let old = "1. Term. This agreement lasts for\n   three years.\n2. Law. English law applies.\n"
        let new = "1. Term. This agreement lasts for five years.\n2. Law. English law applies.\n"
        let cmp = ClauseComparer.compare(old, new)
        let changed = cmp.changes.filter { $0.status != .unchanged }
        XCTAssertEqual(changed.count, 1)
        XCTAssertEqual(changed.first?.wordChanges, 1)
        let segments = changed.first?.segments ?? []
        XCTAssertTrue(segments.contains { if case .insert(let t) = $0 { return t.contains("five") }; return false }, "\(segments)")
        XCTAssertTrue(segments.contains { if case .delete(let t) = $0 { return t.contains("three") }; return false }, "\(segments)")
        assertRoundTrip(cmp, old, new)
    }

    func testRewrappingToOneParagraphPerLineIsNoChange() {
        let wrapped = """
        ARTICLE I
        DEFINITIONS

        Section 1.1  "Confidential Information" means all non-public information disclosed by a
                     party to the other party, whether orally or in writing, and all copies of it.

        Section 1.2  "Fees" means the fees payable under Section 1.1 within thirty
                     (30) days after receipt of a proper invoice, as set out in each order.

        IN WITNESS WHEREOF, the parties have executed this Agreement as of the Effective Date.

        By: ____________________
        Name:
        Title:

        """
        // The same text as a .docx gives it: one paragraph per line, no blank lines, no wrapping.
        let onePerLine = """
        ARTICLE I
        DEFINITIONS
        Section 1.1 "Confidential Information" means all non-public information disclosed by a party to the other party, whether orally or in writing, and all copies of it.
        Section 1.2 "Fees" means the fees payable under Section 1.1 within thirty (30) days after receipt of a proper invoice, as set out in each order.
        IN WITNESS WHEREOF, the parties have executed this Agreement as of the Effective Date.
        By: ____________________
        Name:
        Title:

        """
        let cmp = ClauseComparer.compare(wrapped, onePerLine)
        XCTAssertEqual(cmp.oldClauses.count, cmp.newClauses.count, "\(cmp.oldClauses.map { $0.content }) vs \(cmp.newClauses.map { $0.content })")
        XCTAssertEqual(cmp.changedClauseCount, 0, "\(cmp.changes.map { ($0.oldNumber, $0.newNumber, $0.status) })")
        assertRoundTrip(cmp, wrapped, onePerLine)
    }
}
