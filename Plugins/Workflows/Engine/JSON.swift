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
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The value as compact JSON bytes.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(into: &out)
        return out
    }

    // Written as bytes: appending to a String piece by piece (and per scalar while escaping) was
    // half of the engine's CPU per step (callgrind, workflows-bench replay).
    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case let .number(value):
            if value.isFinite, value == value.rounded(), abs(value) < 9.007e15 { JSON.appendInteger(Int64(value), to: &out) }
            else if value.isFinite { out.append(contentsOf: String(value).utf8) } else { out.append(contentsOf: "null".utf8) }
        case let .string(value): JSON.escape(value, into: &out)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(fields):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSON.escape(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends the decimal digits of `value` (no String in between: timestamps and attempts are in every entry).
    static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = out.count
        repeat {
            out.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        out[start...].reverse()
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `text` quoted; runs of bytes that need no escape are copied at once (UTF-8 bytes of
    /// non-ASCII characters are all >= 0x80, so they never need one).
    static func escape(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                runStart = index + 1
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
                case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
                case UInt8(ascii: "\n"): out.append(contentsOf: "\\n".utf8)
                case UInt8(ascii: "\r"): out.append(contentsOf: "\\r".utf8)
                case UInt8(ascii: "\t"): out.append(contentsOf: "\\t".utf8)
                default: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        out.append(UInt8(ascii: "\""))
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
