import Foundation

/// A strict RFC 8259 JSON parser over UTF-8 bytes, bounded in depth, that reports the byte offset of a
/// syntax error. `NaN`, `Infinity` and numbers that overflow a double are refused (they cannot be drawn).
public struct JSONParser {
    /// The document; every read is checked against `count` by the parser itself (a release build drops
    /// the buffer's own checks, which cost a third of the time on large data).
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    let maxDepth: Int

    /// Parses `bytes` as one JSON document.
    /// - Throws: ``ChartError`` of kind `.syntax` with the byte offset.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws(ChartError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer throws(ChartError) -> JSONValue in
            var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
            parser.skipWhitespace()
            let value = try parser.value(depth: 0)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw parser.error("unexpected data after the JSON value") }
            return value
        }
    }

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func error(_ message: String) -> ChartError {
        ChartError(.syntax, path: "$", "the body is not valid JSON at byte offset \(index): \(message)")
    }

    mutating func skipWhitespace() {
        let bytes = self.bytes
        var i = index
        while i < bytes.count {
            let byte = bytes[i]
            guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { break }
            i += 1
        }
        index = i
    }

    mutating func value(depth: Int) throws(ChartError) -> JSONValue {
        guard depth <= maxDepth else { throw error("nested deeper than \(maxDepth) levels") }
        guard index < bytes.count else { throw error("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "N"), UInt8(ascii: "I"): throw error("NaN and Infinity are not JSON numbers")
        default: return .number(try number())
        }
    }

    mutating func literal(_ word: String) throws(ChartError) {
        let expected = Array(word.utf8)
        let count = expected.count
        guard index + count <= bytes.count else { throw error("unexpected end of input") }
        for offset in 0..<count where bytes[index + offset] != expected[offset] {
            throw error("unexpected character")
        }
        index += count
    }

    private mutating func object(depth: Int) throws(ChartError) -> JSONValue {
        index += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            skipWhitespace()
            if members.contains(where: { $0.key == key }) { throw error("duplicate member '\(key)'") }
            // Inline data rows are read straight into columns (no tree of per-row objects).
            if key == "values", index < bytes.count, bytes[index] == UInt8(ascii: "[") {
                members.append((key, try rowsOrArray(depth: depth + 1)))
            } else {
                members.append((key, try value(depth: depth + 1)))
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            throw error("expected ',' or '}'")
        }
    }

    mutating func array(depth: Int) throws(ChartError) -> JSONValue {
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth + 1))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func string() throws(ChartError) -> String {
        index += 1
        let start = index
        var plain = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                if plain {
                    let slice = bytes[start..<index]
                    index += 1
                    guard let text = String(validating: slice, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
                    return text
                }
                break
            }
            if byte == UInt8(ascii: "\\") { plain = false; index += 2; continue }
            if byte < 0x20 { throw error("a control character inside a string") }
            index += 1
        }
        guard index < bytes.count else { throw error("an unterminated string") }
        return try unescape(start: start, end: index)
    }

    private mutating func unescape(start: Int, end: Int) throws(ChartError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            let byte = bytes[i]
            guard byte == UInt8(ascii: "\\") else { out.append(byte); i += 1; continue }
            let escape = bytes[i + 1]
            i += 2
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard i + 4 <= end, let code = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
                    throw error("a bad \\u escape")
                }
                i += 4
                var scalarValue = code
                if (0xD800..<0xDC00).contains(code), i + 6 <= end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                   let low = UInt32(String(decoding: bytes[i + 2..<i + 6], as: UTF8.self), radix: 16), (0xDC00..<0xE000).contains(low) {
                    scalarValue = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: throw error("a bad escape")
            }
        }
        index = end + 1
        guard let text = String(validating: out, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
        return text
    }

    mutating func number() throws(ChartError) -> Double {
        // Locals, not `self.`: the loops below stay in registers.
        let bytes = self.bytes, count = bytes.count, start = index
        var i = index
        defer { index = i }
        var negative = false
        if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        // The first 19 digits into `mantissa`, the decimal exponent into `exponent`.
        var mantissa: UInt64 = 0, kept = 0, exponent = 0
        var exact = true
        while i < count {
            let digit = bytes[i] &- 0x30
            guard digit < 10 else { break }
            if kept < 19 {
                mantissa = mantissa &* 10 &+ UInt64(digit)
                if mantissa != 0 { kept += 1 }
            } else {
                exponent += 1
                if digit != 0 { exact = false }
            }
            i += 1
        }
        guard i > start + (negative ? 1 : 0) else { throw error("unexpected character") }
        if i < count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < count {
                let digit = bytes[i] &- 0x30
                guard digit < 10 else { break }
                if kept < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                    if mantissa != 0 { kept += 1 }  // leading zeros of a fraction move only the exponent
                    exponent -= 1
                } else if digit != 0 {
                    exact = false
                }
                i += 1
            }
            guard i > fractionStart else { index = i; throw error("a malformed number") }
        }
        if i < count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var minus = false
            if i < count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { minus = bytes[i] == UInt8(ascii: "-"); i += 1 }
            var power = 0
            let powerStart = i
            while i < count {
                let digit = bytes[i] &- 0x30
                guard digit < 10 else { break }
                if power < 100_000 { power = power * 10 + Int(digit) }
                i += 1
            }
            guard i > powerStart else { index = i; throw error("a malformed number") }
            exponent += minus ? -power : power
        }
        // Exact (Clinger's fast path): a mantissa of at most 2^53 times an exactly representable power of ten.
        if mantissa <= 1 << 53, (-22...22).contains(exponent) {
            var value = Double(mantissa)
            if exponent < 0 { value /= Self.powersOfTen[-exponent] } else { value *= Self.powersOfTen[exponent] }
            return negative ? -value : value
        }
        #if arch(x86_64)
        // Up to 19 digits in x87 extended precision (64-bit significand, powers of ten up to 10^27 exact): one
        // rounding there, then one to double, which is the correctly rounded result unless the 11 extra bits
        // sit at the halfway point between two doubles (then strtod decides).
        if exact, (-27...27).contains(exponent) {
            let power = Self.extendedPowersOfTen[abs(exponent)]
            let product = exponent < 0 ? Float80(mantissa) / power : Float80(mantissa) * power
            let extra = product.significandBitPattern & 0x7FF
            if extra < 0x3FF || extra > 0x401 {
                let value = Double(product)
                return negative ? -value : value
            }
        }
        #endif
        // Otherwise strtod on a stack copy of the text (correctly rounded, no heap allocation).
        let length = i - start
        guard length < 128 else {
            guard let value = Double(String(decoding: bytes[start..<i], as: UTF8.self)), value.isFinite else {
                throw error("a malformed or out-of-range number")
            }
            return value
        }
        let value = withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer -> Double in
            for offset in 0..<length { buffer[offset] = CChar(bitPattern: bytes[start + offset]) }
            buffer[length] = 0
            return strtod(buffer.baseAddress!, nil)
        }
        guard value.isFinite else { throw error("a malformed or out-of-range number") }
        return value
    }

    private static let powersOfTen: [Double] = (0...22).map { power in (0..<power).reduce(1.0) { value, _ in value * 10 } }
    #if arch(x86_64)
    private static let extendedPowersOfTen: [Float80] = (0...27).map { power in (0..<power).reduce(Float80(1)) { value, _ in value * 10 } }
    #endif
}
