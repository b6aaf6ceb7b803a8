/// Calendar dates as people write them: `1985-03-12`, `12/03/1985`, `3/12/85`, `12.03.1985`,
/// `12 March 1985`, `12th of March, 1985`, `March 12, 1985`, `12-Mar-1985` (English, German and
/// French month names). A date becomes a DATE_OF_BIRTH only beside a birth word.
enum DateRules {
    /// Month names and abbreviations, lower case (non-ASCII letters as UTF-8).
    static let months: [(StaticString, Int)] = [
        ("january", 1), ("february", 2), ("march", 3), ("april", 4), ("may", 5), ("june", 6), ("july", 7), ("august", 8),
        ("september", 9), ("october", 10), ("november", 11), ("december", 12),
        ("sept", 9), ("jan", 1), ("feb", 2), ("mar", 3), ("apr", 4), ("jun", 6), ("jul", 7), ("aug", 8), ("sep", 9),
        ("oct", 10), ("nov", 11), ("dec", 12),
        ("januar", 1), ("februar", 2), ("märz", 3), ("mai", 5), ("juni", 6), ("juli", 7), ("oktober", 10), ("dezember", 12),
        ("janvier", 1), ("février", 2), ("mars", 3), ("avril", 4), ("juin", 6), ("juillet", 7), ("août", 8),
        ("septembre", 9), ("octobre", 10), ("novembre", 11), ("décembre", 12),
    ]

    /// Whether groups `range` of `run` form a numeric date (three groups, one separator kind).
    static func isNumericDate(_ bytes: Bytes, _ run: NumberRun, _ range: ClosedRange<Int>) -> Bool {
        guard range.count == 3 else { return false }
        let g = range.map { run.groups[$0] }
        guard g[1].separator == g[2].separator, [0x2F, 0x2E, 0x2D].contains(g[1].separator), !g[1].spaced || g[1].separator == 0x2E else { return false }
        func value(_ group: NumberRun.Group) -> Int { (group.start..<group.end).reduce(0) { $0 * 10 + ASCII.digitValue(bytes[$1]) } }
        let a = value(g[0]), b = value(g[1]), c = value(g[2])
        if g[0].length == 4 {
            return (1900...2100).contains(a) && g[1].length <= 2 && g[2].length <= 2 && (1...12).contains(b) && (1...31).contains(c)
        }
        guard g[0].length <= 2, g[1].length <= 2, g[2].length == 4 || g[2].length == 2 else { return false }
        if g[2].length == 4 && !(1900...2100).contains(c) { return false }
        return ((1...31).contains(a) && (1...12).contains(b)) || ((1...12).contains(a) && (1...31).contains(b))
    }

    /// ``months`` by their first letter (index: letter - 'a'), so a word is compared only with
    /// the names that start like it.
    static let monthsByInitial: [[(StaticString, Int)]] = {
        var table = [[(StaticString, Int)]](repeating: [], count: 26)
        for entry in months { table[Int(entry.0.utf8Start[0] - 0x61)].append(entry) }
        return table
    }()

    /// The month name starting at `i` and where it ends (an abbreviation may carry a '.').
    static func month(_ bytes: Bytes, at i: Int) -> (month: Int, end: Int)? {
        guard ASCII.isLetter(bytes.at(i)) else { return nil }
        for (name, number) in monthsByInitial[Int(ASCII.lower(bytes[i]) - 0x61)] where bytes.hasPrefixFolded(name, at: i) {
            let end = i + name.utf8CodeUnitCount
            let next = bytes.at(end)
            if ASCII.isLetter(next) || next >= 0x80 { continue }
            return (number, next == 0x2E ? end + 1 : end)
        }
        return nil
    }

    /// A number of 1...`maxDigits` digits at `i`: its value and end.
    static func number(_ bytes: Bytes, at i: Int, maxDigits: Int) -> (value: Int, end: Int, digits: Int)? {
        var k = i, value = 0
        while ASCII.isDigit(bytes.at(k)) && k - i < maxDigits + 1 { value = value * 10 + ASCII.digitValue(bytes[k]); k += 1 }
        guard k > i, k - i <= maxDigits else { return nil }
        return (value, k, k - i)
    }

    /// Skips spaces, and any of `extra` bytes, from `i`.
    static func skip(_ bytes: Bytes, _ i: Int, _ extra: [UInt8]) -> Int {
        var k = i
        while k < bytes.count && (bytes[k] == 0x20 || extra.contains(bytes[k])) && k - i < 4 { k += 1 }
        return k
    }

    /// A year of four digits (1900–2100) at `i`, ending at a non-digit.
    static func year(_ bytes: Bytes, at i: Int) -> Int? {
        guard let (value, end, digits) = number(bytes, at: i, maxDigits: 4), digits == 4, (1900...2100).contains(value),
              !ASCII.isAlnum(bytes.at(end)) else { return nil }
        return end
    }

    /// A day-first textual date starting at the digit `i` (`12 March 1985`, `1st of May, 1990`); its end.
    static func dayFirst(_ bytes: Bytes, at i: Int) -> Int? {
        guard let (day, afterDay, _) = number(bytes, at: i, maxDigits: 2), (1...31).contains(day) else { return nil }
        var k = afterDay
        for suffix: StaticString in ["st", "nd", "rd", "th"] where bytes.hasPrefixFolded(suffix, at: k) { k += 2; break }
        k = skip(bytes, k, [0x2E, 0x2D])
        if bytes.hasPrefixFolded("of ", at: k) { k += 3 }
        guard k > afterDay || bytes.at(k - 1) == 0x2D, let (_, afterMonth) = month(bytes, at: k) else { return nil }
        k = skip(bytes, afterMonth, [0x2C, 0x2D])
        guard k > afterMonth else { return nil }
        return year(bytes, at: k)
    }

    /// A month-first textual date at the month name `i` (`March 12, 1985`, `Mar. 3rd 1990`); its end.
    static func monthFirst(_ bytes: Bytes, at i: Int) -> Int? {
        guard let (_, afterMonth) = month(bytes, at: i) else { return nil }
        var k = skip(bytes, afterMonth, [0x2D])
        guard k > afterMonth, let (day, afterDay, _) = number(bytes, at: k, maxDigits: 2), (1...31).contains(day) else { return nil }
        k = afterDay
        for suffix: StaticString in ["st", "nd", "rd", "th"] where bytes.hasPrefixFolded(suffix, at: k) { k += 2; break }
        let afterDayWord = k
        k = skip(bytes, k, [0x2C, 0x2D])
        guard k > afterDayWord else { return nil }
        return year(bytes, at: k)
    }

    /// The score of a date at `start..<end` as a date of birth: high beside a birth word, else 0.
    static func birthScore(_ bytes: Bytes, _ start: Int, _ end: Int) -> Double {
        let cue = ContextWindow.cue(bytes, start: start, end: end, lexicon: Lexicons.birth, before: 48, after: 0)
        guard let distance = cue.positive else {
            // A birth word right after the date, in the same clause: "12 March 1985 (date of birth)".
            var k = end
            // The window ends at the clause's end (`.`, `;`, `,`, a line break) or at the next number (which the word may belong to).
            while k < bytes.count && k - end < 24 && bytes[k] != 0x0A && bytes[k] != 0x2E && bytes[k] != 0x3B && bytes[k] != 0x2C
                    && !ASCII.isDigit(bytes[k]) { k += 1 }
            return ContextWindow.cue(bytes, start: start, end: end, lexicon: Lexicons.birth, before: 0, after: k - end).positive != nil ? 0.8 : 0
        }
        // Another number between the birth word and this date ("DOB 03/14/1979, admitted 2023-11-02"):
        // the birth word belongs to that one.
        if distance <= start {
            var digits = 0
            for k in (start - distance)..<start where ASCII.isDigit(bytes[k]) { digits += 1 }
            if digits >= 4 { return 0 }
            // Nor when a sentence ended in between (past the cue itself, so "D.O.B. 12/03/1985" still counts).
            var k = start - distance + 6
            while k + 1 < start { if bytes[k] == 0x2E && bytes[k + 1] == 0x20 { return 0 }; k += 1 }
        }
        return 0.85
    }
}
