/// Translates the SDK's one placeholder form (SQLite's: `?`, `?N`, `:name`, `$name`) into
/// PostgreSQL's `$N`, numbering exactly as SQLite does: `?` takes the largest index so far + 1,
/// `?N` takes N, a name takes the index of its first use (or the largest so far + 1).
///
/// String literals (`'...'`, `E'...'`), quoted identifiers, dollar-quoted bodies (`$$...$$`,
/// `$tag$...$tag$`), comments and `::` casts are copied unchanged. PostgreSQL's own `$N` is
/// accepted too. Not supported: the JSONB operators `?`, `?|`, `?&` (use `jsonb_exists` and friends).
enum Placeholders {
    /// The translated SQL and how many parameters it takes (the largest index).
    struct Translation: Sendable {
        let sql: String
        let parameterCount: Int
    }

    static func translate(_ sql: String) -> Translation {
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 8)
        var named: [String: Int] = [:]
        var largest = 0
        var i = 0
        let n = bytes.count

        func isIdentifierStart(_ c: UInt8) -> Bool {
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F || c >= 0x80
        }
        func isIdentifier(_ c: UInt8) -> Bool { isIdentifierStart(c) || isDigit(c) }
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        func emit(_ index: Int) {
            out.append(0x24)  // $
            out.append(contentsOf: String(index).utf8)
        }
        /// Copies a quoted run starting at `i` (the opening quote) through its closing quote.
        func copyQuoted(_ quote: UInt8, backslashEscapes: Bool) {
            out.append(bytes[i])
            i += 1
            while i < n {
                let c = bytes[i]
                out.append(c)
                i += 1
                if backslashEscapes && c == 0x5C && i < n {
                    out.append(bytes[i])
                    i += 1
                } else if c == quote {
                    if i < n && bytes[i] == quote {  // doubled quote: still inside
                        out.append(bytes[i])
                        i += 1
                    } else {
                        return
                    }
                }
            }
        }

        while i < n {
            let c = bytes[i]
            switch c {
            case 0x27:  // '
                let escaped = i > 0 && (bytes[i - 1] == 0x45 || bytes[i - 1] == 0x65) && (i < 2 || !isIdentifier(bytes[i - 2]))
                copyQuoted(0x27, backslashEscapes: escaped)
            case 0x22:  // "
                copyQuoted(0x22, backslashEscapes: false)
            case 0x2D where i + 1 < n && bytes[i + 1] == 0x2D:  // -- comment
                while i < n && bytes[i] != 0x0A {
                    out.append(bytes[i])
                    i += 1
                }
            case 0x2F where i + 1 < n && bytes[i + 1] == 0x2A:  // /* comment */
                out.append(contentsOf: [0x2F, 0x2A])
                i += 2
                while i < n && !(bytes[i] == 0x2A && i + 1 < n && bytes[i + 1] == 0x2F) {
                    out.append(bytes[i])
                    i += 1
                }
                if i < n {
                    out.append(contentsOf: [0x2A, 0x2F])
                    i += 2
                }
            case 0x3F:  // ?
                i += 1
                var number = 0
                var digits = 0
                while i < n && isDigit(bytes[i]) && digits < 9 {
                    number = number * 10 + Int(bytes[i] - 0x30)
                    digits += 1
                    i += 1
                }
                let index = digits > 0 ? number : largest + 1
                largest = max(largest, index)
                emit(index)
            case 0x3A where i + 1 < n && bytes[i + 1] == 0x3A:  // :: cast
                out.append(contentsOf: [0x3A, 0x3A])
                i += 2
            case 0x3A where i + 1 < n && isIdentifierStart(bytes[i + 1]):
                var j = i + 1
                while j < n && isIdentifier(bytes[j]) { j += 1 }
                let name = String(decoding: bytes[i..<j], as: UTF8.self)
                let index = named[name] ?? (largest + 1)
                named[name] = index
                largest = max(largest, index)
                emit(index)
                i = j
            case 0x24:  // $
                if i + 1 < n && isDigit(bytes[i + 1]) {  // PostgreSQL's own $N
                    var j = i + 1
                    var number = 0
                    while j < n && isDigit(bytes[j]) && j - i < 10 {
                        number = number * 10 + Int(bytes[j] - 0x30)
                        j += 1
                    }
                    largest = max(largest, number)
                    out.append(contentsOf: bytes[i..<j])
                    i = j
                    break
                }
                // $tag$ or $$: a dollar-quoted body, copied to the matching tag.
                var j = i + 1
                while j < n && isIdentifier(bytes[j]) { j += 1 }
                if j < n && bytes[j] == 0x24 {
                    let tag = Array(bytes[i...j])
                    out.append(contentsOf: tag)
                    i = j + 1
                    while i < n {
                        if bytes[i] == 0x24 && i + tag.count <= n && Array(bytes[i..<(i + tag.count)]) == tag {
                            out.append(contentsOf: tag)
                            i += tag.count
                            break
                        }
                        out.append(bytes[i])
                        i += 1
                    }
                } else if j > i + 1 {  // SQLite's $name parameter
                    let name = String(decoding: bytes[i..<j], as: UTF8.self)
                    let index = named[name] ?? (largest + 1)
                    named[name] = index
                    largest = max(largest, index)
                    emit(index)
                    i = j
                } else {
                    out.append(c)
                    i += 1
                }
            default:
                out.append(c)
                i += 1
            }
        }
        return Translation(sql: String(decoding: out, as: UTF8.self), parameterCount: largest)
    }
}
