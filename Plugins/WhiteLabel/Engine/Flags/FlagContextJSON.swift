import Foundation

/// The flag context and results as JSON, read and written by hand: the evaluation route's
/// request path (Foundation's JSONDecoder and JSONEncoder cost several times the evaluation).
///
/// The context is one object: `userId`, `sessionId`, `remoteAddress`, `plan`, `tenant`,
/// `environment`, `appVersion` (strings), `currentTime` (unix seconds), `properties` (an object
/// of strings). Any other member, or a value of another type, is refused naming it.
public enum FlagContextJSON {
    /// Parses a context, or throws a ``ValidationError`` naming what is wrong.
    public static func parse(_ bytes: [UInt8]) throws -> FlagContext {
        var reader = Reader(bytes: bytes)
        var context = FlagContext()
        // A plain loop over the members (no closures capturing the context: it stays on the stack).
        var more = try reader.openObject()
        while more {
            let key = try reader.key()
            switch key {
            case "userId": context.userId = try reader.string(key)
            case "sessionId": context.sessionId = try reader.string(key)
            case "remoteAddress": context.remoteAddress = try reader.string(key)
            case "plan": context.plan = try reader.string(key)
            case "tenant": context.tenant = try reader.string(key)
            case "environment": context.environment = try reader.string(key)
            case "appVersion": context.appVersion = try reader.string(key)
            case "currentTime": context.currentTime = try reader.number(key)
            case "properties":
                var property = try reader.openObject()
                while property {
                    let name = try reader.key()
                    guard context.properties.count < 64 else { throw ValidationError("context.properties holds more than 64 members") }
                    context.properties[name] = try reader.string("properties.\(name)")
                    property = try reader.nextMember()
                }
            default: throw ValidationError("context member '\(key.prefix(60))' is not a context field (userId, sessionId, remoteAddress, plan, tenant, environment, appVersion, currentTime, properties)")
            }
            more = try reader.nextMember()
        }
        try reader.end()
        return context
    }

    /// The percent-decoded bytes of query parameter `name` in `rawQuery` (`+` is a space), or nil;
    /// a malformed escape is a ``ValidationError``. The last occurrence wins.
    public static func queryValue(_ name: String, in rawQuery: String) throws -> [UInt8]? {
        var query = rawQuery, key = name
        return try query.withUTF8 { bytes in
            try key.withUTF8 { key in
                var found: Range<Int>?
                var start = 0
                while start <= bytes.count {
                    var end = start
                    while end < bytes.count, bytes[end] != UInt8(ascii: "&") { end += 1 }
                    if end - start > key.count, bytes[start + key.count] == UInt8(ascii: "="),
                       memcmp(key.baseAddress!, bytes.baseAddress! + start, key.count) == 0 {
                        found = (start + key.count + 1)..<end
                    }
                    start = end + 1
                }
                guard let found else { return nil }
                return try decode(UnsafeBufferPointer(rebasing: bytes[found]), name: name)
            }
        }
    }

    /// Percent-decodes a query value (`+` is a space) into exactly sized storage, in one pass.
    private static func decode(_ value: UnsafeBufferPointer<UInt8>, name: String) throws -> [UInt8] {
        var failed = false
        let decoded = [UInt8](unsafeUninitializedCapacity: value.count) { out, count in
            var index = 0, written = 0
            while index < value.count {
                let byte = value[index]
                if byte == UInt8(ascii: "%") {
                    guard index + 2 < value.count, let high = hex(value[index + 1]), let low = hex(value[index + 2]) else {
                        failed = true
                        break
                    }
                    out[written] = high << 4 | low
                    index += 3
                } else {
                    out[written] = byte == UInt8(ascii: "+") ? 0x20 : byte
                    index += 1
                }
                written += 1
            }
            count = written
        }
        if failed { throw ValidationError("query parameter '\(name)' has a malformed %-escape") }
        return decoded
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }

    /// `{"name":{"enabled":true,"variant":"v","payload":…},…}`, names in order.
    public static func encode(_ results: [(String, FlagResult)]) -> [UInt8] {
        // Sized for the usual answer up front (an array made from a literal would grow at once).
        var capacity = 2
        for (name, result) in results { capacity += name.utf8.count + 40 + (result.variant?.utf8.count ?? 0) + (result.payload == nil ? 0 : 64) }
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        out.append(UInt8(ascii: "{"))
        for (index, (name, result)) in results.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(&out, name)
            out.append(contentsOf: result.enabled ? #":{"enabled":true"#.utf8 : #":{"enabled":false"#.utf8)
            if let variant = result.variant {
                out.append(contentsOf: #","variant":"#.utf8)
                appendString(&out, variant)
            }
            if let payload = result.payload {
                out.append(contentsOf: #","payload":"#.utf8)
                out.append(contentsOf: payload.text.utf8)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func appendString(_ out: inout [UInt8], _ text: String) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A strict reader of the little JSON a context is.
    struct Reader {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D { index += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { throw ValidationError("the context is not a JSON object: expected \(what) at byte \(index)") }
            index += 1
        }

        /// Reads `{`; true when a member follows, false for `{}`.
        mutating func openObject() throws -> Bool {
            try expect(UInt8(ascii: "{"), "'{'")
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return false }
            return true
        }

        /// A member's name and the `:` after it.
        mutating func key() throws -> String {
            let key = try rawString()
            try expect(UInt8(ascii: ":"), "':'")
            return key
        }

        /// After a member's value: true at `,` (another member follows), false at the closing `}`.
        mutating func nextMember() throws -> Bool {
            skipSpace()
            guard index < bytes.count else { throw ValidationError("the context is not a JSON object: it ends early") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; return true }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return false }
            throw ValidationError("the context is not a JSON object: expected ',' or '}' at byte \(index)")
        }

        mutating func end() throws {
            skipSpace()
            guard index == bytes.count else { throw ValidationError("the context has text after its object (byte \(index))") }
        }

        /// Whether `null` is next (and steps over it).
        mutating func null() -> Bool {
            guard index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
                  bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l") else { return false }
            index += 4
            return true
        }

        /// The bytes in `range` as text, or nil when they are not UTF-8. Read through a buffer
        /// pointer: the stdlib's contiguous fast path (on an `ArraySlice` the validating
        /// initialiser runs its generic, byte-at-a-time path).
        static func text(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
            bytes.withUnsafeBufferPointer { buffer in
                let slice = UnsafeBufferPointer(rebasing: buffer[range])
                if slice.allSatisfy({ $0 < 0x80 }) { return String(decoding: slice, as: UTF8.self) }
                return String(validating: slice, as: UTF8.self)
            }
        }

        /// A string or null; `field` names it in the error (built only then).
        mutating func string(_ field: @autoclosure () -> String) throws -> String? {
            skipSpace()
            if null() { return nil }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw ValidationError("context field '\(field().prefix(60))' must be a string") }
            return try rawString()
        }

        mutating func number(_ field: String) throws -> Double? {
            skipSpace()
            if null() { return nil }
            let start = index
            while index < bytes.count, (bytes[index] >= 48 && bytes[index] <= 57) || bytes[index] == 45 || bytes[index] == 43 || bytes[index] == 46 || bytes[index] == 101 || bytes[index] == 69 {
                index += 1
            }
            guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)), value.isFinite else {
                throw ValidationError("context field '\(field)' must be a number")
            }
            return value
        }

        /// A JSON string (escapes decoded, at most 4096 bytes).
        mutating func rawString() throws -> String {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw ValidationError("the context is not a JSON object: expected a string at byte \(index)") }
            index += 1
            let start = index
            while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 { index += 1 }
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                guard index - start <= 4096 else { throw ValidationError("a context string is longer than 4096 bytes") }
                defer { index += 1 }
                guard let text = Self.text(bytes, start..<index) else { throw ValidationError("a context string is not UTF-8") }
                return text
            }
            // Escapes: let the JSON parser decode this one string.
            index = start - 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
            guard end < bytes.count, end - start <= 4096, case .string(let text)? = try? JSON.parse(Array(bytes[(start - 1)...end])) else {
                throw ValidationError("a context string is not valid JSON text")
            }
            index = end + 1
            return text
        }
    }
}
