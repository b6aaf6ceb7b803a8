/// How untrusted bytes are written into a record so that no value can end a line, forge a field
/// or break the format, whatever bytes a client sent.
enum AccessLogEscaping {
    /// `\xNN` for `byte`.
    @inline(__always)
    static func appendHexEscape(_ byte: UInt8, to out: inout ByteWriter) {
        out.put(UInt8(ascii: "\\"))
        out.put(UInt8(ascii: "x"))
        out.put(hexDigit(byte >> 4))
        out.put(hexDigit(byte & 0xF))
    }

    @inline(__always)
    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "A") + value - 10
    }

    /// nginx's escaping for the combined format: `"`, `\`, control bytes and every byte from
    /// 0x7F up become `\xNN`; the rest is written as is.
    static func appendCombined(_ bytes: UnsafeRawBufferPointer, to out: inout ByteWriter) {
        // Runs of bytes written as they are go in at once.
        var run = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                if run < index { out.put(UnsafeRawBufferPointer(rebasing: bytes[run..<index])) }
                appendHexEscape(byte, to: &out)
                run = index + 1
            }
            index += 1
        }
        if run < bytes.count { out.put(UnsafeRawBufferPointer(rebasing: bytes[run...])) }
    }

    /// A key=value value: bare when it is printable ASCII without space, `"` or `\` (a reader
    /// splits a field at its first `=`);
    /// otherwise quoted, with `\"`, `\\`, `\n`, `\r`, `\t` and `\xNN` for other control bytes
    /// and every byte from 0x7F up. An empty value is `""`.
    static func appendKeyValue(_ bytes: UnsafeRawBufferPointer, to out: inout ByteWriter) {
        var bare = !bytes.isEmpty
        for byte in bytes where byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            bare = false
            break
        }
        if bare {
            out.put(bytes)
            return
        }
        out.put(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.put(UInt8(ascii: "\\"))
                out.put(byte)
            case UInt8(ascii: "\n"): out.put(UInt8(ascii: "\\")); out.put(UInt8(ascii: "n"))
            case UInt8(ascii: "\r"): out.put(UInt8(ascii: "\\")); out.put(UInt8(ascii: "r"))
            case UInt8(ascii: "\t"): out.put(UInt8(ascii: "\\")); out.put(UInt8(ascii: "t"))
            case 0x20..<0x7F: out.put(byte)
            default: appendHexEscape(byte, to: &out)
            }
        }
        out.put(UInt8(ascii: "\""))
    }

    /// A JSON string with its quotes. Valid UTF-8 passes through (C1 controls as `\u00XX`);
    /// each byte of an invalid sequence becomes U+FFFD, so the line is always valid JSON.
    static func appendJSONString(_ bytes: UnsafeRawBufferPointer, to out: inout ByteWriter) {
        out.put(UInt8(ascii: "\""))
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            // A run of printable ASCII without a quote or a backslash goes in at once.
            var end = index
            while end < bytes.count, bytes[end] >= 0x20, bytes[end] < 0x7F, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\") { end += 1 }
            if end > index {
                out.put(UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
                index = end
                continue
            }
            if byte < 0x80 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    out.put(UInt8(ascii: "\\"))
                    out.put(byte)
                case UInt8(ascii: "\n"): out.put(UInt8(ascii: "\\")); out.put(UInt8(ascii: "n"))
                case UInt8(ascii: "\r"): out.put(UInt8(ascii: "\\")); out.put(UInt8(ascii: "r"))
                case UInt8(ascii: "\t"): out.put(UInt8(ascii: "\\")); out.put(UInt8(ascii: "t"))
                case 0..<0x20, 0x7F: appendUnicodeEscape(byte, to: &out)
                default: out.put(byte)
                }
                index += 1
                continue
            }
            let length = validSequenceLength(bytes, at: index)
            if length == 0 {
                out.put("\u{FFFD}")
                index += 1
            } else if length == 2 && byte == 0xC2 && bytes[index + 1] < 0xA0 {
                appendUnicodeEscape(bytes[index + 1], to: &out)  // C1 control U+0080...U+009F
                index += 2
            } else {
                out.put(UnsafeRawBufferPointer(rebasing: bytes[index..<index + length]))
                index += length
            }
        }
        out.put(UInt8(ascii: "\""))
    }

    private static func appendUnicodeEscape(_ value: UInt8, to out: inout ByteWriter) {
        out.put("\\u00")
        out.put(hexDigit(value >> 4))
        out.put(hexDigit(value & 0xF))
    }

    /// The length of the well-formed UTF-8 sequence starting at `index` (Unicode table 3-7:
    /// no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
    static func validSequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        let second = bytes[index + 1]
        guard second >= low && second <= high else { return 0 }
        for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 { return 0 }
        return length
    }
}
