/// One linear pass over XML bytes from a client, before libxml2 sees them, refusing what would
/// make the parser's work grow faster than the input:
/// - more than ``Limits/attributesPerElement`` attributes on one element (libxml2 2.9 compares
///   each attribute with every earlier one of the same element: quadratic);
/// - more than ``Limits/namespacesInScope`` namespace declarations in scope at once (each
///   element's prefix is looked up through every declaration in scope);
/// - elements nested deeper than ``Limits/depth``;
/// - a `<!DOCTYPE` (no document this project reads has one; it is where entities live);
/// - an encoding other than UTF-8, UTF-16, US-ASCII or ISO-8859-1 (anything else would reach
///   the C library's character converters).
///
/// UTF-16 input (with its byte-order mark) is scanned by code unit. The scan does not check
/// well-formedness: that is the parser's job; it only bounds the parser's work.
public enum XMLGuard {
    /// How much structure one document may have.
    public struct Limits: Sendable {
        public var attributesPerElement: Int
        public var namespacesInScope: Int
        public var depth: Int

        public init(attributesPerElement: Int = 256, namespacesInScope: Int = 256, depth: Int = 256) {
            (self.attributesPerElement, self.namespacesInScope, self.depth) = (attributesPerElement, namespacesInScope, depth)
        }
    }

    /// What the scan refused, with the line it was on.
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public let line: Int
        public var description: String { "\(reason) (line \(line))" }
    }

    /// Throws a ``Refusal`` for the first thing past `limits`.
    public static func check(_ bytes: UnsafeRawBufferPointer, limits: Limits = Limits()) throws(Refusal) {
        var scanner = Scanner(bytes)
        try scanner.run(limits)
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        /// 1 for bytes, 2 for UTF-16 code units.
        let width: Int
        let bigEndian: Bool
        var position: Int
        var line = 1

        init(_ bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
            if bytes.count >= 2, bytes[0] == 0xFE, bytes[1] == 0xFF { (width, bigEndian, position) = (2, true, 2) }
            else if bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xFE { (width, bigEndian, position) = (2, false, 2) }
            else if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { (width, bigEndian, position) = (1, false, 3) }
            else { (width, bigEndian, position) = (1, false, 0) }
        }

        var atEnd: Bool { position + width > bytes.count }

        /// The unit at `offset` units ahead (0 past the end); non-ASCII units read as 0x80.
        func peek(_ offset: Int = 0) -> UInt8 {
            let at = position + offset * width
            guard at + width <= bytes.count else { return 0 }
            if width == 1 { return bytes[at] }
            let (high, low) = bigEndian ? (bytes[at], bytes[at + 1]) : (bytes[at + 1], bytes[at])
            return high == 0 ? low : 0x80
        }

        mutating func advance() {
            if peek() == UInt8(ascii: "\n") { line += 1 }
            position += width
        }

        func refuse(_ reason: String) -> Refusal { Refusal(reason: reason, line: line) }

        func matches(_ text: StaticString) -> Bool {
            for index in 0..<text.utf8CodeUnitCount where peek(index) != text.utf8Start[index] { return false }
            return true
        }

        /// Skips past `terminator` (or to the end).
        mutating func skip(past terminator: StaticString) {
            while !atEnd {
                if matches(terminator) {
                    for _ in 0..<terminator.utf8CodeUnitCount { advance() }
                    return
                }
                advance()
            }
        }

        mutating func run(_ limits: Limits) throws(Refusal) {
            var scopes: [Int] = []   // namespace declarations of each open element
            var inScope = 0
            var first = true
            while !atEnd {
                guard peek() == UInt8(ascii: "<") else { advance(); continue }
                if matches("<?") {
                    if first, matches("<?xml"), [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n")].contains(peek(5)) {
                        try declaration()
                    } else {
                        skip(past: "?>")
                    }
                } else if matches("<!--") {
                    skip(past: "-->")
                } else if matches("<![CDATA[") {
                    skip(past: "]]>")
                } else if matches("<!DOCTYPE") {
                    throw refuse("a DOCTYPE is refused")
                } else if matches("</") {
                    skip(past: ">")
                    if let closed = scopes.popLast() { inScope -= closed }
                } else {
                    advance()
                    let (namespaces, selfClosing) = try element(limits)
                    if inScope + namespaces > limits.namespacesInScope {
                        throw refuse("more than \(limits.namespacesInScope) namespace declarations in scope")
                    }
                    if !selfClosing {
                        scopes.append(namespaces)
                        inScope += namespaces
                        if scopes.count > limits.depth { throw refuse("elements nest deeper than \(limits.depth)") }
                    }
                }
                first = false
            }
        }

        /// The XML declaration: only the encodings libxml2 reads without a converter.
        mutating func declaration() throws(Refusal) {
            var text: [UInt8] = []
            while !atEnd, !matches("?>"), text.count < 512 { text.append(peek()); advance() }
            skip(past: "?>")
            let lowered = text.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
            let key = Array("encoding".utf8)
            guard let start = lowered.indices.first(where: { lowered[$0...].starts(with: key) }) else { return }
            let rest = lowered[(start + key.count)...].drop { $0 == 0x20 || $0 == UInt8(ascii: "=") || $0 == 0x09 }
            guard let quote = rest.first, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { return }
            let name = String(decoding: rest.dropFirst().prefix { $0 != quote }, as: UTF8.self)
            let allowed: Set<String> = ["utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "us-ascii", "ascii", "iso-8859-1", "latin1"]
            guard allowed.contains(name) else {
                throw refuse("the encoding '\(name.prefix(40))' is refused (UTF-8, UTF-16, US-ASCII and ISO-8859-1 are read)")
            }
        }

        /// One start tag after its `<`: counts attributes (one `=` each outside quoted values) and
        /// namespace declarations (attributes named `xmlns` or `xmlns:…`).
        mutating func element(_ limits: Limits) throws(Refusal) -> (namespaces: Int, selfClosing: Bool) {
            var attributes = 0, namespaces = 0
            var nameStart: Int?
            var name: [UInt8] = []
            while !atEnd {
                let unit = peek()
                switch unit {
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    advance()
                    while !atEnd, peek() != unit { advance() }
                    advance()
                    nameStart = nil
                case UInt8(ascii: "="):
                    attributes += 1
                    if attributes > limits.attributesPerElement {
                        throw refuse("an element has more than \(limits.attributesPerElement) attributes")
                    }
                    if name.starts(with: Array("xmlns".utf8)), name.count == 5 || name[5] == UInt8(ascii: ":") { namespaces += 1 }
                    nameStart = nil
                    advance()
                case UInt8(ascii: ">"):
                    let selfClosing = position >= width && previous() == UInt8(ascii: "/")
                    advance()
                    return (namespaces, selfClosing)
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                    nameStart = nil
                    advance()
                default:
                    if nameStart == nil { nameStart = position; name.removeAll(keepingCapacity: true) }
                    if name.count < 8 { name.append(unit) }
                    advance()
                }
            }
            return (namespaces, false)
        }

        func previous() -> UInt8 {
            var copy = self
            copy.position -= width
            return copy.peek()
        }
    }
}
