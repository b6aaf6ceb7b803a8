import CPlexusABI
import Foundation
import PlexusEventLog

/// Lends a C view of an envelope to a handler call; every pointer is valid only during `body`.
enum EventView {
    static func with<R>(_ envelope: EventEnvelope, _ body: (UnsafePointer<plexus_event>) -> R) -> R {
        var id = envelope.id.description, topic = envelope.topic, source = envelope.source, tenant = envelope.tenant
        var contentType = envelope.contentType, correlation = envelope.correlationID ?? "", causation = envelope.causationID ?? ""
        return id.withUTF8 { id in topic.withUTF8 { topic in source.withUTF8 { source in tenant.withUTF8 { tenant in
            contentType.withUTF8 { contentType in correlation.withUTF8 { correlation in causation.withUTF8 { causation in
                envelope.payload.withUnsafeBytes { payload in
                    var event = plexus_event()
                    event.struct_size = UInt32(MemoryLayout<plexus_event>.size)
                    event.id = bytes(id)
                    event.topic = bytes(topic)
                    event.source = bytes(source)
                    event.tenant = bytes(tenant)
                    event.time_ms = Int64(envelope.time.timeIntervalSince1970 * 1000)
                    event.priority = Int32(clamping: envelope.priority)
                    event.content_type = bytes(contentType)
                    event.payload = plexus_bytes(data: payload.baseAddress?.assumingMemoryBound(to: CChar.self), length: payload.count)
                    event.correlation_id = bytes(correlation)
                    event.causation_id = bytes(causation)
                    event.schema_version = UInt32(clamping: envelope.schemaVersion)
                    return body(&event)
                }
            } } }
        } } } }
    }

    /// An envelope from a C event handed over by a publisher (`source` and `time` are the host's).
    static func envelope(from event: plexus_event, source: String) -> EventEnvelope {
        func text(_ bytes: plexus_bytes) -> String {
            guard let data = bytes.data, bytes.length > 0 else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: data, count: bytes.length), as: UTF8.self)
        }
        let payload = event.payload.data.map { Data(bytes: $0, count: event.payload.length) } ?? Data()
        let correlation = text(event.correlation_id), causation = text(event.causation_id), contentType = text(event.content_type)
        return EventEnvelope(topic: text(event.topic), source: source, tenant: text(event.tenant), time: Date(),
                             priority: Int(event.priority), contentType: contentType.isEmpty ? "application/octet-stream" : contentType,
                             payload: payload, correlationID: correlation.isEmpty ? nil : correlation,
                             causationID: causation.isEmpty ? nil : causation, schemaVersion: Int(max(event.schema_version, 1)))
    }

    private static func bytes(_ buffer: UnsafeBufferPointer<UInt8>) -> plexus_bytes {
        plexus_bytes(data: UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self), length: buffer.count)
    }
}
