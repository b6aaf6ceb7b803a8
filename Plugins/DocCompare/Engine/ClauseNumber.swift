/// A clause number found at the start of a line, with the ways it can be read.
///
/// `(i)` is both the ninth letter and roman one; which one it is depends on the clause before
/// it, so a number carries every reading and the splitter picks the one that continues a sequence.
struct ClauseNumber: Equatable {
    /// The numbering scheme of one reading.
    enum Style: Hashable {
        /// `1.`, `1.1`, `1.1.1`, `2)`-free dotted decimals (and a bare `1` before a capitalised heading).
        case decimal
        /// `(a)`, `(i)`, `(A)`, `(1)`, `a)`, `1)`, `a.`: one counter per style.
        case list(ListStyle)
        /// `Article 5`, `ARTICLE V`, `Section 5.2`, `Clause 7`, `§ 3`, `Part 2`: one counter per keyword.
        case keyword(String)
    }

    /// The counter and its punctuation of a list item.
    struct ListStyle: Hashable {
        /// The counter.
        enum Counter: Hashable { case lowerAlpha, upperAlpha, lowerRoman, upperRoman, digit }
        /// The counter.
        var counter: Counter
        /// `(x)`, `x)` or `x.`.
        var punctuation: UInt8
    }

    /// One reading: a style and the value path (`[9, 1]` for `9.1`, `[2]` for `(b)`).
    struct Reading: Equatable {
        var style: Style
        var path: [Int]
    }

    /// The number as written.
    var label: String
    /// Index (in unicode scalars of the line) just after the number.
    var end: Int
    /// Every reading of the number, most likely first.
    var readings: [Reading]
    /// A bare integer without punctuation (`1 DEFINITIONS`): only a clause when it continues a sequence.
    var isBare: Bool

    /// Keywords that introduce a numbered clause.
    static let keywords = ["article", "section", "clause", "part", "rule", "regulation", "paragraph", "§"]

    /// Reads a clause number starting at scalar index `start` of `s`, if there is one followed by
    /// whitespace or the end of the line.
    static func parse(_ s: [Unicode.Scalar], from start: Int) -> ClauseNumber? {
        let n = s.count
        func isDigit(_ k: Int) -> Bool { k < n && s[k].value >= 0x30 && s[k].value <= 0x39 }
        func isBoundary(_ k: Int) -> Bool { k >= n || s[k].properties.isWhitespace }
        func str(_ a: Int, _ b: Int) -> String { var t = ""; t.unicodeScalars.append(contentsOf: s[a..<b]); return t }
        guard start < n else { return nil }

        // Keyword numbers: Article 5, ARTICLE V, Section 5.2, Clause 7, § 3.
        var word = ""
        var k = start
        while k < n && k - start < 12 && (s[k].properties.isAlphabetic || s[k] == "§") { word.unicodeScalars.append(s[k]); k += 1 }
        let lowered = word.lowercased()
        if keywords.contains(lowered) {
            let afterWord = k
            while k < n && (s[k] == " " || s[k] == "\u{00A0}") { k += 1 }
            if k == afterWord && lowered != "§" { return nil }
            let numStart = k
            var path: [Int] = []
            if let (value, e) = integer(s, k) {
                path.append(value); k = e
                while k + 1 < n && s[k] == "." && isDigit(k + 1), let (v, e2) = integer(s, k + 1) { path.append(v); k = e2 }
            } else if let (value, e) = roman(s, k, upper: true) ?? roman(s, k, upper: false) {
                path.append(value); k = e
            } else if k < n, let letter = alphaValue(s[k]), isBoundary(k + 1) || s[k + 1] == "." || s[k + 1] == ":" {
                path.append(letter); k += 1
            }
            if path.isEmpty || k == numStart { return nil }
            if k < n && (s[k] == "." || s[k] == ":") { k += 1 }
            guard isBoundary(k) || (k < n && (s[k] == "-" || s[k] == "\u{2013}" || s[k] == "\u{2014}")) else { return nil }
            let style: Style = .keyword(lowered == "§" ? "§" : lowered)
            return ClauseNumber(label: str(start, k), end: k, readings: [Reading(style: style, path: path)], isBare: false)
        }

        // Dotted decimals: 1. / 1.1 / 1.1.1 / 1.1. ; and 1) ; and a bare 1.
        if isDigit(start) {
            var path: [Int] = []
            k = start
            guard let (first, e) = integer(s, k) else { return nil }
            path.append(first); k = e
            var dotted = false
            while k < n && s[k] == "." {
                dotted = true
                if let (v, e2) = integer(s, k + 1) { path.append(v); k = e2 } else { k += 1; break }
            }
            if path.count > 6 { return nil }
            if dotted && isBoundary(k) {
                return ClauseNumber(label: str(start, k), end: k, readings: [Reading(style: .decimal, path: path)], isBare: false)
            }
            if !dotted && k < n && s[k] == ")" && isBoundary(k + 1) {
                let style = ListStyle(counter: .digit, punctuation: UInt8(ascii: ")"))
                return ClauseNumber(label: str(start, k + 1), end: k + 1, readings: [Reading(style: .list(style), path: path)], isBare: false)
            }
            if !dotted && isBoundary(k) && k < n {
                return ClauseNumber(label: str(start, k), end: k, readings: [Reading(style: .decimal, path: path)], isBare: true)
            }
            return nil
        }

        // (a) (iv) (A) (IV) (1), a) iv) and a. A. iv.
        let open = s[start] == "("
        k = open ? start + 1 : start
        let innerStart = k
        while k < n && k - innerStart < 7 && (s[k].properties.isAlphabetic || isDigit(k)) && s[k].isASCII { k += 1 }
        guard k > innerStart, k < n else { return nil }
        let close = s[k]
        let punctuation: UInt8
        if open { guard close == ")" else { return nil }; punctuation = UInt8(ascii: "(") }
        else if close == ")" { punctuation = UInt8(ascii: ")") }
        else if close == "." { punctuation = UInt8(ascii: ".") }
        else { return nil }
        guard isBoundary(k + 1) else { return nil }
        let readings = listReadings(s, innerStart, k, punctuation: punctuation)
        if readings.isEmpty { return nil }
        return ClauseNumber(label: str(start, k + 1), end: k + 1, readings: readings, isBare: false)
    }

    /// The readings of the inside of a list number (`a`, `iv`, `A`, `12`).
    static func listReadings(_ s: [Unicode.Scalar], _ a: Int, _ b: Int, punctuation: UInt8) -> [Reading] {
        func style(_ c: ListStyle.Counter) -> Style { .list(ListStyle(counter: c, punctuation: punctuation)) }
        var out: [Reading] = []
        if let (v, e) = integer(s, a), e == b {
            if punctuation != UInt8(ascii: ".") { out.append(Reading(style: style(.digit), path: [v])) }
            return out
        }
        let lower = s[a].properties.isLowercase
        if b - a == 1, let v = alphaValue(s[a]) {
            out.append(Reading(style: style(lower ? .lowerAlpha : .upperAlpha), path: [v]))
        } else if b - a == 2, s[a] == s[a + 1], let v = alphaValue(s[a]) {
            out.append(Reading(style: style(lower ? .lowerAlpha : .upperAlpha), path: [26 + v]))   // (aa), (bb)
        }
        if let (v, e) = roman(s, a, upper: !lower), e == b {
            let r = Reading(style: style(lower ? .lowerRoman : .upperRoman), path: [v])
            // A single i, v, x is more often roman; other letters (c, l) more often alphabetic.
            if b - a == 1 && !["i", "v", "x", "I", "V", "X"].contains(s[a]) { out.append(r) } else { out.insert(r, at: 0) }
        }
        return out
    }

    /// A decimal integer of at most three digits without a leading zero, and the index after it.
    static func integer(_ s: [Unicode.Scalar], _ k: Int) -> (Int, Int)? {
        var e = k, v = 0
        while e < s.count && s[e].value >= 0x30 && s[e].value <= 0x39 && e - k < 4 { v = v * 10 + Int(s[e].value - 0x30); e += 1 }
        if e == k || e - k > 3 { return nil }
        if e < s.count && s[e].value >= 0x30 && s[e].value <= 0x39 { return nil }
        if s[k] == "0" { return nil }
        return (v, e)
    }

    /// A roman numeral (1...399) in one case, and the index after it.
    static func roman(_ s: [Unicode.Scalar], _ k: Int, upper: Bool) -> (Int, Int)? {
        let values: [Unicode.Scalar: Int] = upper ? ["I": 1, "V": 5, "X": 10, "L": 50, "C": 100]
                                                  : ["i": 1, "v": 5, "x": 10, "l": 50, "c": 100]
        var e = k
        var digits: [Int] = []
        while e < s.count, let v = values[s[e]], digits.count < 9 { digits.append(v); e += 1 }
        if digits.isEmpty { return nil }
        if e < s.count && s[e].properties.isAlphabetic { return nil }
        var total = 0
        for (i, v) in digits.enumerated() { total += i + 1 < digits.count && digits[i + 1] > v ? -v : v }
        guard total > 0, toRoman(total, upper: upper) == String(String.UnicodeScalarView(s[k..<e])) else { return nil }
        return (total, e)
    }

    /// The canonical roman numeral of `v`.
    static func toRoman(_ v: Int, upper: Bool) -> String {
        let table: [(Int, String)] = [(100, "c"), (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
        var v = v, out = ""
        for (n, r) in table { while v >= n { out += r; v -= n } }
        return upper ? out.uppercased() : out
    }

    /// 1 for `a`/`A` ... 26 for `z`/`Z`, nil for anything else.
    static func alphaValue(_ c: Unicode.Scalar) -> Int? {
        let v = c.value
        if v >= 0x61 && v <= 0x7A { return Int(v - 0x60) }
        if v >= 0x41 && v <= 0x5A { return Int(v - 0x40) }
        return nil
    }
}
