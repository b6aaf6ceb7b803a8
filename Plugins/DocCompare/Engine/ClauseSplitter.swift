/// A numbered clause of a contract or policy (or the un-numbered preamble before the first one).
public struct Clause: Codable, Sendable, Equatable {
    /// The clause number as written (`1.`, `1.1`, `(a)`, `Article 3`, `Section 2.1`); nil for the preamble.
    public var number: String?
    /// Text before the number on the heading line (indentation).
    public var lead: String
    /// Text after the number up to the next clause (includes the trailing newline).
    public var body: String

    /// The clause's full text, exactly as in the document.
    public var text: String { lead + (number ?? "") + body }

    /// Creates a clause.
    public init(number: String?, lead: String, body: String) {
        self.number = number
        self.lead = lead
        self.body = body
    }
}

/// Splits a document into numbered clauses.
///
/// A clause starts at a line whose first non-blank text is a clause number: `Article 3`,
/// `Section 2.1`, `Clause 4`, `§ 5` (any case, arabic or roman), a dotted decimal
/// `1.` / `1.1` / `2.1.3`, or a parenthesised `(a)` / `(iv)` / `(3)`, followed by
/// whitespace or end of line. Concatenating the clauses' texts gives back the document.
public enum ClauseSplitter {
    /// Splits `text` into clauses; text before the first numbered line becomes a preamble clause.
    public static func split(_ text: String) -> [Clause] {
        var clauses: [Clause] = []
        var pending = ""      // text of lines not starting a clause, appended to the current clause
        var current: Clause? = nil
        for line in lines(text) {
            if let (lead, number, rest) = numberedLine(line) {
                if var c = current { c.body += pending; clauses.append(c) }
                else if !pending.isEmpty { clauses.append(Clause(number: nil, lead: "", body: pending)) }
                pending = ""
                current = Clause(number: number, lead: lead, body: rest)
            } else {
                pending += line
            }
        }
        if var c = current { c.body += pending; clauses.append(c) }
        else if !pending.isEmpty { clauses.append(Clause(number: nil, lead: "", body: pending)) }
        return clauses
    }

    /// Lines including their newline.
    static func lines(_ text: String) -> [String] {
        var out: [String] = []
        var cur = ""
        for ch in text {
            cur.append(ch)
            if ch == "\n" || ch == "\r\n" { out.append(cur); cur = "" }
        }
        if !cur.isEmpty { out.append(cur) }
        return out
    }

    /// If `line` starts with a clause number, returns (leading whitespace, number, rest).
    static func numberedLine(_ line: String) -> (String, String, String)? {
        let scalars = Array(line.unicodeScalars)
        var i = 0
        while i < scalars.count && (scalars[i] == " " || scalars[i] == "\t") { i += 1 }
        let start = i
        func isDigit(_ k: Int) -> Bool { k < scalars.count && scalars[k].value >= 0x30 && scalars[k].value <= 0x39 }
        func isBoundary(_ k: Int) -> Bool { k >= scalars.count || scalars[k].properties.isWhitespace }
        func str(_ a: Int, _ b: Int) -> String { var s = ""; s.unicodeScalars.append(contentsOf: scalars[a..<b]); return s }
        func result(_ end: Int) -> (String, String, String) { (str(0, start), str(start, end), str(end, scalars.count)) }

        // Article / Section / Clause / § followed by a number.
        let lowered = str(start, min(scalars.count, start + 8)).lowercased()
        for word in ["article", "section", "clause", "§"] where lowered.hasPrefix(word) {
            var k = start + word.unicodeScalars.count
            let afterWord = k
            while k < scalars.count && scalars[k] == " " { k += 1 }
            if k == afterWord && word != "§" { continue }
            let numStart = k
            while k < scalars.count && (isDigit(k) || "IVXLCivxlc".unicodeScalars.contains(scalars[k])) { k += 1 }
            if k == numStart { continue }
            while k + 1 < scalars.count && scalars[k] == "." && isDigit(k + 1) {
                k += 1
                while isDigit(k) { k += 1 }
            }
            if k < scalars.count && (scalars[k] == "." || scalars[k] == ":") { k += 1 }
            if isBoundary(k) { return result(k) }
        }
        // Dotted decimal: 1. / 1.1 / 1.1.
        if isDigit(start) {
            var k = start
            while isDigit(k) { k += 1 }
            var dotted = false
            while k < scalars.count && scalars[k] == "." {
                dotted = true
                k += 1
                if !isDigit(k) { break }
                while isDigit(k) { k += 1 }
            }
            if dotted && k - start <= 12 && isBoundary(k) { return result(k) }
        }
        // Parenthesised: (a) (iv) (3)
        if start < scalars.count && scalars[start] == "(" {
            var k = start + 1
            while k < scalars.count && k - start <= 5 && (scalars[k].properties.isAlphabetic || isDigit(k)) { k += 1 }
            if k > start + 1 && k < scalars.count && scalars[k] == ")" && isBoundary(k + 1) {
                let inner = str(start + 1, k)
                let isRoman = inner.allSatisfy { "ivxlc".contains($0) }
                let isNumber = inner.allSatisfy { $0.isNumber }
                if inner.count <= 2 || isRoman || isNumber { return result(k + 1) }
            }
        }
        return nil
    }
}
