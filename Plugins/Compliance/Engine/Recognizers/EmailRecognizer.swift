/// E-mail addresses, found from their `@`: an RFC 5322 dot-atom local part and a domain of at
/// least two labels whose top-level label is 2–24 letters (`user@localhost`, `@mention` and
/// `a@b.c1` are refused).
enum EmailRecognizer {
    /// Characters of a dot-atom local part besides letters and digits.
    @inline(__always) static func isLocalByte(_ b: UInt8) -> Bool {
        ASCII.isAlnum(b) || b == 0x2E || b == 0x5F || b == 0x25 || b == 0x2B || b == 0x2D || b == 0x27
            || b == 0x21 || b == 0x23 || b == 0x24 || b == 0x26 || b == 0x2A || b == 0x3D || b == 0x3F || b == 0x5E
            || b == 0x60 || b == 0x7B || b == 0x7C || b == 0x7D || b == 0x7E
    }

    /// The address around the `@` at `at`, if it is one.
    static func match(_ bytes: Bytes, at: Int) -> ByteMatch? {
        // Local part: back over local characters (at most 64), never starting or ending with '.'.
        // Non-ASCII letters are allowed (RFC 6531 addresses, `garcía@…`); punctuation in front is trimmed.
        var s = at
        while s > 0 && at - s < 96 && (isLocalByte(bytes[s - 1]) || bytes[s - 1] >= 0x80) { s -= 1 }
        while s < at && !(ASCII.isAlnum(bytes[s]) || bytes[s] == 0x5F || isLetterLead(bytes, s)) { s += 1 }
        guard s < at, bytes[at - 1] != 0x2E else { return nil }
        var k = s + 1
        while k < at { if bytes[k] == 0x2E && bytes[k - 1] == 0x2E { return nil }; k += 1 }
        guard let end = domainEnd(bytes, from: at + 1) else { return nil }
        return ByteMatch(type: .email, start: s, end: end, score: 1.0)
    }

    /// Whether a non-ASCII scalar starts at `i` and is not punctuation (U+0080–U+00BF, U+2000–U+206F:
    /// quotes, dashes and spaces that may stand before an address).
    static func isLetterLead(_ bytes: Bytes, _ i: Int) -> Bool {
        let b = bytes[i]
        guard b >= 0xC3 else { return false }                       // continuation bytes and U+0080–U+00BF
        if b == 0xE2 && (bytes.at(i + 1) == 0x80 || bytes.at(i + 1) == 0x81) { return false }
        if b == 0xE3 && bytes.at(i + 1) == 0x80 { return false }   // CJK punctuation
        return b < 0xF0                                             // no emoji
    }

    /// The end of a valid domain starting at `from` (labels of letters, digits and inner
    /// hyphens, at least two, the last 2–24 letters), or nil.
    static func domainEnd(_ bytes: Bytes, from: Int) -> Int? {
        var i = from
        var labels = 0
        var lastLabelStart = from
        var lastGoodEnd: Int? = nil
        while i - from < 253 {                       // a domain is at most 253 bytes
            let labelStart = i
            // Letters of other scripts are allowed in labels (internationalised domains, `info@münchen.de`).
            while i < bytes.count && (ASCII.isAlnum(bytes[i]) || bytes[i] == 0x2D || (bytes[i] >= 0x80 && !isPunctuationLead(bytes, i)))
                    && i - labelStart < 63 { i += 1 }
            let length = i - labelStart
            guard length > 0, bytes[labelStart] != 0x2D, bytes[i - 1] != 0x2D else { break }
            labels += 1
            lastLabelStart = labelStart
            if labels >= 2, isTopLevel(bytes, lastLabelStart, i) { lastGoodEnd = i }
            // Another label follows only when a '.' is followed by a label character.
            if i + 1 < bytes.count && bytes[i] == 0x2E && ASCII.isAlnum(bytes[i + 1]) { i += 1 } else { break }
        }
        guard let end = lastGoodEnd else { return nil }
        // The address must not run on into a word (`a@b.comx` was consumed whole; `a@b.com_x` is not an address).
        if end < bytes.count && (bytes[end] == 0x5F || bytes[end] == 0x40) { return nil }
        return end
    }

    /// Whether the non-ASCII scalar at `i` is punctuation or a space (U+2000–U+206F, U+3000–U+303F,
    /// U+00A0–U+00BF), which ends a domain.
    static func isPunctuationLead(_ bytes: Bytes, _ i: Int) -> Bool {
        let b = bytes[i]
        if b == 0xE2 && (bytes.at(i + 1) == 0x80 || bytes.at(i + 1) == 0x81) { return true }
        if b == 0xE3 && bytes.at(i + 1) == 0x80 { return true }
        if b == 0xC2 { return true }
        return b >= 0xF0
    }

    /// File extensions that look like top-level domains in asset names (`logo@2x.png`).
    static let fileExtensions: Set<String> = [
        "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "pdf", "txt", "csv", "tsv", "log", "doc", "docx", "xls", "xlsx",
        "ppt", "pptx", "json", "xml", "yml", "yaml", "html", "htm", "css", "js", "ts", "rb", "java", "swift", "exe",
        "dll", "gz", "tgz", "tar", "rar", "mp3", "mp4", "wav", "heic", "psd", "ini", "cfg", "conf",
    ]

    /// A top-level label: 2–24 ASCII letters, not a file extension.
    static func isTopLevel(_ bytes: Bytes, _ start: Int, _ end: Int) -> Bool {
        guard (2...24).contains(end - start) else { return false }
        for k in start..<end where !ASCII.isLetter(bytes[k]) { return false }
        guard end - start <= 5 else { return true }
        let label = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self).lowercased()
        return !fileExtensions.contains(label)
    }
}
