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
        try reader.object { key, reader in
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
                try reader.object { name, reader in
                    guard context.properties.count < 64 else { throw ValidationError("context.properties holds more than 64 members") }
                    context.properties[name] = try reader.string("properties.\(name)")
                }
            default: throw ValidationError("context member '\(key.prefix(60))' is not a context field (userId, sessionId, remoteAddress, plan, tenant, environment, appVersion, currentTime, properties)")
            }
        }
        try reader.end()
        return context
    }

    /// The percent-decoded bytes of query parameter `name` in `rawQuery` (`+` is a space), or nil;
    /// a malformed escape is a ``ValidationError``. The last occurrence wins.
    public static func queryValue(_ name: String, in rawQuery: String) throws -> [UInt8]? {
        var found: [UInt8]?
        var query = rawQuery
        try query.withUTF8 { bytes in
            let key = Array(name.utf8)
            var start = 0
            while start <= bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "&") { end += 1 }
                if end - start > key.count, bytes[start + key.count] == UInt8(ascii: "="),
                   key.withUnsafeBufferPointer({ memcmp($0.baseAddress!, bytes.baseAddress! + start, key.count) == 0 }) {
                    var value: [UInt8] = []
                    value.reserveCapacity(end - start - key.count - 1)
                    var index = start + key.count + 1
                    while index < end {
                        let byte = bytes[index]
                        if byte == UInt8(ascii: "%") {
                            guard index + 2 < end, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) else {
                                throw ValidationError("query parameter '\(name)' has a malformed %-escape")
                            }
                            value.append(high << 4 | low)
                            index += 3
                        } else {
                            value.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
                            index += 1
                        }
                    }
                    found = value
                }
                start = end + 1
            }
        }
        return found
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
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(48 * results.count + 2)
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

        mutating func object(_ member: (String, inout Reader) throws -> Void) throws {
            try expect(UInt8(ascii: "{"), "'{'")
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return }
            while true {
                let key = try rawString()
                try expect(UInt8(ascii: ":"), "':'")
                try member(key, &self)
                skipSpace()
                guard index < bytes.count else { throw ValidationError("the context is not a JSON object: it ends early") }
                if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                if bytes[index] == UInt8(ascii: "}") { index += 1; return }
                throw ValidationError("the context is not a JSON object: expected ',' or '}' at byte \(index)")
            }
        }

        mutating func end() throws {
            skipSpace()
            guard index == bytes.count else { throw ValidationError("the context has text after its object (byte \(index))") }
        }

        mutating func string(_ field: String) throws -> String? {
            skipSpace()
            if bytes[index...].starts(with: "null".utf8) { index += 4; return nil }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw ValidationError("context field '\(field.prefix(60))' must be a string") }
            return try rawString()
        }

        mutating func number(_ field: String) throws -> Double? {
            skipSpace()
            if bytes[index...].starts(with: "null".utf8) { index += 4; return nil }
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
                guard let text = String(validating: bytes[start..<index], as: UTF8.self) else { throw ValidationError("a context string is not UTF-8") }
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
