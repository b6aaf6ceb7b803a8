/// Telephone numbering rules: ITU-T E.164 country codes with the length of each country's
/// national significant number, the North American Numbering Plan, and the trunk-prefix
/// (`0…`) national formats of European countries.
enum PhoneRules {
    /// National significant number lengths by country calling code.
    static let nationalLengths: [Int: ClosedRange<Int>] = [
        1: 10...10, 7: 10...10, 20: 9...10, 27: 9...9, 30: 10...10, 31: 9...9, 32: 8...9, 33: 9...9, 34: 9...9, 36: 8...9,
        39: 6...11, 40: 9...9, 41: 9...9, 43: 4...13, 44: 9...10, 45: 8...8, 46: 7...10, 47: 8...8, 48: 9...9, 49: 6...13,
        51: 8...9, 52: 10...10, 53: 8...8, 54: 10...11, 55: 10...11, 56: 9...9, 57: 8...10, 58: 10...10, 60: 8...10,
        61: 9...9, 62: 8...12, 63: 8...10, 64: 8...10, 65: 8...8, 66: 8...9, 81: 9...10, 82: 8...11, 84: 9...10,
        86: 10...11, 90: 10...10, 91: 10...10, 92: 9...10, 93: 9...9, 94: 9...9, 95: 7...10, 98: 10...10,
        212: 9...9, 213: 9...9, 216: 8...8, 234: 8...10, 254: 9...9, 255: 9...9, 256: 9...9, 233: 9...9, 351: 9...9,
        352: 4...11, 353: 7...9, 354: 7...9, 355: 8...9, 356: 8...8, 357: 8...8, 358: 5...12, 359: 8...9, 370: 8...8,
        371: 8...8, 372: 7...8, 373: 8...8, 374: 8...8, 375: 9...9, 376: 6...6, 377: 8...9, 380: 9...9, 381: 8...9,
        382: 8...8, 385: 8...9, 386: 8...8, 387: 8...8, 389: 8...8, 420: 9...9, 421: 9...9, 423: 7...7, 852: 8...8,
        853: 8...8, 855: 8...9, 880: 10...10, 886: 8...9, 961: 7...8, 962: 8...9, 963: 9...9, 964: 10...10, 965: 8...8,
        966: 9...9, 968: 8...8, 971: 8...9, 972: 8...9, 973: 8...8, 974: 8...8, 977: 10...10, 994: 9...9, 995: 9...9,
    ]

    /// The country code at the start of `d` (one to three digits) and its national number lengths.
    static func country(_ d: [UInt8]) -> (code: Int, digits: Int, lengths: ClosedRange<Int>?)? {
        for n in 1...3 where d.count > n {
            let code = CardRules.prefix(d, n)
            if let lengths = nationalLengths[code] { return (code, n, lengths) }
        }
        guard d.count > 3, d[0] != 0 else { return nil }
        return (CardRules.prefix(d, 3), 3, nil)
    }

    /// A North American number: area code and exchange start with 2–9 and are not N11 service codes.
    static func isNANP(_ d: ArraySlice<UInt8>) -> Bool {
        guard d.count == 10 else { return false }
        let a = Array(d)
        guard a[0] >= 2, a[3] >= 2 else { return false }
        if a[1] == 1 && a[2] == 1 { return false }
        if a[4] == 1 && a[5] == 1 { return false }
        return true
    }

    /// How plausible `run`'s groups `range` are as a telephone number (0: not one).
    static func score(_ bytes: Bytes, _ run: NumberRun, _ range: ClosedRange<Int>) -> Double {
        var d = run.digits(bytes, range)
        let first = range.lowerBound
        let plus = run.plus && first == 0
        let groups = range.map { run.groups[$0] }
        let multi = groups.count > 1
        guard groups.count <= 7, d.count >= 7, d.count <= 15 else { return 0 }
        // Groups of one digit are only a country code, a trunk "(0)" or NANP's leading "1".
        func isTrunk(_ group: NumberRun.Group) -> Bool { group.parenthesized && group.length == 1 && bytes[group.start] == 0x30 }
        for (index, group) in groups.enumerated() where group.length == 1 && index > 0 {
            // Allowed: a trunk "(0)", the digit after a country code (+61 2 …) or after a trunk (+33 (0)4 …).
            if !isTrunk(group) && !(index == 1 && groups[0].length <= 3 && plus) && !isTrunk(groups[index - 1]) { return 0 }
        }
        if groups.count >= 2 && groups.dropFirst().allSatisfy({ $0.separator == 0x2F }) && groups.count > 2 { return 0 }  // 1/2/3
        if plus || (d.count > 10 && d[0] == 0 && d[1] == 0) {
            if !plus { d.removeFirst(2) }
            // Drop a trunk "(0)" written after the country code.
            var national = d
            guard let (code, codeDigits, lengths) = country(d) else { return 0 }
            national = Array(d.dropFirst(codeDigits))
            if let trunk = groups.first(where: { $0.parenthesized && $0.length == 1 && bytes[$0.start] == 0x30 }), trunk.start > groups[0].start,
               national.first == 0 { national.removeFirst() }
            // +1 with ten digits is a phone number even when the area code or exchange is not assigned (sample numbers).
            if code == 1 { return national.count == 10 ? (isNANP(national[...]) ? 0.9 : 0.6) : 0 }
            if let lengths { return lengths.contains(national.count) ? 0.9 : 0 }
            return (6...12).contains(national.count) ? 0.6 : 0
        }
        if d.count == 11 && d[0] == 1 && isNANP(d.dropFirst()) { return multi ? 0.8 : 0.4 }
        if d.count == 11 && d[0] == 1 && groups.map(\.length) == [1, 3, 3, 4] { return 0.55 }   // 1-171-953-1680: NANP layout, sample digits
        if d.count == 10 && d[0] != 0 {
            // NANP shape: valid area code and exchange score high; the 3-3-4 layout alone (555-123-4567,
            // 123-456-7890, the sample numbers people write) still reads as a phone number.
            let valid = isNANP(d[...])
            let lengths = groups.map(\.length)
            let consistent = groups[0].parenthesized || (groups.count == 3 && groups[1].separator == groups[2].separator)
            if lengths == [3, 3, 4] { return valid ? (consistent ? 0.8 : 0.6) : (consistent ? 0.55 : 0.4) }
            if lengths == [3, 7] && groups[0].parenthesized { return valid ? 0.75 : 0.5 }
            if !multi { return valid ? 0.4 : 0.2 }                                     // ten bare digits: only with context
        }
        if !multi && d.count >= 8 && d.count <= 11 { return 0.2 }                     // a bare block: only beside "phone", "call", …
        if d[0] == 0 && d.count >= 9 && d.count <= 12 && d[1] != 0 {
            let lengths = groups.map(\.length)
            if d.count == 10 && lengths == [2, 2, 2, 2, 2] { return 0.8 }              // French pairs
            if multi && lengths[0] >= 2 && lengths[0] <= 6 { return 0.7 }           // 020 7946 0958, 030 1234567, 0171/1234567
            return 0.4
        }
        if multi && d.count >= 7 && d.count <= 10 && groups.allSatisfy({ $0.length >= 2 }) {
            let lengths = groups.map(\.length)
            if lengths == [5, 4] && groups[1].separator == 0x2D { return 0 }            // a US ZIP+4 code
            return 0.35                                                                 // 555-1234, 612 345 678: only with context
        }
        return 0
    }
}
