/// Sample documents shared by the tests.
enum Samples {
    static let old = """
    Résumé of the agreement — version 1.
    The quick brown fox jumps over the lazy dog.
    Payment is due within thirty days.
    Line with <markup> & "quotes" that must be escaped.
    Unchanged closing line.
    No newline at the end
    """
    static let new = """
    Résumé of the agreement — version 2.
    The quick brown fox jumps over the lazy dog.
    Payment is due within sixty days of receipt.
    Line with <markup> & "quotes" that must be escaped.
    A brand new line 🚀.
    Unchanged closing line.
    No newline at the end, still
    """

    /// (old, new) pairs covering edge cases: empty sides, final newlines, identical texts, pure insert/delete.
    static let pairs: [(String, String)] = [
        (old, new),
        ("", "added to an empty file\n"),
        ("everything goes\naway\n", ""),
        ("same\ntext\n", "same\ntext\n"),
        ("a\nb\nc\n", "a\nb\nc"),
        ("x\r\ny\r\n", "x\r\nY\r\n"),
        ((1...60).map { "line \($0)\n" }.joined(), (1...60).map { $0 % 17 == 0 ? "LINE \($0) changed\n" : "line \($0)\n" }.joined()),
    ]

    static let paragraphs = [
        "Alpha paragraph. The supplier shall deliver the goods to the premises of the customer.",
        "Bravo paragraph. Invoices are payable within thirty days after the date of the invoice.",
        "Charlie paragraph. Either party may terminate this agreement with ninety days notice.",
        "Delta paragraph. This agreement is governed by the laws of England and Wales.",
    ]

    static let contractOld = """
    SERVICES AGREEMENT
    This agreement is made between Acme Ltd and Beta LLC.

    1. Definitions. Terms used in this agreement have the meanings given in the schedule.
    2. Payment. The customer shall pay each invoice within thirty days of receipt.
    3. Confidentiality. Each party shall keep the other party's confidential information secret.
    4. Termination. Either party may terminate this agreement on ninety days written notice.
    5. Governing law. This agreement is governed by the laws of England and Wales.

    """
    /// Clauses reordered and renumbered; only Payment is edited.
    static let contractNew = """
    SERVICES AGREEMENT
    This agreement is made between Acme Ltd and Beta LLC.

    1. Definitions. Terms used in this agreement have the meanings given in the schedule.
    2. Termination. Either party may terminate this agreement on ninety days written notice.
    3. Payment. The customer shall pay each invoice within sixty days of receipt.
    4. Governing law. This agreement is governed by the laws of England and Wales.
    5. Confidentiality. Each party shall keep the other party's confidential information secret.

    """
}
