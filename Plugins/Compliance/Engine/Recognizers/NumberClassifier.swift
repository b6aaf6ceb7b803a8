/// Decides what a ``NumberRun`` holds: dates (of birth), SSNs, card numbers, phone numbers, or
/// nothing (amounts, ISBNs, identifiers). Tries the longest span of groups first at each
/// group; a span starts and ends only where a space separates groups, so `978-3-16-148410-0`
/// or `ORD-555-123-4567` are never cut into a smaller lookalike.
enum NumberClassifier {
    /// The entities in `run`, appended to `out`.
    static func classify(_ bytes: Bytes, _ run: NumberRun, into out: inout [ByteMatch]) {
        let count = run.groups.count
        // Digits before each group, so a span's digit count is one subtraction.
        var before = [Int](repeating: 0, count: count + 1)
        for (index, group) in run.groups.enumerated() { before[index + 1] = before[index] + group.length }
        var first = 0
        while first < count {
            if first > 0 && !run.groups[first].spaced { first += 1; continue }
            var matched = false
            var last = min(count - 1, first + 7)
            while last >= first {
                if last < count - 1 && !run.groups[last + 1].spaced && run.groups[last + 1].separator != 0x28 { last -= 1; continue }
                let glued = last == count - 1 && run.gluedEnd
                // Fewer than 7 digits is no phone, SSN or card; only a date (three groups) could be there.
                let digits = before[last + 1] - before[first]
                let worthJudging = digits >= 7 || (last - first == 2 && DateRules.isNumericDate(bytes, run, first...last))
                if !glued, worthJudging, let match = judge(bytes, run, first...last) {
                    if let match = match { out.append(match) }
                    first = last + 1
                    matched = true
                    break
                }
                last -= 1
            }
            if !matched { first += 1 }
        }
    }

    /// What groups `range` are: `.some(match)`, `.some(nil)` when they are something to leave
    /// alone (a date that is not a birth date, an ISBN), or nil when they are nothing known.
    static func judge(_ bytes: Bytes, _ run: NumberRun, _ range: ClosedRange<Int>) -> ByteMatch?? {
        let startGroup = run.groups[range.lowerBound]
        var start = range.lowerBound == 0 ? run.start : startGroup.start
        if startGroup.parenthesized && bytes.at(start - 1) == 0x28 { start -= 1 }
        let lastGroup = run.groups[range.upperBound]
        let end = lastGroup.parenthesized ? lastGroup.end + 1 : lastGroup.end
        if DateRules.isNumericDate(bytes, run, range) {
            let score = DateRules.birthScore(bytes, start, end)
            return .some(score > 0 ? ByteMatch(type: .dateOfBirth, start: start, end: end, score: score) : nil)
        }
        let digits = run.digits(bytes, range)
        let plus = run.plus && range.lowerBound == 0
        let groups = range.map { run.groups[$0] }
        let anyParenthesis = groups.contains { $0.parenthesized }
        // ISBN-13 (978/979 with its check digit) in any form; ISBN-10 only as four hyphenated groups (0-306-40615-2).
        if ISBNRules.accepts(digits) && (digits.count == 13 || (groups.count == 4 && groups.dropFirst().allSatisfy { $0.separator == 0x2D && !$0.spaced })) {
            return .some(nil)
        }
        // US SSN: 3-2-4 with '-' or ' ', or nine digits in one block.
        if !plus && !anyParenthesis && digits.count == 9 && SSNRules.accepts(digits) {
            let lengths = groups.map(\.length)
            var score = 0.0
            if lengths == [3, 2, 4] && groups[1].separator == groups[2].separator {
                score = groups[1].separator == 0x2D ? 0.85 : (groups[1].separator == 0x20 ? 0.6 : 0.4)
            } else if lengths == [9] {
                score = 0.3
            }
            if score > 0 {
                switch ContextWindow.cue(bytes, start: start, end: end, lexicon: Lexicons.ssn).verdict {
                case 1: score = max(score, 0.85) + 0.1
                case -1: score = 0.1
                default: break
                }
                if score >= 0.3 { return .some(ByteMatch(type: .usSSN, start: start, end: end, score: min(score, 1))) }
            }
        }
        // Payment cards.
        if !plus && !anyParenthesis && (12...19).contains(digits.count) && CardRules.groupingAccepts(run, range) {
            if CardRules.luhn(digits) && CardRules.issuerAccepts(digits) {
                // 12 digits (Maestro) and prefixes outside the assigned ranges read as cards less surely.
                var score = digits.count == 12 || !CardRules.assignedRange(digits) ? 0.6 : (groups.count > 1 ? 0.9 : 0.8)
                switch ContextWindow.cue(bytes, start: start, end: end, lexicon: Lexicons.card).verdict {
                case 1: score = 1.0
                case -1: score = 0.3
                default: break
                }
                return .some(ByteMatch(type: .creditCard, start: start, end: end, score: score))
            }
            // One long block of digits that is no card: an account or order number, not a phone either.
            if digits.count >= 15 && range.count == 1 { return .some(nil) }
        }
        // Telephone numbers.
        var score = PhoneRules.score(bytes, run, range)
        if score > 0 {
            let cue = ContextWindow.cue(bytes, start: start, end: end, lexicon: Lexicons.phone)
            // The faintest shapes (a bare block of digits) need a strong word such as "phone" or "call".
            if score < 0.3 && cue.positive == nil { return nil }
            switch cue.verdict {
            case 1: score = min(1, max(score, 0.5) + 0.3)
            case -1: score = min(score, 0.3)
            default: break
            }
            let extended = range.upperBound == run.groups.count - 1 ? extensionEnd(bytes, after: end) : end
            return .some(ByteMatch(type: .phone, start: start, end: extended, score: score))
        }
        return nil
    }

    /// The end of an extension written after a phone number (`x204`, ` ext. 12`, ` extension 3`), or `end` without one.
    static func extensionEnd(_ bytes: Bytes, after end: Int) -> Int {
        var k = end
        if bytes.at(k) == 0x20 { k += 1 }
        var matched = false
        for word: StaticString in ["extension", "ext.", "ext", "x"] where bytes.hasPrefixFolded(word, at: k) {
            k += word.utf8CodeUnitCount
            matched = true
            break
        }
        guard matched else { return end }
        if bytes.at(k) == 0x20 || bytes.at(k) == 0x2E { k += 1 }
        let digitsStart = k
        while ASCII.isDigit(bytes.at(k)) && k - digitsStart < 6 { k += 1 }
        guard k > digitsStart, !ASCII.isAlnum(bytes.at(k)) else { return end }
        return k
    }
}
