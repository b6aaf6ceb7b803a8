import COpenSSL
import Foundation

/// How each entity is replaced.
public enum RedactionMode: String, Codable, Sendable, CaseIterable {
    /// Every character becomes `*`, separators kept (`****@*******.***`).
    case mask
    /// The entity becomes its type in brackets (`[EMAIL]`).
    case type
    /// The entity becomes `TYPE_` + the first 16 hex digits of HMAC-SHA256(tenant key, value):
    /// the same value gives the same token within a tenant, and cannot be reversed without the key.
    case hash
}

/// One replacement made.
public struct Replacement: Codable, Sendable, Equatable {
    public var type: EntityType
    /// Span in the original text (code points).
    public var start: Int
    public var end: Int
    public var original: String
    public var replacement: String
}

/// Replaces entities in text.
public enum Redactor {
    /// `text` with `entities` (sorted, non-overlapping, code point offsets) replaced per `mode`.
    public static func redact(_ text: String, entities: [Entity], mode: RedactionMode, key: [UInt8]) -> (text: String, replacements: [Replacement]) {
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var replacements: [Replacement] = []
        var position = 0
        for entity in entities where entity.start >= position && entity.end <= scalars.count {
            out.append(contentsOf: scalars[position..<entity.start])
            var original = String.UnicodeScalarView()
            original.append(contentsOf: scalars[entity.start..<entity.end])
            let value = String(original)
            let replacement: String
            switch mode {
            case .mask:
                replacement = String(value.unicodeScalars.map { s -> Character in
                    s.properties.isAlphabetic || (s.value >= 0x30 && s.value <= 0x39) ? "*" : Character(s)
                })
            case .type:
                replacement = "[\(entity.type.rawValue)]"
            case .hash:
                replacement = entity.type.rawValue + "_" + hmacSHA256(key: key, message: Array(value.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
            }
            out.append(contentsOf: replacement.unicodeScalars)
            replacements.append(Replacement(type: entity.type, start: entity.start, end: entity.end, original: value, replacement: replacement))
            position = entity.end
        }
        out.append(contentsOf: scalars[position...])
        return (String(out), replacements)
    }

    /// HMAC-SHA256 of `message` under `key` (libcrypto's `EVP_Q_mac`).
    static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length = 0
        let ok = key.withUnsafeBufferPointer { k in
            message.withUnsafeBufferPointer { m in
                out.withUnsafeMutableBufferPointer { o in
                    EVP_Q_mac(nil, "HMAC", nil, "SHA256", nil, k.baseAddress, k.count, m.baseAddress, m.count, o.baseAddress, 32, &length)
                }
            }
        }
        precondition(ok != nil && length == 32, "libcrypto's HMAC-SHA256 failed")
        return out
    }
}
