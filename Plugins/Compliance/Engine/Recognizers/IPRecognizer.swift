/// IPv4 and IPv6 addresses, parsed for real: four decimal octets 0–255 without leading zeros;
/// RFC 4291 text forms (eight groups, one `::`, an embedded IPv4 tail). Version strings
/// (`v10.2.3.4`, "version 10.2.3.4"), section numbers, OIDs, timestamps and MAC addresses are
/// not addresses.
enum IPRecognizer {
    /// The end of four dotted octets starting at `from` (no boundary checks), or nil.
    static func ipv4End(_ bytes: Bytes, from: Int) -> Int? {
        var i = from
        for part in 0..<4 {
            let start = i
            var value = 0
            while i < bytes.count && ASCII.isDigit(bytes[i]) && i - start < 3 { value = value * 10 + ASCII.digitValue(bytes[i]); i += 1 }
            let length = i - start
            guard length > 0, value <= 255, !(length > 1 && bytes[start] == 0x30) else { return nil }
            if part < 3 { guard bytes.at(i) == 0x2E else { return nil }; i += 1 }
        }
        return ASCII.isDigit(bytes.at(i)) ? nil : i
    }

    /// An IPv4 address starting at the digit `i`, judged with its context.
    static func matchIPv4(_ bytes: Bytes, at i: Int) -> ByteMatch? {
        let before = bytes.at(i - 1)
        if i > 0 && (ASCII.isAlnum(before) || before == 0x2E || before == 0x2D || before == 0x5F || before >= 0x80) { return nil }
        guard let end = ipv4End(bytes, from: i) else { return nil }
        let after = bytes.at(end)
        if after == 0x2E && ASCII.isDigit(bytes.at(end + 1)) { return nil }      // 1.2.3.4.5: an OID or a longer version
        if ASCII.isLetter(after) || after == 0x2D || after == 0x5F { return nil }
        // Four small numbers (10.2.3.4, 1.2.0.13) read as a version or section number unless the context says address.
        var largest = 0, octet = 0
        for k in i...end {
            if k < end && ASCII.isDigit(bytes[k]) { octet = octet * 10 + ASCII.digitValue(bytes[k]) } else { largest = max(largest, octet); octet = 0 }
        }
        var score = largest <= 20 ? 0.45 : 0.7
        switch ContextWindow.cue(bytes, start: i, end: end, lexicon: Lexicons.ip).verdict {
        case 1: score = 0.95
        case -1: score = 0.1
        default: break
        }
        return ByteMatch(type: .ipAddress, start: i, end: end, score: score)
    }

    /// An IPv6 address in the token around the ':' at `colon`; returns the match and the token's end.
    static func matchIPv6(_ bytes: Bytes, colon: Int) -> (ByteMatch?, Int) {
        var s = colon
        while s > 0 && colon - s < 45 && (ASCII.isHex(bytes[s - 1]) || bytes[s - 1] == 0x3A || bytes[s - 1] == 0x2E) { s -= 1 }
        var e = colon
        while e < bytes.count && e - s < 45 && (ASCII.isHex(bytes[e]) || bytes[e] == 0x3A || bytes[e] == 0x2E) { e += 1 }
        if e - s >= 45 {
            // Too long for an address: skip the whole token so its other colons are not read again.
            while e < bytes.count && (ASCII.isHex(bytes[e]) || bytes[e] == 0x3A || bytes[e] == 0x2E) { e += 1 }
            return (nil, e)
        }
        let tokenEnd = e
        // Trailing '.' or ':' are punctuation of the sentence ("at fe80::1.").
        while e > s && bytes[e - 1] == 0x2E { e -= 1 }
        if e - s >= 2 && bytes[e - 1] == 0x3A && bytes[e - 2] != 0x3A { e -= 1 }
        let before = bytes.at(s - 1)
        if s > 0 && (ASCII.isAlnum(before) || before == 0x5F || before >= 0x80) { return (nil, tokenEnd) }
        if ASCII.isAlnum(bytes.at(tokenEnd)) || bytes.at(tokenEnd) == 0x5F { return (nil, tokenEnd) }
        guard parseIPv6(bytes, s, e) else { return (nil, tokenEnd) }
        var score = 0.85
        if ContextWindow.cue(bytes, start: s, end: e, lexicon: Lexicons.ip).verdict == 1 { score = 0.95 }
        return (ByteMatch(type: .ipAddress, start: s, end: e, score: score), tokenEnd)
    }

    /// Whether `bytes[s..<e]` is an RFC 4291 IPv6 address with a group of three or more hex digits
    /// or a hex letter, and three written groups (two around a `::`), or `::1`; so times like
    /// `10:30::` or `12:30:45` are not.
    static func parseIPv6(_ bytes: Bytes, _ s: Int, _ e: Int) -> Bool {
        guard e - s >= 3 else { return false }
        if e - s == 3 && bytes[s] == 0x3A && bytes[s + 1] == 0x3A && bytes[s + 2] == 0x31 { return true }
        var i = s
        var groups = 0
        var written = 0
        var compressed = false
        var hasLetterOrLong = false
        if bytes[i] == 0x3A {
            guard bytes.at(i + 1) == 0x3A else { return false }
            compressed = true
            i += 2
            if i == e { return false }
        }
        while i < e {
            // An embedded IPv4 tail takes the last two groups.
            if let v4 = ipv4End(bytes, from: i), v4 == e {
                guard groups <= 6 else { return false }
                groups += 2
                written += 2
                i = e
                break
            }
            let start = i
            while i < e && ASCII.isHex(bytes[i]) { i += 1 }
            let length = i - start
            guard length >= 1, length <= 4 else { return false }
            if length >= 3 || (start..<i).contains(where: { ASCII.isLetter(bytes[$0]) }) { hasLetterOrLong = true }
            groups += 1
            written += 1
            if i == e { break }
            guard bytes[i] == 0x3A else { return false }
            i += 1
            if i < e && bytes[i] == 0x3A {
                guard !compressed else { return false }
                compressed = true
                i += 1
                if i == e { break }
            } else if i == e {
                return false
            }
        }
        guard compressed ? groups <= 7 : groups == 8 else { return false }
        return hasLetterOrLong && (written >= 3 || (compressed && written >= 2))
    }
}
