import CPlexusABI
import Foundation

/// An event delivered by the bus.
public struct Event: Sendable {
    /// Sortable unique id (ULID).
    public var id: String
    /// Hierarchical topic, e.g. `ticket.created`.
    public var topic: String
    /// The publishing plugin (`http` for clients).
    public var source: String
    /// The tenant, may be empty.
    public var tenant: String
    /// When it was published.
    public var time: Date
    /// Higher priorities are delivered first among queued events.
    public var priority: Int
    /// The payload's media type.
    public var contentType: String
    /// The payload.
    public var payload: [UInt8]
    /// Correlates events of one flow.
    public var correlationID: String?
    /// The id of the event that caused this one.
    public var causationID: String?
    /// Version of the payload's schema.
    public var schemaVersion: Int

    /// Decodes a JSON payload.
    public func decode<T: Decodable>(_ type: T.Type, using decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(payload))
    }

    /// Creates an event (for bus drivers and tests).
    public init(id: String, topic: String, source: String, tenant: String = "", time: Date = Date(), priority: Int = 0,
                contentType: String = "application/octet-stream", payload: [UInt8] = [], correlationID: String? = nil,
                causationID: String? = nil, schemaVersion: Int = 1) {
        self.id = id
        self.topic = topic
        self.source = source
        self.tenant = tenant
        self.time = time
        self.priority = priority
        self.contentType = contentType
        self.payload = payload
        self.correlationID = correlationID
        self.causationID = causationID
        self.schemaVersion = schemaVersion
    }

    init(_ raw: plexus_event) {
        id = raw.id.string
        topic = raw.topic.string
        source = raw.source.string
        tenant = raw.tenant.string
        time = Date(timeIntervalSince1970: Double(raw.time_ms) / 1000)
        priority = Int(raw.priority)
        contentType = raw.content_type.string
        payload = raw.payload.bytes
        correlationID = raw.correlation_id.length > 0 ? raw.correlation_id.string : nil
        causationID = raw.causation_id.length > 0 ? raw.causation_id.string : nil
        schemaVersion = Int(raw.schema_version)
    }
}

/// A topic a plugin declares it publishes, listed in the runtime's event catalogue.
public struct TopicDeclaration: Sendable {
    /// The topic (no wildcards).
    public var topic: String
    /// The payload schema version.
    public var schemaVersion: Int
    /// What the event means.
    public var description: String

    /// Creates a declaration.
    public init(_ topic: String, schemaVersion: Int = 1, description: String = "") {
        self.topic = topic
        self.schemaVersion = schemaVersion
        self.description = description
    }
}

/// What a full subscriber queue does with one more event.
public enum OverflowPolicy: Int32, Sendable {
    /// Drop the oldest queued event.
    case dropOldest = 0
    /// Drop the new event.
    case dropNewest = 1
}
