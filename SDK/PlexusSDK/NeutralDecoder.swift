/// A decoder that answers every question with an empty value (`""`, `0`, `false`, no elements,
/// absent optionals), so the schema probe can step past a nested field and record the next one.
struct NeutralDecoder: Decoder {
    var codingPath: [CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(NeutralKeyed<Key>())
    }
    func unkeyedContainer() throws -> UnkeyedDecodingContainer { NeutralUnkeyed() }
    func singleValueContainer() throws -> SingleValueDecodingContainer { NeutralSingle() }
}

private struct NeutralKeyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    var codingPath: [CodingKey] { [] }
    var allKeys: [Key] { [] }
    func contains(_ key: Key) -> Bool { false }
    func decodeNil(forKey key: Key) throws -> Bool { true }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try T(from: NeutralDecoder()) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { nil }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(NeutralKeyed<NestedKey>())
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { NeutralUnkeyed() }
    func superDecoder() throws -> Decoder { NeutralDecoder() }
    func superDecoder(forKey key: Key) throws -> Decoder { NeutralDecoder() }
}

private struct NeutralUnkeyed: UnkeyedDecodingContainer {
    var codingPath: [CodingKey] { [] }
    var count: Int? { 0 }
    var isAtEnd: Bool { true }
    var currentIndex: Int { 0 }
    mutating func decodeNil() throws -> Bool { true }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { throw SchemaProbeEnd() }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> { throw SchemaProbeEnd() }
    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer { throw SchemaProbeEnd() }
    mutating func superDecoder() throws -> Decoder { throw SchemaProbeEnd() }
}

private struct NeutralSingle: SingleValueDecodingContainer {
    var codingPath: [CodingKey] { [] }
    func decodeNil() -> Bool { false }
    func decode(_ type: Bool.Type) throws -> Bool { false }
    func decode(_ type: String.Type) throws -> String { "" }
    func decode(_ type: Double.Type) throws -> Double { 0 }
    func decode(_ type: Float.Type) throws -> Float { 0 }
    func decode(_ type: Int.Type) throws -> Int { 0 }
    func decode(_ type: Int8.Type) throws -> Int8 { 0 }
    func decode(_ type: Int16.Type) throws -> Int16 { 0 }
    func decode(_ type: Int32.Type) throws -> Int32 { 0 }
    func decode(_ type: Int64.Type) throws -> Int64 { 0 }
    func decode(_ type: UInt.Type) throws -> UInt { 0 }
    func decode(_ type: UInt8.Type) throws -> UInt8 { 0 }
    func decode(_ type: UInt16.Type) throws -> UInt16 { 0 }
    func decode(_ type: UInt32.Type) throws -> UInt32 { 0 }
    func decode(_ type: UInt64.Type) throws -> UInt64 { 0 }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: NeutralDecoder()) }
}
