/// Payment card numbers: issuer ranges with their lengths (Visa, Mastercard including the
/// 2221–2720 series, American Express, Discover, JCB, Diners Club, UnionPay, Maestro, Mir)
/// and the Luhn checksum.
enum CardRules {
    /// Whether `digits` (values 0–9) pass the Luhn check.
    static func luhn(_ digits: [UInt8]) -> Bool {
        var sum = 0
        for (index, digit) in digits.reversed().enumerated() {
            var d = Int(digit)
            if index % 2 == 1 { d *= 2; if d > 9 { d -= 9 } }
            sum += d
        }
        return sum % 10 == 0
    }

    /// The first `n` digits as a number.
    static func prefix(_ digits: [UInt8], _ n: Int) -> Int {
        var value = 0
        for k in 0..<min(n, digits.count) { value = value * 10 + Int(digits[k]) }
        return value
    }

    /// Whether a card of some issuer starts with these digits and has this length.
    static func issuerAccepts(_ digits: [UInt8]) -> Bool {
        let n = digits.count
        let p1 = prefix(digits, 1), p2 = prefix(digits, 2), p3 = prefix(digits, 3), p4 = prefix(digits, 4), p6 = prefix(digits, 6)
        if p1 == 4 { return n == 13 || n == 16 || n == 19 }                                    // Visa
        if (51...55).contains(p2) || (2221...2720).contains(p4) { return n == 16 }              // Mastercard
        if p2 == 34 || p2 == 37 { return n == 15 }                                              // American Express
        if p4 == 6011 || (644...649).contains(p3) || p2 == 65 || (622126...622925).contains(p6) { return (16...19).contains(n) } // Discover
        if p2 == 35 { return (16...19).contains(n) }                                            // JCB (assigned: 3528–3589)
        if p4 == 1800 || p4 == 2131 { return n == 15 }                                          // JCB (15 digits)
        if (300...305).contains(p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39 { return (14...19).contains(n) } // Diners
        if p2 == 62 || p2 == 81 { return (16...19).contains(n) }                               // UnionPay
        if (2200...2204).contains(p4) { return (16...19).contains(n) }                          // Mir
        if p2 == 50 || (56...58).contains(p2) || p2 == 63 || p2 == 67 || p2 == 60 { return (12...19).contains(n) } // Maestro and others
        return false
    }

    /// Whether a JCB number is in the assigned 3528–3589 range (other issuers: always).
    static func assignedRange(_ digits: [UInt8]) -> Bool {
        prefix(digits, 2) != 35 || (3528...3589).contains(prefix(digits, 4))
    }

    /// Whether the grouping is one cards are printed in: one block, fours (the last shorter),
    /// or American Express/Diners' 4-6-5 and 4-6-4, with one kind of separator.
    static func groupingAccepts(_ run: NumberRun, _ range: ClosedRange<Int>) -> Bool {
        if range.count == 1 { return true }
        let lengths = range.map { run.groups[$0].length }
        let separators = Set(range.dropFirst().map { run.groups[$0].separator })
        guard separators.count == 1, let separator = separators.first, separator == 0x20 || separator == 0x2D || separator == 0x2E else { return false }
        if lengths == [4, 6, 5] || lengths == [4, 6, 4] { return true }
        return lengths.dropLast().allSatisfy { $0 == 4 } && (1...4).contains(lengths.last!)
    }
}

/// US Social Security numbers: area 001–899 except 666, group 01–99, serial 0001–9999, and
/// none of the numbers the SSA says were never valid (advertising samples).
enum SSNRules {
    /// Whether nine digits form a possible SSN.
    static func accepts(_ d: [UInt8]) -> Bool {
        guard d.count == 9 else { return false }
        let area = CardRules.prefix(d, 3)
        let group = Int(d[3]) * 10 + Int(d[4])
        let serial = Int(d[5]) * 1000 + Int(d[6]) * 100 + Int(d[7]) * 10 + Int(d[8])
        guard area != 0, area != 666, area < 900, group != 0, serial != 0 else { return false }
        if d.allSatisfy({ $0 == d[0] }) { return false }
        let value = CardRules.prefix(d, 9)
        if value == 78_051_120 || value == 219_099_999 || value == 987_654_320 { return false }
        return true
    }
}

/// ISBN-10 and ISBN-13 check digits, so book numbers are not taken for phones or cards.
enum ISBNRules {
    /// Whether `d` is a valid ISBN-13 (978/979) or ISBN-10.
    static func accepts(_ d: [UInt8]) -> Bool {
        if d.count == 13 {
            guard d[0] == 9, d[1] == 7, d[2] == 8 || d[2] == 9 else { return false }
            var sum = 0
            for (index, digit) in d.enumerated() { sum += Int(digit) * (index % 2 == 0 ? 1 : 3) }
            return sum % 10 == 0
        }
        if d.count == 10 {
            var sum = 0
            for (index, digit) in d.enumerated() { sum += Int(digit) * (10 - index) }
            return sum % 11 == 0
        }
        return false
    }
}
