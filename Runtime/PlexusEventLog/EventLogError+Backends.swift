import Foundation

/// Errors with details for durable stores other than the SQLite log (the Redis one of cluster mode).
extension EventLogError {
    /// The backend could not be reached or failed (kind ``database``).
    public static func backend(_ detail: String, at location: String) -> EventLogError { .database(detail, at: location) }
    /// See ``invalidArgument``.
    public static func badArgument(_ detail: String, at location: String) -> EventLogError { .invalidArgument(detail, at: location) }
    /// See ``groupExists``.
    public static func groupPatternDiffers(_ detail: String, at location: String) -> EventLogError { .groupExists(detail, at: location) }
    /// See ``notInFlight``.
    public static func notPending(_ detail: String, at location: String) -> EventLogError { .notInFlight(detail, at: location) }
    /// See ``deadLetterNotFound``.
    public static func noDeadLetter(_ detail: String, at location: String) -> EventLogError { .deadLetterNotFound(detail, at: location) }
}

/// Values other durable stores hand back through the same API.
extension AppendReceipt {
    /// A receipt for an event stored elsewhere under `id`, at position `sequence`.
    public init(storedAs id: ULID, sequence: Int64) { self.init(sequence: sequence, id: id) }
}

extension Delivery {
    /// A delivery made by another store.
    public init(of event: EventEnvelope, attempt: Int, deadline: Date) { self.init(event: event, attempt: attempt, deadline: deadline) }
}

extension DeadLetter {
    /// A dead letter kept by another store.
    public init(group: String, eventID: ULID, attempts: Int, reason: String, time: Date) {
        self.init(group: group, eventID: eventID, attempts: attempts, lastReason: reason, time: time)
    }
}
