/// The shapes of TOML 1.0 dates and times (RFC 3339 with TOML's relaxations), with field ranges.
enum TOMLDateTime {
    /// Whether `token` is an offset date-time, a local date-time, a local date or a local time.
    static func isValid(_ token: [UInt8]) -> Bool {
        var at = 0
        if token.count >= 10, token[4] == UInt8(ascii: "-") {
            guard date(token, &at) else { return false }
            if at == token.count { return true }
            guard [UInt8(ascii: "T"), UInt8(ascii: "t"), UInt8(ascii: " ")].contains(token[at]) else { return false }
            at += 1
            guard time(token, &at) else { return false }
            if at == token.count { return true }
            return offset(token, &at) && at == token.count
        }
        return time(token, &at) && at == token.count
    }

    private static func number(_ token: [UInt8], _ at: inout Int, digits: Int, in range: ClosedRange<Int>) -> Int? {
        guard at + digits <= token.count else { return nil }
        var value = 0
        for byte in token[at..<(at + digits)] {
            guard TOMLParser.isDigit(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard range.contains(value) else { return nil }
        at += digits
        return value
    }

    private static func byte(_ token: [UInt8], _ at: inout Int, _ expected: Unicode.Scalar) -> Bool {
        guard at < token.count, token[at] == UInt8(ascii: expected) else { return false }
        at += 1
        return true
    }

    private static func date(_ token: [UInt8], _ at: inout Int) -> Bool {
        guard let year = number(token, &at, digits: 4, in: 0...9999), byte(token, &at, "-"),
              let month = number(token, &at, digits: 2, in: 1...12), byte(token, &at, "-"),
              let day = number(token, &at, digits: 2, in: 1...31) else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    private static func time(_ token: [UInt8], _ at: inout Int) -> Bool {
        guard number(token, &at, digits: 2, in: 0...23) != nil, byte(token, &at, ":"),
              number(token, &at, digits: 2, in: 0...59) != nil, byte(token, &at, ":"),
              number(token, &at, digits: 2, in: 0...60) != nil else { return false }
        if at < token.count, token[at] == UInt8(ascii: ".") {
            at += 1
            let start = at
            while at < token.count, TOMLParser.isDigit(token[at]) { at += 1 }
            guard at > start else { return false }
        }
        return true
    }

    private static func offset(_ token: [UInt8], _ at: inout Int) -> Bool {
        if token[at] == UInt8(ascii: "Z") || token[at] == UInt8(ascii: "z") { at += 1; return true }
        guard token[at] == UInt8(ascii: "+") || token[at] == UInt8(ascii: "-") else { return false }
        at += 1
        return number(token, &at, digits: 2, in: 0...23) != nil && byte(token, &at, ":") && number(token, &at, digits: 2, in: 0...59) != nil
    }
}
