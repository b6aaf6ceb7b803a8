/// A run of digit groups joined by phone-like separators (`+1 (555) 123-4567`,
/// `4111 1111 1111 1111`, `123-45-6789`, `06.12.34.56.78`), the raw material of the phone,
/// card, SSN and date recognisers.
struct NumberRun {
    /// One group of digits.
    struct Group {
        var start: Int
        var end: Int
        /// The separator before the group: 0 (none, first group), or the first non-space byte of
        /// the separator (`-`, `.`, `/`, `(`, `)`), or a space.
        var separator: UInt8
        /// Whether the separator before it holds a space (a word boundary).
        var spaced: Bool
        /// Whether the group is written in parentheses.
        var parenthesized: Bool
        var length: Int { end - start }
    }

    /// Where the run starts (the `+`, `(` or first digit).
    var start: Int
    /// Whether it starts with `+`.
    var plus: Bool
    var groups: [Group]
    /// Where scanning stopped.
    var end: Int
    /// Whether the last group runs straight into a letter, `:`+digit or `,`+digit (an identifier, a time, an amount).
    var gluedEnd: Bool

    /// The longest group count considered.
    static let maxGroups = 12

    /// Reads the run starting at `i` (a digit, `+` or `(`); nil if no digit follows.
    static func read(_ bytes: Bytes, at i: Int) -> NumberRun? {
        var k = i
        var plus = false
        // "(+44) 20 …": the country code in parentheses.
        var codeInParentheses = false
        if bytes.at(k) == 0x28 && bytes.at(k + 1) == 0x2B { codeInParentheses = true; k += 1 }
        if bytes.at(k) == 0x2B { plus = true; k += 1 }
        var groups: [Group] = []
        var separator: UInt8 = 0
        var spaced = false
        var parenthesized = false
        if bytes.at(k) == 0x28 { parenthesized = true; separator = groups.isEmpty ? 0 : 0x28; k += 1 }
        guard ASCII.isDigit(bytes.at(k)) else { return nil }
        var end = k
        while groups.count < maxGroups {
            let start = k
            while k < bytes.count && ASCII.isDigit(bytes[k]) && k - start < 20 { k += 1 }
            guard k > start else { break }
            var group = Group(start: start, end: k, separator: separator, spaced: spaced, parenthesized: false)
            if (parenthesized || (codeInParentheses && groups.isEmpty)) && bytes.at(k) == 0x29 { group.parenthesized = true }
            groups.append(group)
            end = k
            // The separator to the next group: at most three bytes of ' ', '-', '.', '/', '(', ')' with one kind besides spaces.
            var s = k
            separator = 0
            spaced = false
            parenthesized = false
            if group.parenthesized { s += 1; separator = 0x29 }
            while s < bytes.count && s - k < 4 {
                let b = bytes[s]
                if b == 0x20 { if spaced && bytes.at(s - 1) == 0x20 { break }; spaced = true; s += 1; continue }
                if b == 0x2D || b == 0x2E || b == 0x2F {
                    if separator != 0 && separator != 0x29 { break }
                    separator = b
                    s += 1
                    continue
                }
                if b == 0x28 && !parenthesized { parenthesized = true; s += 1; continue }
                break
            }
            if separator == 0 && spaced { separator = 0x20 }
            if parenthesized && separator == 0 { separator = 0x28 }
            guard s > k, ASCII.isDigit(bytes.at(s)) else { break }
            k = s
        }
        let after = bytes.at(end)
        // `x123` right after the number is an extension, not a glued identifier.
        let isExtension = (after == 0x78 || after == 0x58) && ASCII.isDigit(bytes.at(end + 1))
        let glued = (ASCII.isLetter(after) && !isExtension) || after == 0x5F || after >= 0x80
            || ((after == 0x3A || after == 0x2C) && ASCII.isDigit(bytes.at(end + 1)))
            || (after == 0x2E && ASCII.isDigit(bytes.at(end + 1)))
        return NumberRun(start: i, plus: plus, groups: groups, end: end, gluedEnd: glued)
    }

    /// The digits of groups `range`, as values 0–9.
    func digits(_ bytes: Bytes, _ range: ClosedRange<Int>) -> [UInt8] {
        var out: [UInt8] = []
        for g in range { for k in groups[g].start..<groups[g].end { out.append(bytes[k] &- 0x30) } }
        return out
    }
}
