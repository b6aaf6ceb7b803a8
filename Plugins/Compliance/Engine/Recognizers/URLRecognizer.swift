/// Web addresses: `http(s)://` and `ftp://` URLs, `www.` hosts, and bare domains with a common
/// top-level domain (`example.com/path`). The host must be a real domain, IPv4 address,
/// `[IPv6]` or `localhost`; trailing sentence punctuation and unbalanced brackets are left out.
enum URLRecognizer {
    /// Top-level domains accepted for bare domains without a scheme or `www.` (lower case only,
    /// so a missing space after a full stop, `end.It`, is not a domain).
    static let bareTopLevels: Set<String> = [
        "com", "org", "net", "edu", "gov", "mil", "int", "io", "co", "uk", "de", "fr", "es", "it", "nl", "be", "ch", "at",
        "eu", "us", "ca", "au", "nz", "ie", "info", "biz", "app", "dev", "ai", "me", "tv", "ly", "jp", "cn", "ru", "br",
        "mx", "se", "no", "dk", "fi", "pl", "pt", "gr", "cz", "hu", "ro", "za", "sg", "hk", "kr", "tw", "il", "ae", "tr",
        "ar", "cl", "xyz", "online", "site", "shop", "store", "tech", "cloud", "blog", "news", "org.uk", "gg", "lu", "sk",
    ]

    /// A URL with a scheme or `www.` starting at the word start `i`, if any.
    static func matchPrefixed(_ bytes: Bytes, at i: Int) -> ByteMatch? {
        var hostStart: Int
        var score = 0.95
        if bytes.hasPrefixFolded("https://", at: i) { hostStart = i + 8 }
        else if bytes.hasPrefixFolded("http://", at: i) { hostStart = i + 7 }
        else if bytes.hasPrefixFolded("ftp://", at: i) { hostStart = i + 6 }
        else if bytes.hasPrefixFolded("www.", at: i) { hostStart = i; score = 0.9 }
        else { return nil }
        // user:password@ in front of the host.
        var k = hostStart
        while k < bytes.count && k - hostStart < 64 && isURLByte(bytes[k]) && bytes[k] != 0x2F { k += 1 }
        if k < bytes.count && bytes[k] == 0x40 { hostStart = k + 1 }
        guard let hostEnd = hostEnd(bytes, from: hostStart) else { return nil }
        return ByteMatch(type: .url, start: i, end: tailEnd(bytes, from: hostEnd, start: i), score: score)
    }

    /// A bare domain whose top-level label starts after the '.' at `dot`, if any (e.g. `example.com/x`).
    /// Returns nil when the domain belongs to an e-mail address or a longer token.
    static func matchBare(_ bytes: Bytes, dot: Int) -> ByteMatch? {
        var t = dot + 1
        while t < bytes.count && ASCII.isLower(bytes[t]) { t += 1 }
        guard t - dot - 1 >= 2, t - dot - 1 <= 6 else { return nil }
        let next = bytes.at(t)
        guard !ASCII.isWordByte(next), next != 0x40, next != 0x2D else { return nil }
        if next == 0x2E && ASCII.isAlnum(bytes.at(t + 1)) { return nil }        // more labels follow: judged at the next dot
        let tld = String(decoding: UnsafeBufferPointer(rebasing: bytes[(dot + 1)..<t]), as: UTF8.self)
        guard bareTopLevels.contains(tld) else { return nil }
        // Back over the labels before the dot.
        var s = dot
        while s > 0 && dot - s < 253 && (ASCII.isAlnum(bytes[s - 1]) || bytes[s - 1] == 0x2D || (bytes[s - 1] == 0x2E && ASCII.isAlnum(bytes.at(s - 2)))) { s -= 1 }
        guard s < dot, ASCII.isAlnum(bytes[s]) else { return nil }
        let before = bytes.at(s - 1)
        if s > 0 && (before == 0x40 || before == 0x2F || before == 0x5F || before >= 0x80 || before == 0x3A || before == 0x5C) { return nil }
        // A label of the domain must hold a letter (`3.com` is a number, not a host).
        var hasLetter = false
        for k in s..<dot where ASCII.isLetter(bytes[k]) { hasLetter = true; break }
        guard hasLetter else { return nil }
        let end = tailEnd(bytes, from: t, start: s)
        return ByteMatch(type: .url, start: s, end: end, score: end > t ? 0.8 : 0.65)
    }

    /// Bytes that may appear in a URL after the host.
    @inline(__always) static func isURLByte(_ b: UInt8) -> Bool {
        b > 0x20 && b < 0x7F && b != 0x3C && b != 0x3E && b != 0x22 && b != 0x60 && b != 0x7B && b != 0x7D
            && b != 0x7C && b != 0x5C && b != 0x5E
    }

    /// The end of a host (domain, IPv4, `[v6]`, `localhost`) starting at `from`, or nil.
    static func hostEnd(_ bytes: Bytes, from: Int) -> Int? {
        if bytes.at(from) == 0x5B {                                   // [IPv6]
            var k = from + 1
            while k < bytes.count && (ASCII.isHex(bytes[k]) || bytes[k] == 0x3A || bytes[k] == 0x2E) { k += 1 }
            return bytes.at(k) == 0x5D && k > from + 2 ? k + 1 : nil
        }
        if bytes.hasPrefixFolded("localhost", at: from) && !ASCII.isAlnum(bytes.at(from + 9)) { return from + 9 }
        if let v4 = IPRecognizer.ipv4End(bytes, from: from) { return v4 }
        var i = from
        var labels = 0
        var lastStart = from
        while i - from < 253 {
            let start = i
            while i < bytes.count && (ASCII.isAlnum(bytes[i]) || bytes[i] == 0x2D || bytes[i] >= 0x80) && i - start < 63 { i += 1 }
            guard i > start else { return nil }
            labels += 1
            lastStart = start
            if bytes.at(i) == 0x2E && (ASCII.isAlnum(bytes.at(i + 1)) || bytes.at(i + 1) >= 0x80) { i += 1 } else { break }
        }
        guard labels >= 2 else { return nil }
        for k in lastStart..<i where !ASCII.isLetter(bytes[k]) && bytes[k] < 0x80 && bytes[k] != 0x2D { return nil }
        return i - lastStart >= 2 ? i : nil
    }

    /// The end of port, path, query and fragment after `from`, without trailing punctuation
    /// or a closing bracket that has no opening one inside the URL.
    static func tailEnd(_ bytes: Bytes, from: Int, start: Int) -> Int {
        var end = from
        guard let first = from < bytes.count ? bytes[from] : nil, first == 0x2F || first == 0x3A || first == 0x3F || first == 0x23 else {
            return from
        }
        if first == 0x3A && !ASCII.isDigit(bytes.at(from + 1)) { return from }
        // Bracket balance is counted once, then updated as trailing bytes are dropped (linear even for `)))…`).
        var parentheses = 0, brackets = 0
        for k in start..<from { if bytes[k] == 0x28 { parentheses += 1 } else if bytes[k] == 0x29 { parentheses -= 1 } }
        while end < bytes.count && isURLByte(bytes[end]) {
            switch bytes[end] {
            case 0x28: parentheses += 1
            case 0x29: parentheses -= 1
            case 0x5B: brackets += 1
            case 0x5D: brackets -= 1
            default: break
            }
            end += 1
        }
        while end > from {
            let b = bytes[end - 1]
            if b == 0x2E || b == 0x2C || b == 0x3B || b == 0x3A || b == 0x21 || b == 0x3F || b == 0x27 || b == 0x2A {
                end -= 1
            } else if b == 0x29 && parentheses < 0 {
                parentheses += 1
                end -= 1
            } else if b == 0x5D && brackets < 0 {
                brackets += 1
                end -= 1
            } else {
                break
            }
        }
        return end
    }
}
