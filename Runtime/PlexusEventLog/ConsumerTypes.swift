import Foundation

/// Where a consumer group starts, or where a replay query starts.
public enum StartPosition: Sendable, Hashable {
    /// From the oldest event still retained.
    case beginning
    /// After the newest event at the time of the request: only later events.
    case end
    /// After the event with this id (exclusive), as a consumer resuming from its last event.
    case id(ULID)
    /// From the first event appended at or after this time (inclusive, millisecond precision).
    case time(Date)
}

/// One event handed to a consumer group by `fetch`.
public struct Delivery: Sendable, Hashable {
    /// The event.
    public let event: EventEnvelope
    /// Which delivery of this event to this group this is (1 for the first).
    public let attempt: Int
    /// When the event stops being in flight: not acked or nacked by then, it counts as a
    /// failed attempt and is retried (or dead-lettered).
    public let deadline: Date
}

/// An event a consumer group gave up on after ``RetryPolicy/maxAttempts`` deliveries.
public struct DeadLetter: Sendable, Hashable {
    /// The consumer group.
    public let group: String
    /// The id of the dead event.
    public let eventID: ULID
    /// How many times it was delivered.
    public let attempts: Int
    /// The reason given with the last `nack` (or the visibility-timeout reason).
    public let lastReason: String
    /// When it was dead-lettered.
    public let time: Date
}

/// Counters of an ``EventLog``, for tests and metrics.
public struct EventLogStatistics: Sendable, Hashable {
    /// Transactions the writer committed.
    public var transactions: Int = 0
    /// Events appended and committed (including dead-letter envelopes).
    public var appendedEvents: Int = 0
    /// The largest number of requests committed in one transaction.
    public var largestBatch: Int = 0
    /// Events deleted by retention.
    public var deletedByRetention: Int = 0
}
