import Foundation

/// One event on the bus, as stored in the log.
///
/// When appended, the log assigns ``id`` (a fresh ULID from its monotonic generator, so id
/// order is commit order) and returns the stored envelope's id in the ``AppendReceipt``;
/// whatever ``id`` the caller put in is replaced.
public struct EventEnvelope: Codable, Sendable, Hashable {
    /// The event's id, assigned by the log on append.
    public var id: ULID
    /// The hierarchical topic, such as `orders.eu.created` (no wildcards).
    public var topic: String
    /// The name of the plugin that published the event.
    public var source: String
    /// The tenant the event belongs to; empty when the deployment has no tenants.
    public var tenant: String
    /// When the event happened, according to its publisher.
    public var time: Date
    /// The publisher's priority; larger means more urgent. Stored, not used for ordering.
    public var priority: Int
    /// The MIME type of ``payload``, such as `application/json`.
    public var contentType: String
    /// The event body.
    public var payload: Data
    /// Groups the events of one conversation or workflow, if any.
    public var correlationID: String?
    /// The id of the event that caused this one, if any.
    public var causationID: String?
    /// The version of the payload schema.
    public var schemaVersion: Int

    /// Creates an envelope. `id` defaults to the zero ULID: the log assigns the real one.
    public init(
        id: ULID = ULID(high: 0, low: 0),
        topic: String,
        source: String,
        tenant: String = "",
        time: Date = Date(),
        priority: Int = 0,
        contentType: String = "application/octet-stream",
        payload: Data = Data(),
        correlationID: String? = nil,
        causationID: String? = nil,
        schemaVersion: Int = 1
    ) {
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

    /// The bytes this event counts for in size-based retention: payload plus text fields.
    var retainedSize: Int {
        payload.count + topic.utf8.count + source.utf8.count + tenant.utf8.count + contentType.utf8.count
            + (correlationID?.utf8.count ?? 0) + (causationID?.utf8.count ?? 0) + 64
    }
}

/// What an acknowledged append returns: the event's position in the log.
public struct AppendReceipt: Sendable, Hashable {
    /// The log's sequence number for the event: increasing in commit order, never reused.
    public let sequence: Int64
    /// The id the log assigned to the event.
    public let id: ULID
}
