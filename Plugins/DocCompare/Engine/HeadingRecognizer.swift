/// Recognises headings that are not numbered clauses: schedules and annexes, all-capitals
/// titles, and execution blocks (`IN WITNESS WHEREOF`, `Signed by ...`, signature lines).
enum HeadingRecognizer {
    /// A recognised heading.
    struct Heading {
        /// `Schedule 1`, `Annex A`: its label (compared as a number, so renumbering is no change).
        var number: String?
        /// Scalars of the line's content taken by ``number``.
        var numberEnd: Int
        /// True for schedules and annexes: numbering starts again beneath them.
        var isSection: Bool
        /// True when the line opens a heading or block even right under another one
        /// (`Signed by ...` after the previous signature block).
        var opensBlock: Bool = false
        /// True for a title in capitals (`DEFINITIONS`): a title on the next line is another heading.
        var isTitle: Bool = false
    }

    /// Words that open a schedule-like section.
    static let sectionWords: Set<String> = [
        "schedule", "annex", "annexure", "appendix", "exhibit", "attachment", "addendum", "enclosure",
    ]
    /// Openings of execution and signature blocks (lower-case).
    static let executionOpenings = [
        "in witness whereof", "in witness where of", "as witness", "witness whereof", "signed ", "signed:", "signed,",
        "executed ", "the common seal",
    ]
    /// Lines inside an execution block (lower-case).
    static let executionLines = [
        "for and on behalf of", "by:", "name:", "title:", "date:", "signature", "witness:", "witnessed by",
        "duly authorised", "duly authorized", "authorised signatory", "authorized signatory", "director",
    ]

    /// The heading `shape` is, if any.
    static func recognize(_ shape: LineShape) -> Heading? {
        let head = shape.head
        var k = 0
        var word = ""
        while k < head.count && head[k].properties.isAlphabetic { word.unicodeScalars.append(head[k]); k += 1 }
        let lowered = word.lowercased()
        if sectionWords.contains(lowered) {
            var e = k
            while e < head.count && head[e] == " " { e += 1 }
            let tokenStart = e
            while e < head.count && (head[e].properties.isAlphabetic || head[e].properties.numericType != nil) && e - tokenStart < 6 { e += 1 }
            let token = String(String.UnicodeScalarView(head[tokenStart..<e]))
            let boundary = e >= head.count || !head[e].properties.isAlphabetic
            let isLabel = !token.isEmpty && boundary && (token.allSatisfy { $0.isNumber } || token.count == 1
                || ClauseNumber.roman(head, tokenStart, upper: true)?.1 == e)
            if isLabel { return Heading(number: String(String.UnicodeScalarView(head[0..<e])), numberEnd: e, isSection: true) }
            if token.isEmpty || word == word.uppercased() { return Heading(number: nil, numberEnd: 0, isSection: true) }
        }
        let text = shape.content.prefix(40).lowercased()
        if executionOpenings.contains(where: { text.hasPrefix($0) }) { return Heading(number: nil, numberEnd: 0, isSection: false, opensBlock: true) }
        if executionLines.contains(where: { text.hasPrefix($0) }) { return Heading(number: nil, numberEnd: 0, isSection: false) }
        if isCapitalsTitle(shape.content) { return Heading(number: nil, numberEnd: 0, isSection: false, isTitle: true) }
        return nil
    }

    /// A short line in capitals with at least three letters (`DEFINITIONS`, `NOW IT IS AGREED`).
    static func isCapitalsTitle(_ s: Substring) -> Bool {
        if s.count > 100 { return false }
        var letters = 0, words = 1
        for c in s {
            if c.isLowercase { return false }
            if c.isLetter { letters += 1 }
            if c == " " { words += 1 }
        }
        return letters >= 3 && words <= 12
    }
}
