import Foundation

/// A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it) for a route's request or response body.
///
/// Write one by hand with ``init(json:)``, or derive one from a `Decodable` type with ``of(_:)``:
/// the SDK decodes the type once from a probing decoder and records each field's JSON type,
/// which fields are optional (`decodeIfPresent`, optionals) and the element types of arrays.
public struct JSONSchema: Sendable, Equatable {
    /// The schema as JSON text.
    public let json: String

    /// A schema given as JSON text (the runtime refuses the route if it is not a JSON object).
    public init(json: String) { self.json = json }

    /// The schema of `type` as its `Decodable` conformance reads it. Types the probe cannot see
    /// into (custom decoding that validates values) fall back to an unconstrained schema (`{}`).
    public static func of<T: Decodable>(_ type: T.Type) -> JSONSchema {
        let node = SchemaProbe.describe(type)
        return JSONSchema(json: node.render())
    }
}

/// The shape recorded by the probing decoder.
indirect enum SchemaNode {
    case string, integer, number, boolean, any
    case array(SchemaNode)
    case object(properties: [(String, SchemaNode)], required: [String])
    case dictionary(SchemaNode)

    func render() -> String {
        switch self {
        case .string: return #"{"type":"string"}"#
        case .integer: return #"{"type":"integer"}"#
        case .number: return #"{"type":"number"}"#
        case .boolean: return #"{"type":"boolean"}"#
        case .any: return "{}"
        case .array(let element): return #"{"type":"array","items":"# + element.render() + "}"
        case .dictionary(let value): return #"{"type":"object","additionalProperties":"# + value.render() + "}"
        case let .object(properties, required):
            let fields = properties.map { "\(Self.quote($0.0)):\($0.1.render())" }.joined(separator: ",")
            var text = #"{"type":"object","properties":{"# + fields + "}"
            if !required.isEmpty { text += #","required":["# + required.map(Self.quote).joined(separator: ",") + "]" }
            return text + "}"
        }
    }

    static func quote(_ text: String) -> String {
        let data = try! JSONEncoder().encode(text)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Decodes a type from nothing, recording what it asks for.
enum SchemaProbe {
    static let maxDepth = 8

    static func describe<T: Decodable>(_ type: T.Type) -> SchemaNode {
        if let primitive = primitive(type) { return primitive }
        let recorder = SchemaRecorder(depth: 0)
        _ = try? T(from: recorder)
        return recorder.node ?? .any
    }

    static func describe(_ type: Decodable.Type, depth: Int) -> SchemaNode {
        if let primitive = primitive(type) { return primitive }
        guard depth < maxDepth else { return .any }
        let recorder = SchemaRecorder(depth: depth)
        _ = try? type.init(from: recorder)
        return recorder.node ?? .any
    }

    static func primitive(_ type: Any.Type) -> SchemaNode? {
        switch type {
        case is String.Type, is Character.Type, is URL.Type, is UUID.Type: return .string
        case is Bool.Type: return .boolean
        case is Int.Type, is Int8.Type, is Int16.Type, is Int32.Type, is Int64.Type,
             is UInt.Type, is UInt8.Type, is UInt16.Type, is UInt32.Type, is UInt64.Type: return .integer
        case is Double.Type, is Float.Type, is Decimal.Type, is Date.Type: return .number
        case is Data.Type, is [UInt8].Type: return .string
        default: return nil
        }
    }
}

/// The probing decoder: every container it hands out records into `node`.
final class SchemaRecorder: Decoder {
    let depth: Int
    var node: SchemaNode?
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(depth: Int) { self.depth = depth }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let keyed = KeyedRecorder<Key>(owner: self)
        node = .object(properties: [], required: [])
        return KeyedDecodingContainer(keyed)
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        node = .array(.any)
        return UnkeyedRecorder(owner: self)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        SingleRecorder(owner: self)
    }

    /// Records one property of an object.
    func add(_ name: String, _ value: SchemaNode, required: Bool) {
        guard case .object(var properties, var names) = node else { return }
        if !properties.contains(where: { $0.0 == name }) { properties.append((name, value)) }
        if required && !names.contains(name) { names.append(name) }
        node = .object(properties: properties, required: names)
    }
}

/// Stops decoding once a container has been recorded (the values it would return do not exist).
struct SchemaProbeEnd: Error {}

struct KeyedRecorder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let owner: SchemaRecorder
    var codingPath: [CodingKey] { owner.codingPath }
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }

    private func record<T>(_ key: Key, _ node: SchemaNode, required: Bool, _ value: T) -> T {
        owner.add(key.stringValue, node, required: required)
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool { false }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { record(key, .boolean, required: true, false) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { record(key, .string, required: true, "") }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { record(key, .number, required: true, 0) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { record(key, .number, required: true, 0) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { record(key, .integer, required: true, 0) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { record(key, .integer, required: true, 0) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { record(key, .integer, required: true, 0) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { record(key, .integer, required: true, 0) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { record(key, .integer, required: true, 0) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { record(key, .integer, required: true, 0) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { record(key, .integer, required: true, 0) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { record(key, .integer, required: true, 0) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { record(key, .integer, required: true, 0) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { record(key, .integer, required: true, 0) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { record(key, .boolean, required: false, nil) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { record(key, .string, required: false, nil) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { record(key, .number, required: false, nil) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { record(key, .number, required: false, nil) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { record(key, .integer, required: false, nil) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { record(key, .integer, required: false, nil) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { record(key, .integer, required: false, nil) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { record(key, .integer, required: false, nil) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { record(key, .integer, required: false, nil) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { record(key, .integer, required: false, nil) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { record(key, .integer, required: false, nil) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { record(key, .integer, required: false, nil) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { record(key, .integer, required: false, nil) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { record(key, .integer, required: false, nil) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        owner.add(key.stringValue, SchemaProbe.describe(type, depth: owner.depth + 1), required: true)
        return try placeholder(type)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        owner.add(key.stringValue, SchemaProbe.describe(type, depth: owner.depth + 1), required: false)
        return nil
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw SchemaProbeEnd()
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { throw SchemaProbeEnd() }
    func superDecoder() throws -> Decoder { throw SchemaProbeEnd() }
    func superDecoder(forKey key: Key) throws -> Decoder { throw SchemaProbeEnd() }

    /// A value of `type` to hand back so decoding goes on to the next field: decoded again from
    /// a decoder that answers every question with a neutral value.
    private func placeholder<T: Decodable>(_ type: T.Type) throws -> T {
        if let value = try? T(from: NeutralDecoder()) { return value }
        throw SchemaProbeEnd()
    }
}

struct UnkeyedRecorder: UnkeyedDecodingContainer {
    let owner: SchemaRecorder
    var codingPath: [CodingKey] { owner.codingPath }
    /// One element, so the array's own decoding asks for it and its type is recorded.
    var count: Int? { 1 }
    var isAtEnd: Bool { false }
    var currentIndex: Int { 0 }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode(_ type: Bool.Type) throws -> Bool { owner.node = .array(.boolean); throw SchemaProbeEnd() }
    mutating func decode(_ type: String.Type) throws -> String { owner.node = .array(.string); throw SchemaProbeEnd() }
    mutating func decode(_ type: Double.Type) throws -> Double { owner.node = .array(.number); throw SchemaProbeEnd() }
    mutating func decode(_ type: Float.Type) throws -> Float { owner.node = .array(.number); throw SchemaProbeEnd() }
    mutating func decode(_ type: Int.Type) throws -> Int { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { owner.node = .array(.integer); throw SchemaProbeEnd() }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        owner.node = .array(SchemaProbe.describe(type, depth: owner.depth + 1))
        throw SchemaProbeEnd()
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> { throw SchemaProbeEnd() }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { throw SchemaProbeEnd() }
    mutating func superDecoder() throws -> Decoder { throw SchemaProbeEnd() }
}

struct SingleRecorder: SingleValueDecodingContainer {
    let owner: SchemaRecorder
    var codingPath: [CodingKey] { owner.codingPath }

    func decodeNil() -> Bool { false }
    func decode(_ type: Bool.Type) throws -> Bool { owner.node = .boolean; return false }
    func decode(_ type: String.Type) throws -> String { owner.node = .string; return "" }
    func decode(_ type: Double.Type) throws -> Double { owner.node = .number; return 0 }
    func decode(_ type: Float.Type) throws -> Float { owner.node = .number; return 0 }
    func decode(_ type: Int.Type) throws -> Int { owner.node = .integer; return 0 }
    func decode(_ type: Int8.Type) throws -> Int8 { owner.node = .integer; return 0 }
    func decode(_ type: Int16.Type) throws -> Int16 { owner.node = .integer; return 0 }
    func decode(_ type: Int32.Type) throws -> Int32 { owner.node = .integer; return 0 }
    func decode(_ type: Int64.Type) throws -> Int64 { owner.node = .integer; return 0 }
    func decode(_ type: UInt.Type) throws -> UInt { owner.node = .integer; return 0 }
    func decode(_ type: UInt8.Type) throws -> UInt8 { owner.node = .integer; return 0 }
    func decode(_ type: UInt16.Type) throws -> UInt16 { owner.node = .integer; return 0 }
    func decode(_ type: UInt32.Type) throws -> UInt32 { owner.node = .integer; return 0 }
    func decode(_ type: UInt64.Type) throws -> UInt64 { owner.node = .integer; return 0 }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        owner.node = SchemaProbe.describe(type, depth: owner.depth + 1)
        throw SchemaProbeEnd()
    }
}
