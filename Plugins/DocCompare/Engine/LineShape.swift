/// What the clause splitter needs to know about one line: indentation, a leading clause number,
/// and how the line ends.
struct LineShape {
    /// The whole line, newline included.
    let line: Substring
    /// Leading spaces and tabs.
    let lead: String
    /// The line after its indentation.
    let content: Substring
    /// The first scalars of ``content`` (enough for any clause number).
    let head: [Unicode.Scalar]
    /// Indentation width in columns (a tab counts 4).
    let indent: Int
    /// True when the line holds only whitespace.
    let isBlank: Bool
    /// The clause number the line starts with, if any.
    let number: ClauseNumber?
    /// The last word of the line, lower-cased (empty when the line ends in punctuation).
    let lastWord: String
    /// The last non-whitespace character.
    let lastCharacter: Character?

    init(_ line: Substring) {
        self.line = line
        var width = 0
        var idx = line.startIndex
        while idx < line.endIndex, line[idx] == " " || line[idx] == "\t" || line[idx] == "\u{00A0}" {
            width += line[idx] == "\t" ? 4 : 1
            idx = line.index(after: idx)
        }
        lead = String(line[line.startIndex..<idx])
        content = line[idx...]
        indent = width
        head = Array(content.unicodeScalars.prefix(32))
        let trimmed = content.reversed().drop { $0.isWhitespace }
        isBlank = trimmed.first == nil
        lastCharacter = trimmed.first
        lastWord = String(trimmed.prefix { $0.isLetter }.reversed()).lowercased()
        number = isBlank ? nil : ClauseNumber.parse(head, from: 0)
    }

    /// Words after which a line break does not end anything: a number on the next line is a reference.
    static let referenceWords: Set<String> = [
        "clause", "clauses", "section", "sections", "article", "articles", "paragraph", "paragraphs", "para",
        "schedule", "schedules", "part", "parts", "annex", "appendix", "exhibit", "sub-clause", "subclause",
        "rule", "regulation", "item", "items", "no", "number", "page", "pages", "step", "of", "to", "in", "under",
        "with", "by", "at", "before", "after", "than", "within", "from", "until", "between", "per", "the", "a",
        "an", "about", "approximately", "least", "most", "only", "until", "by", "on", "for",
    ]

    /// Width of the line in characters, trailing whitespace excluded.
    var width: Int { lead.count + content.count - content.reversed().prefix { $0.isWhitespace }.count }

    /// Width of the first word of the content.
    var firstWordWidth: Int { content.prefix { !$0.isWhitespace }.count }

    /// True when the line ends a sentence or a list entry (`.`, `:`, `;`, `)`, `; and`, `, or`).
    var endsSentence: Bool {
        guard let last = lastCharacter else { return true }
        if ".:;!?)]".contains(last) { return true }
        if "\"'\u{201D}\u{2019}".contains(last) {
            let trimmed = content.reversed().drop { $0.isWhitespace || "\"'\u{201D}\u{2019}".contains($0) }
            return trimmed.first.map { ".:;!?".contains($0) } ?? false
        }
        if lastWord == "and" || lastWord == "or" || lastWord == "but" {
            let before = content.reversed().drop { $0.isWhitespace }.dropFirst(lastWord.count).drop { $0.isWhitespace }
            return before.first.map { ";,".contains($0) } ?? false
        }
        return false
    }

    /// True when the line ends with a word that a number continues (`clause`, `within`, `of`).
    var endsWithReference: Bool {
        guard let last = lastCharacter, last.isLetter else { return false }
        return Self.referenceWords.contains(lastWord)
    }

    /// True when what follows `number` starts with a capital, a quote or a bracket, or nothing.
    func capitalAfterNumber(_ number: ClauseNumber) -> Bool {
        var k = number.end
        while k < head.count && head[k].properties.isWhitespace { k += 1 }
        guard k < head.count else { return true }
        let c = head[k]
        return c.properties.isUppercase || "\"'[\u{201C}\u{2018}(".unicodeScalars.contains(c)
    }

    /// True when nothing but whitespace follows `number` on the line.
    func nothingAfter(_ number: ClauseNumber) -> Bool {
        content.unicodeScalars.dropFirst(number.end).allSatisfy { $0.properties.isWhitespace }
    }

    /// The line after the first `end` scalars of its content.
    func rest(after end: Int) -> String {
        String(String.UnicodeScalarView(content.unicodeScalars.dropFirst(end)))
    }
}
