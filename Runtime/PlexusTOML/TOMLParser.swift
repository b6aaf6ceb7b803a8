/// A TOML 1.0 parser over the document's UTF-8 bytes, in one pass.
///
/// Written here because the TOML package the project used (TOMLKit 0.6.0, wrapping toml++ 3.4)
/// aborted on an assertion and leaked every parsed table (found by the fuzz harnesses). Hostile
/// input: nesting (arrays, inline tables, dotted keys and headers together) stops at
/// ``maximumDepth``, integers outside 64 bits are errors, and every error names a line and column.
struct TOMLParser {
    /// Deeper than any configuration needs; keeps the recursion far from the stack's end.
    static let maximumDepth = 128

    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    // MARK: The tree under construction

    /// How a table came to exist, which decides whether it may be defined or extended later.
    private enum Origin { case implicit, header, dotted }

    private final class Node {
        var origin: Origin
        let depth: Int
        var keys: [String] = []
        var entries: [String: Entry] = [:]
        init(_ origin: Origin, depth: Int) { self.origin = origin; self.depth = depth }

        func add(_ key: String, _ entry: Entry) {
            if entries.updateValue(entry, forKey: key) == nil { keys.append(key) }
        }

        var table: TOMLTable {
            var table = TOMLTable()
            for key in keys {
                switch entries[key]! {
                case .value(let value): table.set(key, value)
                case .table(let node): table.set(key, .table(node.table))
                case .tables(let list): table.set(key, .array(list.items.map { .table($0.table) }))
                }
            }
            return table
        }
    }

    private final class NodeList {
        var items: [Node]
        init(_ first: Node) { items = [first] }
    }

    private enum Entry {
        /// A scalar, a static array or an inline table: closed to headers and dotted keys.
        case value(TOMLValue)
        case table(Node)
        case tables(NodeList)
    }

    // MARK: Document

    mutating func parse() throws(TOMLError) -> TOMLTable {
        let root = Node(.header, depth: 0)
        var current = root
        while true {
            skipWhitespace()
            guard pos < bytes.count else { break }
            switch bytes[pos] {
            case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                try endOfLine()
            case UInt8(ascii: "["):
                current = try header(root)
                try endOfLine()
            default:
                try keyValue(into: current)
                try endOfLine()
            }
        }
        return root.table
    }

    /// `[a.b]` or `[[a.b]]`: the table that the following key/values go into.
    private mutating func header(_ root: Node) throws(TOMLError) -> Node {
        let start = pos
        pos += 1
        let isArray = peek == UInt8(ascii: "[")
        if isArray { pos += 1 }
        skipWhitespace()
        let path = try key()
        skipWhitespace()
        guard expect("]"), !isArray || expect("]") else { throw error(isArray ? "expected ']]' to close the array-of-tables header" : "expected ']' to close the table header") }
        var node = root
        for (index, part) in path.enumerated() {
            let last = index == path.count - 1
            let name = path[...index].joined(separator: ".")
            if node.depth + 1 > Self.maximumDepth { throw error("tables nest deeper than \(Self.maximumDepth)", at: start) }
            switch node.entries[part] {
            case nil:
                if last && isArray {
                    let element = Node(.header, depth: node.depth + 1)
                    node.add(part, .tables(NodeList(element)))
                    return element
                }
                let child = Node(last ? .header : .implicit, depth: node.depth + 1)
                node.add(part, .table(child))
                node = child
            case .table(let child):
                if last {
                    if isArray { throw error("'\(name)' is a table, not an array of tables", at: start) }
                    guard child.origin == .implicit else { throw error("table '\(name)' is defined twice", at: start) }
                    child.origin = .header
                }
                node = child
            case .tables(let list):
                if last {
                    guard isArray else { throw error("'\(name)' is an array of tables, not a table", at: start) }
                    let element = Node(.header, depth: node.depth + 1)
                    list.items.append(element)
                    return element
                }
                node = list.items[list.items.count - 1]
            case .value:
                throw error("'\(name)' is already a value, it cannot be a table", at: start)
            }
        }
        return node
    }

    /// `a.b = value` into `table`.
    private mutating func keyValue(into table: Node) throws(TOMLError) {
        let start = pos
        let path = try key()
        skipWhitespace()
        guard expect("=") else { throw error("expected '=' after the key '\(path.joined(separator: "."))'") }
        skipWhitespace()
        // An inline table or array here sits below `table` and each part of the dotted key, whatever
        // the nesting of the text around it: count from there, so the depth bound holds absolutely.
        let outer = depth
        depth = max(depth, table.depth + path.count - 1)
        let value: TOMLValue
        do { value = try self.value() } catch { depth = outer; throw error }
        depth = outer
        var node = table
        for part in path.dropLast() {
            if node.depth + 1 > Self.maximumDepth { throw error("tables nest deeper than \(Self.maximumDepth)", at: start) }
            switch node.entries[part] {
            case nil:
                let child = Node(.dotted, depth: node.depth + 1)
                node.add(part, .table(child))
                node = child
            case .table(let child) where child.origin == .dotted:
                node = child
            default:
                throw error("the dotted key '\(path.joined(separator: "."))' cannot add to '\(part)', defined elsewhere", at: start)
            }
        }
        let last = path[path.count - 1]
        guard node.entries[last] == nil else { throw error("the key '\(path.joined(separator: "."))' is defined twice", at: start) }
        node.add(last, .value(value))
    }

    /// After a key/value or a header: spaces, a comment, then a newline or the end.
    private mutating func endOfLine() throws(TOMLError) {
        skipWhitespace()
        if peek == UInt8(ascii: "#") { try comment() }
        if pos >= bytes.count { return }
        if bytes[pos] == UInt8(ascii: "\n") { pos += 1; return }
        if bytes[pos] == UInt8(ascii: "\r"), pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "\n") { pos += 2; return }
        throw error("expected the end of the line, found \(describe(bytes[pos]))")
    }

    private mutating func comment() throws(TOMLError) {
        pos += 1
        while pos < bytes.count, bytes[pos] != UInt8(ascii: "\n") {
            let byte = bytes[pos]
            if byte == UInt8(ascii: "\r"), pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "\n") { return }
            if (byte < 0x20 && byte != 0x09) || byte == 0x7F { throw error("control character \(describe(byte)) in a comment") }
            pos += 1
        }
    }

    // MARK: Keys

    /// A dotted key: its parts, unquoted.
    private mutating func key() throws(TOMLError) -> [String] {
        var parts: [String] = []
        while true {
            parts.append(try simpleKey())
            if parts.count > Self.maximumDepth { throw error("a key has more than \(Self.maximumDepth) parts") }
            skipWhitespace()
            guard peek == UInt8(ascii: ".") else { return parts }
            pos += 1
            skipWhitespace()
        }
    }

    private mutating func simpleKey() throws(TOMLError) -> String {
        switch peek {
        case UInt8(ascii: "\""):
            if startsWith("\"\"\"") { throw error("a key cannot be a multi-line string") }
            return try basicString()
        case UInt8(ascii: "'"):
            if startsWith("'''") { throw error("a key cannot be a multi-line string") }
            return try literalString()
        default:
            let start = pos
            while let byte = peek, Self.isBareKey(byte) { pos += 1 }
            guard pos > start else {
                throw error(pos < bytes.count ? "expected a key, found \(describe(bytes[pos]))" : "expected a key, found the end")
            }
            return String(decoding: bytes[start..<pos], as: UTF8.self)
        }
    }

    private static func isBareKey(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }

    // MARK: Values

    private mutating func value() throws(TOMLError) -> TOMLValue {
        guard let byte = peek else { throw error("expected a value, found the end") }
        switch byte {
        case UInt8(ascii: "\""):
            return .string(startsWith("\"\"\"") ? try multilineBasicString() : try basicString())
        case UInt8(ascii: "'"):
            return .string(startsWith("'''") ? try multilineLiteralString() : try literalString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            if startsWith("true") { pos += 4; return .bool(true) }
            if startsWith("false") { pos += 5; return .bool(false) }
            throw error("expected a value; booleans are 'true' and 'false'")
        case UInt8(ascii: "["):
            return try nested { (parser: inout TOMLParser) throws(TOMLError) in try parser.array() }
        case UInt8(ascii: "{"):
            return try nested { (parser: inout TOMLParser) throws(TOMLError) in try parser.inlineTable() }
        default:
            return try scalar()
        }
    }

    private mutating func nested(_ body: (inout TOMLParser) throws(TOMLError) -> TOMLValue) throws(TOMLError) -> TOMLValue {
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maximumDepth { throw error("arrays and inline tables nest deeper than \(Self.maximumDepth)") }
        return try body(&self)
    }

    private mutating func array() throws(TOMLError) -> TOMLValue {
        pos += 1
        var elements: [TOMLValue] = []
        while true {
            try skipBlank()
            if expect("]") { return .array(elements) }
            elements.append(try value())
            try skipBlank()
            if expect(",") { continue }
            if expect("]") { return .array(elements) }
            throw error(pos < bytes.count ? "expected ',' or ']' in an array, found \(describe(bytes[pos]))" : "the array is not closed")
        }
    }

    private mutating func inlineTable() throws(TOMLError) -> TOMLValue {
        pos += 1
        let node = Node(.dotted, depth: depth)
        skipWhitespace()
        if expect("}") { return .table(node.table) }
        while true {
            skipWhitespace()
            try keyValue(into: node)
            skipWhitespace()
            if expect(",") { continue }
            if expect("}") { return .table(node.table) }
            throw error(pos < bytes.count ? "expected ',' or '}' in an inline table, found \(describe(bytes[pos]))" : "the inline table is not closed")
        }
    }

    /// Spaces, newlines and comments (inside arrays).
    private mutating func skipBlank() throws(TOMLError) {
        while let byte = peek {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"): pos += 1
            case UInt8(ascii: "\r") where pos + 1 < bytes.count && bytes[pos + 1] == UInt8(ascii: "\n"): pos += 2
            case UInt8(ascii: "#"): try comment()
            default: return
            }
        }
    }

    // MARK: Strings

    private mutating func basicString() throws(TOMLError) -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw error("the string is not closed") }
            switch byte {
            case UInt8(ascii: "\""): pos += 1; return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"): try escape(into: &out)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"): throw error("a newline in a single-line string (use \"\"\" for several lines)")
            default:
                if (byte < 0x20 && byte != 0x09) || byte == 0x7F { throw error("control character \(describe(byte)) in a string") }
                out.append(byte)
                pos += 1
            }
        }
    }

    private mutating func multilineBasicString() throws(TOMLError) -> String {
        pos += 3
        skipFirstNewline()
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw error("the multi-line string is not closed") }
            if startsWith("\"\"\"") {
                // Up to two more quotes belong to the string.
                var quotes = 3
                while quotes < 5, pos + quotes < bytes.count, bytes[pos + quotes] == UInt8(ascii: "\"") { quotes += 1 }
                out += Array(repeating: UInt8(ascii: "\""), count: quotes - 3)
                pos += quotes
                return String(decoding: out, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") {
                // A backslash at the end of a line trims the newline and the blanks after it.
                var probe = pos + 1
                while probe < bytes.count, bytes[probe] == UInt8(ascii: " ") || bytes[probe] == UInt8(ascii: "\t") { probe += 1 }
                if probe < bytes.count, bytes[probe] == UInt8(ascii: "\n") || (bytes[probe] == UInt8(ascii: "\r") && probe + 1 < bytes.count && bytes[probe + 1] == UInt8(ascii: "\n")) {
                    pos = probe
                    while let next = peek, next == UInt8(ascii: " ") || next == UInt8(ascii: "\t") || next == UInt8(ascii: "\n") || next == UInt8(ascii: "\r") {
                        if next == UInt8(ascii: "\r") && !(pos + 1 < bytes.count && bytes[pos + 1] == UInt8(ascii: "\n")) { throw error("a carriage return without a newline") }
                        pos += 1
                    }
                    continue
                }
                try escape(into: &out)
                continue
            }
            try multilineByte(byte, into: &out)
        }
    }

    private mutating func literalString() throws(TOMLError) -> String {
        pos += 1
        let start = pos
        while true {
            guard let byte = peek else { throw error("the string is not closed") }
            if byte == UInt8(ascii: "'") { pos += 1; return String(decoding: bytes[start..<(pos - 1)], as: UTF8.self) }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { throw error("a newline in a single-line string (use ''' for several lines)") }
            if (byte < 0x20 && byte != 0x09) || byte == 0x7F { throw error("control character \(describe(byte)) in a string") }
            pos += 1
        }
    }

    private mutating func multilineLiteralString() throws(TOMLError) -> String {
        pos += 3
        skipFirstNewline()
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw error("the multi-line string is not closed") }
            if startsWith("'''") {
                var quotes = 3
                while quotes < 5, pos + quotes < bytes.count, bytes[pos + quotes] == UInt8(ascii: "'") { quotes += 1 }
                out += Array(repeating: UInt8(ascii: "'"), count: quotes - 3)
                pos += quotes
                return String(decoding: out, as: UTF8.self)
            }
            try multilineByte(byte, into: &out)
        }
    }

    private mutating func skipFirstNewline() {
        if peek == UInt8(ascii: "\n") { pos += 1 } else if startsWith("\r\n") { pos += 2 }
    }

    private mutating func multilineByte(_ byte: UInt8, into out: inout [UInt8]) throws(TOMLError) {
        if byte == UInt8(ascii: "\r") {
            guard pos + 1 < bytes.count, bytes[pos + 1] == UInt8(ascii: "\n") else { throw error("a carriage return without a newline") }
            out.append(UInt8(ascii: "\n"))
            pos += 2
            return
        }
        if (byte < 0x20 && byte != 0x09 && byte != 0x0A) || byte == 0x7F { throw error("control character \(describe(byte)) in a string") }
        out.append(byte)
        pos += 1
    }

    private mutating func escape(into out: inout [UInt8]) throws(TOMLError) {
        pos += 1
        guard let byte = peek else { throw error("the string is not closed") }
        pos += 1
        switch byte {
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = byte == UInt8(ascii: "u") ? 4 : 8
            guard pos + count <= bytes.count else { throw error("\\\(Character(Unicode.Scalar(byte))) needs \(count) hex digits") }
            var code: UInt32 = 0
            for digit in bytes[pos..<(pos + count)] {
                guard let value = Self.hexValue(digit) else { throw error("\\\(Character(Unicode.Scalar(byte))) needs \(count) hex digits") }
                code = code << 4 | UInt32(value)
            }
            guard let scalar = Unicode.Scalar(code) else { throw error("\\\(Character(Unicode.Scalar(byte))) names no Unicode scalar value") }
            pos += count
            out += Array(String(Character(scalar)).utf8)
        default:
            pos -= 1
            throw error("unknown escape \\\(describe(byte))")
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    // MARK: Numbers, dates and times

    private mutating func scalar() throws(TOMLError) -> TOMLValue {
        let start = pos
        while let byte = peek, Self.isScalarByte(byte) { pos += 1 }
        // A date, a space, a time: one date-time.
        if pos - start == 10, pos + 3 < bytes.count, bytes[pos] == UInt8(ascii: " "), Self.isDigit(bytes[pos + 1]),
           Self.isDigit(bytes[pos + 2]), bytes[pos + 3] == UInt8(ascii: ":"), bytes[start + 4] == UInt8(ascii: "-") {
            pos += 1
            while let byte = peek, Self.isScalarByte(byte) { pos += 1 }
        }
        let token = Array(bytes[start..<pos])
        guard !token.isEmpty else {
            throw error(pos < bytes.count ? "expected a value, found \(describe(bytes[pos]))" : "expected a value, found the end")
        }
        let text = String(decoding: token, as: UTF8.self)
        if (token.count >= 10 && token[4] == UInt8(ascii: "-") && token[0..<4].allSatisfy(Self.isDigit))
            || (token.count >= 8 && token[2] == UInt8(ascii: ":") && token[0..<2].allSatisfy(Self.isDigit)) {
            guard TOMLDateTime.isValid(token) else { throw error("'\(text)' is not a valid date or time", at: start) }
            return .datetime(text)
        }
        if let integer = Self.integer(token) { return .integer(integer) }
        if let float = Self.float(token) { return .float(float) }
        if Self.integerShaped(token) { throw error("the integer '\(text)' does not fit in 64 bits", at: start) }
        throw error("'\(text)' is not a valid value (strings need quotes)", at: start)
    }

    private static func isScalarByte(_ byte: UInt8) -> Bool {
        isBareKey(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// Digits of `radix` with single underscores between them; nil when malformed.
    private static func digits(_ token: ArraySlice<UInt8>, radix: Int) -> [UInt8]? {
        guard let first = token.first, let last = token.last, first != UInt8(ascii: "_"), last != UInt8(ascii: "_") else { return nil }
        var out: [UInt8] = []
        var previousUnderscore = false
        for byte in token {
            if byte == UInt8(ascii: "_") {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            previousUnderscore = false
            guard let value = hexValue(byte), Int(value) < radix else { return nil }
            out.append(byte)
        }
        return out
    }

    private static func integer(_ token: [UInt8]) -> Int64? {
        let body = token[...]
        if token.count > 2, token[0] == UInt8(ascii: "0") {
            let radix: Int
            switch token[1] {
            case UInt8(ascii: "x"): radix = 16
            case UInt8(ascii: "o"): radix = 8
            case UInt8(ascii: "b"): radix = 2
            default: radix = 0
            }
            if radix != 0 {
                guard let digits = digits(body.dropFirst(2), radix: radix) else { return nil }
                return Int64(String(decoding: digits, as: UTF8.self), radix: radix)
            }
        }
        var rest = body
        let negative = rest.first == UInt8(ascii: "-")
        if rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        guard let digits = digits(rest, radix: 10), !digits.isEmpty else { return nil }
        if digits.count > 1 && digits[0] == UInt8(ascii: "0") { return nil }
        return Int64((negative ? "-" : "") + String(decoding: digits, as: UTF8.self))
    }

    /// Shaped like an integer (so a failed conversion means it overflowed).
    private static func integerShaped(_ token: [UInt8]) -> Bool {
        var rest = token[...]
        if rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        if rest.count > 2, rest.first == UInt8(ascii: "0"), [UInt8(ascii: "x"), UInt8(ascii: "o"), UInt8(ascii: "b")].contains(rest[rest.startIndex + 1]) {
            return !rest.dropFirst(2).isEmpty && rest.dropFirst(2).allSatisfy { hexValue($0) != nil || $0 == UInt8(ascii: "_") }
        }
        return !rest.isEmpty && rest.allSatisfy { isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private static func float(_ token: [UInt8]) -> Double? {
        var rest = token[...]
        var sign = ""
        if let first = rest.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            sign = first == UInt8(ascii: "-") ? "-" : ""
            rest = rest.dropFirst()
        }
        if rest.elementsEqual("inf".utf8) { return sign == "-" ? -.infinity : .infinity }
        if rest.elementsEqual("nan".utf8) { return .nan }
        // integer part, then a fraction, an exponent or both
        let exponentAt = rest.firstIndex { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        let mantissa = rest[..<(exponentAt ?? rest.endIndex)]
        let dot = mantissa.firstIndex(of: UInt8(ascii: "."))
        guard dot != nil || exponentAt != nil else { return nil }
        guard let whole = digits(mantissa[..<(dot ?? mantissa.endIndex)], radix: 10), !whole.isEmpty,
              !(whole.count > 1 && whole[0] == UInt8(ascii: "0")) else { return nil }
        var text = sign + String(decoding: whole, as: UTF8.self)
        if let dot {
            guard let fraction = digits(mantissa[(dot + 1)...], radix: 10), !fraction.isEmpty else { return nil }
            text += "." + String(decoding: fraction, as: UTF8.self)
        }
        if let exponentAt {
            var exponent = rest[(exponentAt + 1)...]
            var exponentSign = ""
            if let first = exponent.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
                exponentSign = first == UInt8(ascii: "-") ? "-" : ""
                exponent = exponent.dropFirst()
            }
            guard let power = digits(exponent, radix: 10), !power.isEmpty else { return nil }
            text += "e" + exponentSign + String(decoding: power, as: UTF8.self)
        }
        return Double(text)
    }

    // MARK: Small helpers

    private var peek: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private func startsWith(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard pos + count <= bytes.count else { return false }
        return text.withUTF8Buffer { bytes[pos..<(pos + count)].elementsEqual($0) }
    }

    private mutating func expect(_ character: Unicode.Scalar) -> Bool {
        guard peek == UInt8(ascii: character) else { return false }
        pos += 1
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { pos += 1 }
    }

    private func describe(_ byte: UInt8) -> String {
        (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16, uppercase: true))"
    }

    private func error(_ message: String, at offset: Int? = nil) -> TOMLError {
        let at = min(offset ?? pos, bytes.count)
        var line = 1, lineStart = 0
        for index in 0..<at where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return TOMLError(line: line, column: at - lineStart + 1, message: message)
    }
}
