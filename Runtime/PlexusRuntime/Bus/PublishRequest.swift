import Foundation
import PlexusEventLog

/// The JSON body of `POST /api/v1/events`:
/// `{"topic", "payload" (any JSON) | "payload_text" | "payload_base64", "content_type", "tenant",
///   "priority", "durable", "correlation_id", "causation_id", "schema_version"}`.
struct PublishRequest {
    var envelope: EventEnvelope
    let durable: Bool

    init(_ body: RawBytes) throws {
        let data = Data(UnsafeRawBufferPointer(start: body.base, count: body.count))
        guard let object = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) as? [String: Any] else {
            throw EventStreamError("body must be a JSON object")
        }
        guard let topic = object["topic"] as? String else { throw EventStreamError("field 'topic' is required (a string such as 'ticket.created')") }
        do {
            _ = try Topic.validate(topic)
        } catch {
            throw EventStreamError("field 'topic': \(error)")
        }
        var payload = Data()
        var contentType = object["content_type"] as? String
        if let value = object["payload"] {
            payload = try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
            contentType = contentType ?? "application/json"
        } else if let text = object["payload_text"] as? String {
            payload = Data(text.utf8)
            contentType = contentType ?? "text/plain; charset=utf-8"
        } else if let encoded = object["payload_base64"] as? String {
            guard let decoded = Data(base64Encoded: encoded) else { throw EventStreamError("field 'payload_base64' is not valid base64") }
            payload = decoded
        }
        func string(_ key: String) throws -> String? {
            guard let value = object[key] else { return nil }
            guard let text = value as? String else { throw EventStreamError("field '\(key)' must be a string") }
            return text
        }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let value = object[key] else { return nil }
            guard let number = value as? Int, range.contains(number) else { throw EventStreamError("field '\(key)' must be an integer in \(range)") }
            return number
        }
        if let durable = object["durable"], !(durable is Bool) { throw EventStreamError("field 'durable' must be true or false") }
        durable = object["durable"] as? Bool ?? false
        envelope = EventEnvelope(topic: topic, source: "http", tenant: try string("tenant") ?? "", time: Date(),
                                 priority: try integer("priority", -1000...1000) ?? 0,
                                 contentType: contentType ?? "application/octet-stream", payload: payload,
                                 correlationID: try string("correlation_id"), causationID: try string("causation_id"),
                                 schemaVersion: try integer("schema_version", 1...1_000_000) ?? 1)
    }
}

/// The JSON form of an event, as the query and stream endpoints send it.
enum EventJSON {
    static func object(_ event: EventEnvelope) -> [String: Any] {
        var object: [String: Any] = [
            "id": event.id.description, "topic": event.topic, "source": event.source, "tenant": event.tenant,
            "time": ISO8601DateFormatter.withFractions.string(from: event.time), "priority": event.priority,
            "content_type": event.contentType, "schema_version": event.schemaVersion,
        ]
        if let correlation = event.correlationID { object["correlation_id"] = correlation }
        if let causation = event.causationID { object["causation_id"] = causation }
        if event.contentType.hasPrefix("application/json"),
           let value = try? JSONSerialization.jsonObject(with: event.payload, options: [.fragmentsAllowed]) {
            object["payload"] = value
        } else if event.contentType.hasPrefix("text/"), let text = String(data: event.payload, encoding: .utf8) {
            object["payload_text"] = text
        } else {
            object["payload_base64"] = event.payload.base64EncodedString()
        }
        return object
    }

    /// The same object as ``object(_:)``, written directly with its keys in sorted order: a
    /// JSON payload that is valid JSON is spliced in as it is, not parsed and written again.
    static func bytes(_ event: EventEnvelope) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(event.payload.count * 4 / 3 + 256)
        func key(_ name: StaticString) {
            output.append(output.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            output.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        if let causation = event.causationID { key("causation_id"); JSONText.appendString(causation, to: &output) }
        key("content_type"); JSONText.appendString(event.contentType, to: &output)
        if let correlation = event.correlationID { key("correlation_id"); JSONText.appendString(correlation, to: &output) }
        key("id"); JSONText.appendString(event.id.description, to: &output)
        let payloadIsJSON = event.contentType.hasPrefix("application/json")
            && event.payload.withUnsafeBytes { JSONValidator.isValid($0) }
        if payloadIsJSON {
            key("payload")
            event.payload.withUnsafeBytes { output.append(contentsOf: $0) }
        } else if event.contentType.hasPrefix("text/"), let text = String(data: event.payload, encoding: .utf8) {
            key("payload_text"); JSONText.appendString(text, to: &output)
        } else {
            key("payload_base64"); JSONText.appendString(event.payload.base64EncodedString(), to: &output)
        }
        key("priority"); JSONText.appendInteger(event.priority, to: &output)
        key("schema_version"); JSONText.appendInteger(event.schemaVersion, to: &output)
        key("source"); JSONText.appendString(event.source, to: &output)
        key("tenant"); JSONText.appendString(event.tenant, to: &output)
        key("time"); JSONText.appendTimestamp(event.time, to: &output)
        key("topic"); JSONText.appendString(event.topic, to: &output)
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// The answer to a publish, `{"durable","id","topic"}` (keys sorted), written directly: a
    /// publisher at a thousand events a second pays for it on every one.
    static func receipt(_ event: EventEnvelope, durable: Bool) -> [UInt8] {
        var output = Array(#"{"durable":"#.utf8)
        output.append(contentsOf: (durable ? "true" : "false").utf8)
        output.append(contentsOf: #","id":"#.utf8)
        JSONText.appendString(event.id.description, to: &output)
        output.append(contentsOf: #","topic":"#.utf8)
        JSONText.appendString(event.topic, to: &output)
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// `text` as a JSON string literal, quotes included.
    static func string(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        JSONText.appendString(text, to: &output)
        return output
    }
}

extension ISO8601DateFormatter {
    /// ISO 8601 with milliseconds.
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}

/// Decoded query parameters, repeated names kept in order.
struct QueryParameters {
    private let pairs: [(String, String)]

    init(_ raw: String) {
        pairs = raw.split(separator: "&").map { item in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    subscript(name: String) -> String? { pairs.last { $0.0 == name }?.1 }

    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }
}
