import Foundation
import PlexusEventLog

/// The bytes an event travels as between instances (a stream entry's `e` field, a pub/sub
/// message): a version byte, then each field as a 4-byte little-endian length and its bytes
/// (`0xFFFFFFFF` for an absent optional). Binary-safe: payloads are not re-encoded.
enum ClusterEnvelopeCodec {
    static let version: UInt8 = 1

    /// `event` as sent by instance `origin`.
    static func encode(_ event: EventEnvelope, origin: String) -> [UInt8] {
        var output: [UInt8] = [version]
        output.reserveCapacity(event.payload.count + event.topic.utf8.count + 160)
        func field<S: Collection>(_ bytes: S) where S.Element == UInt8 {
            let count = UInt32(bytes.count)
            withUnsafeBytes(of: count.littleEndian) { output.append(contentsOf: $0) }
            output.append(contentsOf: bytes)
        }
        func optional(_ text: String?) {
            guard let text else { return withUnsafeBytes(of: UInt32.max.littleEndian) { output.append(contentsOf: $0) } }
            field(text.utf8)
        }
        field(origin.utf8)
        field(event.id.description.utf8)
        field(event.topic.utf8)
        field(event.source.utf8)
        field(event.tenant.utf8)
        field(String(Int64((event.time.timeIntervalSince1970 * 1000).rounded())).utf8)
        field(String(event.priority).utf8)
        field(event.contentType.utf8)
        field(event.payload)
        optional(event.correlationID)
        optional(event.causationID)
        field(String(event.schemaVersion).utf8)
        return output
    }

    /// The event and its origin, or nil when `bytes` is not this format.
    static func decode<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> (origin: String, event: EventEnvelope)? where Bytes.Element == UInt8, Bytes.Index == Int {
        guard bytes.first == version else { return nil }
        var index = bytes.startIndex + 1
        func next() -> Bytes.SubSequence?? {
            guard bytes.endIndex - index >= 4 else { return nil }
            var length: UInt32 = 0
            for shift in 0..<4 { length |= UInt32(bytes[index + shift]) << (8 * UInt32(shift)) }
            index += 4
            if length == UInt32.max { return .some(nil) }
            guard bytes.endIndex - index >= Int(length) else { return nil }
            defer { index += Int(length) }
            return .some(bytes[index..<(index + Int(length))])
        }
        func text() -> String? {
            guard let field = next(), let bytes = field else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
        guard let origin = text(), let idText = text(), let id = ULID(idText), let topic = text(), let source = text(), let tenant = text(),
              let millis = text().flatMap({ Int64($0) }), let priority = text().flatMap({ Int($0) }), let contentType = text(),
              let payloadField = next(), let payload = payloadField, let correlation = next(), let causation = next(),
              let schema = text().flatMap({ Int($0) }) else { return nil }
        let event = EventEnvelope(id: id, topic: topic, source: source, tenant: tenant, time: Date(timeIntervalSince1970: Double(millis) / 1000),
                                  priority: priority, contentType: contentType, payload: Data(payload),
                                  correlationID: correlation.map { String(decoding: $0, as: UTF8.self) },
                                  causationID: causation.map { String(decoding: $0, as: UTF8.self) }, schemaVersion: schema)
        return (origin, event)
    }

    /// The event id of a stream entry: its milliseconds as the ULID's time, its sequence as the
    /// low bits, so ids sort in stream order and map back to the entry (`ms-seq`).
    static func id(streamID: String) -> ULID? {
        let parts = streamID.split(separator: "-")
        guard parts.count == 2, let millis = UInt64(parts[0]), let sequence = UInt64(parts[1]) else { return nil }
        return ULID(milliseconds: millis, randomHigh: 0, randomLow: sequence)
    }

    /// The stream entry id of an event id made by ``id(streamID:)``.
    static func streamID(_ id: ULID) -> String { "\(id.high >> 16)-\(id.low)" }
}
