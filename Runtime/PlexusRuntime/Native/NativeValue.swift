import Foundation

/// A value of a request (JSON, a query parameter or a manifest default) before it is checked
/// against a parameter's C type. Integers keep their full 64-bit range.
enum NativeValue: Sendable, Decodable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case double(Double)
    case string(String)
    case object([String: NativeValue])
    case array([NativeValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let flag = try? container.decode(Bool.self) { self = .bool(flag); return }
        if let number = try? container.decode(Int64.self) { self = .integer(number); return }
        if let number = try? container.decode(UInt64.self) { self = .unsigned(number); return }
        if let number = try? container.decode(Double.self) { self = .double(number); return }
        if let text = try? container.decode(String.self) { self = .string(text); return }
        if let object = try? container.decode([String: NativeValue].self) { self = .object(object); return }
        self = .array(try container.decode([NativeValue].self))
    }

    /// A query-string value: an integer, a number, true/false, or else text.
    init(queryText text: String) {
        if let number = Int64(text) { self = .integer(number) }
        else if let number = UInt64(text) { self = .unsigned(number) }
        else if let number = Double(text) { self = .double(number) }
        else if text == "true" || text == "false" { self = .bool(text == "true") }
        else { self = .string(text) }
    }

    /// How a message names the kind of value the client sent.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .unsigned: "an integer"
        case .double: "a number"
        case .string: "a string"
        case .object: "an object"
        case .array: "an array"
        }
    }
}

/// Writes the small, flat JSON objects of native replies (keys in the order given).
struct NativeJSONWriter {
    private(set) var text = "{"
    private var first = true

    private mutating func key(_ name: String) {
        if !first { text += "," }
        first = false
        text += Self.quoted(name) + ":"
    }

    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    mutating func string(_ name: String, _ value: String) { raw(name, Self.quoted(value)) }

    /// A finished object.
    mutating func close() -> String { text + "}" }

    /// A JSON number for `value`, or the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers).
    static func number(_ value: Double) -> String {
        if value.isNaN { return "\"NaN\"" }
        if value.isInfinite { return value < 0 ? "\"-Infinity\"" : "\"Infinity\"" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
