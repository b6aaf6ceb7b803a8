import Foundation

/// A JSON value: the state of a workflow instance, a step's input and reply, an event payload.
///
/// Numbers are kept as `Double`; an integral number is written back without a fraction.
public enum JSON: Sendable, Equatable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([String: JSON])

    /// Parses `bytes`; nil when they are not one JSON value.
    public static func parse(_ bytes: [UInt8]) -> JSON? {
        guard !bytes.isEmpty else { return nil }
        return try? JSONDecoder().decode(JSON.self, from: Data(bytes))
    }

    /// Parses `text` (see ``parse(_:)``).
    public static func parse(_ text: String) -> JSON? { parse(Array(text.utf8)) }

    /// The value as compact JSON text, object keys sorted.
    public var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    /// The value as compact JSON bytes.
    public var bytes: [UInt8] { Array(text.utf8) }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(value): out += value ? "true" : "false"
        case let .number(value):
            if value.isFinite, value == value.rounded(), abs(value) < 9.007e15 { out += String(Int64(value)) }
            else if value.isFinite { out += String(value) } else { out += "null" }
        case let .string(value): JSON.escape(value, into: &out)
        case let .array(items):
            out += "["
            for (index, item) in items.enumerated() { if index > 0 { out += "," }; item.write(into: &out) }
            out += "]"
        case let .object(fields):
            out += "{"
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                JSON.escape(key, into: &out)
                out += ":"
                fields[key]!.write(into: &out)
            }
            out += "}"
        }
    }

    private static func escape(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        out += "\""
    }

    // MARK: Accessors

    /// The string, if this is one.
    public var string: String? { if case let .string(value) = self { return value }; return nil }
    /// The number, if this is one.
    public var number: Double? { if case let .number(value) = self { return value }; return nil }
    /// The number as an integer, if this is an integral number.
    public var int: Int? { number.flatMap { $0 == $0.rounded() && abs($0) < 9e15 ? Int($0) : nil } }
    /// The boolean, if this is one.
    public var bool: Bool? { if case let .bool(value) = self { return value }; return nil }
    /// The fields, if this is an object.
    public var object: [String: JSON]? { if case let .object(value) = self { return value }; return nil }
    /// The items, if this is an array.
    public var array: [JSON]? { if case let .array(value) = self { return value }; return nil }
    /// The field `key` of an object, or nil.
    public subscript(key: String) -> JSON? { object?[key] }

    /// A name for the value's type, for error messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

extension JSON: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSON].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .number(value):
            if let int = self.int { try container.encode(int) } else { try container.encode(value) }
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }
}
