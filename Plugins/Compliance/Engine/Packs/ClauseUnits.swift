/// Splits a document into the units checks run on and re-checks reuse: paragraphs separated by
/// blank lines, and a new unit at each line that starts with a clause number (`1.`, `2.3`,
/// `(a)`, `Section 4`). Concatenating the units gives back the text.
public enum ClauseUnits {
    /// The units of `text`, each with its trailing line break(s).
    public static func split(_ text: String) -> [String] {
        var units: [String] = []
        let utf8 = text.utf8
        var unitStart = utf8.startIndex
        var lineStart = utf8.startIndex
        var previousBlank = false
        var index = utf8.startIndex
        func endLine(_ lineEnd: String.Index) {
            let line = text[lineStart..<lineEnd]
            let blank = line.utf8.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
            if unitStart < lineStart && !blank && (previousBlank || startsClause(line)) {
                units.append(String(text[unitStart..<lineStart]))
                unitStart = lineStart
            }
            previousBlank = blank
            lineStart = lineEnd
        }
        while index < utf8.endIndex {
            let byte = utf8[index]
            index = utf8.index(after: index)
            if byte == 0x0A { endLine(index) }
        }
        if lineStart < utf8.endIndex { endLine(utf8.endIndex) }
        if unitStart < utf8.endIndex { units.append(String(text[unitStart..<utf8.endIndex])) }
        return units
    }

    /// Whether a line starts with a clause number.
    static func startsClause(_ line: Substring) -> Bool {
        let trimmed = line.drop { $0 == " " || $0 == "\t" }
        let lower = trimmed.prefix(10).lowercased()
        if lower.hasPrefix("section ") || lower.hasPrefix("article ") || lower.hasPrefix("clause ") || lower.hasPrefix("§") { return true }
        var digits = 0
        var index = trimmed.startIndex
        while index < trimmed.endIndex, trimmed[index].isASCII, trimmed[index].isNumber || trimmed[index] == "." { digits += 1; index = trimmed.index(after: index) }
        if digits >= 2, trimmed[trimmed.startIndex].isNumber, trimmed.prefix(digits).contains("."), index < trimmed.endIndex, trimmed[index] == " " { return true }
        if trimmed.hasPrefix("("), let close = trimmed.prefix(6).firstIndex(of: ")"), close > trimmed.index(after: trimmed.startIndex) { return true }
        return false
    }

    /// Length and 64-bit FNV-1a hash of the unit's UTF-8 bytes.
    public static func fingerprint(_ unit: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in unit.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return "\(unit.utf8.count)-\(String(hash, radix: 16))"
    }
}

/// Reads durations (`30 days`, `thirty (30) days`, `6 months`) from lower-cased clause text.
enum ValueReader {
    struct Found { var days: Int; var written: String; var span: Span }

    static func durations(in s: [Unicode.Scalar]) -> [Found] {
        var out: [Found] = []
        var i = 0
        while i < s.count {
            guard Pattern.isDigit(s[i]), i == 0 || !Pattern.isWord(s[i - 1]) else { i += 1; continue }
            let start = i
            var value = 0
            while i < s.count && Pattern.isDigit(s[i]) && value < 100_000 { value = value * 10 + Int(s[i].value - 0x30); i += 1 }
            var k = i
            if k < s.count && s[k] == ")" { k += 1 }
            while k < s.count && (s[k] == " " || s[k] == "-") { k += 1 }
            var word = ""
            while k < s.count && s[k].properties.isAlphabetic && word.count < 10 { word.unicodeScalars.append(s[k]); k += 1 }
            let unit: DurationUnit? = ["day", "days", "calendar", "business", "working"].contains(word) ? .days
                : ["week", "weeks"].contains(word) ? .weeks : ["month", "months"].contains(word) ? .months
                : ["year", "years"].contains(word) ? .years : nil
            if let unit {
                out.append(Found(days: value * unit.days, written: "\(value) \(word)", span: Span(start: start, end: k)))
            }
        }
        return out
    }
}
