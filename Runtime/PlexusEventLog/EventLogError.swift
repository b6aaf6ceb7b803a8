/// An error from the event log: what went wrong and where.
///
/// Two errors compare equal when they are of the same kind (``detail`` and ``location`` are
/// ignored), so callers can write `XCTAssertEqual(error, .groupNotFound)` or
/// `if error == .closed { … }`.
public struct EventLogError: Error, Sendable, Equatable, CustomStringConvertible {
    private enum Code: String, Sendable {
        case invalidTopic = "invalid topic"
        case invalidPattern = "invalid topic pattern"
        case invalidArgument = "invalid argument"
        case corrupt = "corrupt or truncated database"
        case database = "database error"
        case closed = "event log is closed"
        case groupNotFound = "consumer group not found"
        case groupExists = "consumer group exists with a different pattern"
        case notInFlight = "event is not in flight for this group"
        case deadLetterNotFound = "dead letter not found"
        case eventNotFound = "event not found"
    }

    private let code: Code
    /// What went wrong, in words (for example the SQLite message or the offending segment).
    public let detail: String
    /// Where it went wrong: the operation and, when known, the file or group involved.
    public let location: String

    private init(_ code: Code, _ detail: String = "", at location: String = "") {
        self.code = code
        self.detail = detail
        self.location = location
    }

    /// A human-readable description: kind, detail and location.
    public var description: String {
        var text = "EventLogError: \(code.rawValue)"
        if !detail.isEmpty { text += ": \(detail)" }
        if !location.isEmpty { text += " (at \(location))" }
        return text
    }

    /// Compares the kind of two errors only.
    public static func == (lhs: EventLogError, rhs: EventLogError) -> Bool { lhs.code == rhs.code }

    /// A topic is empty, has an empty segment or contains a wildcard character.
    public static var invalidTopic: EventLogError { .init(.invalidTopic) }
    /// A subscription pattern has an empty segment or misuses `+` or `#`.
    public static var invalidPattern: EventLogError { .init(.invalidPattern) }
    /// An argument is out of range (for example a negative limit or a bad group name).
    public static var invalidArgument: EventLogError { .init(.invalidArgument) }
    /// The database file is truncated, corrupt or not a database.
    public static var corrupt: EventLogError { .init(.corrupt) }
    /// SQLite reported an error other than corruption.
    public static var database: EventLogError { .init(.database) }
    /// The log was closed (or failed to open) before the request could run.
    public static var closed: EventLogError { .init(.closed) }
    /// The named consumer group does not exist.
    public static var groupNotFound: EventLogError { .init(.groupNotFound) }
    /// A consumer group of that name exists with a different pattern.
    public static var groupExists: EventLogError { .init(.groupExists) }
    /// `ack` or `nack` for an event the group does not currently have in flight.
    public static var notInFlight: EventLogError { .init(.notInFlight) }
    /// `redrive` for an event the group has no dead letter for.
    public static var deadLetterNotFound: EventLogError { .init(.deadLetterNotFound) }
    /// The event was never stored or has been removed by retention.
    public static var eventNotFound: EventLogError { .init(.eventNotFound) }

    static func invalidTopic(_ detail: String, at location: String) -> EventLogError { .init(.invalidTopic, detail, at: location) }
    static func invalidPattern(_ detail: String, at location: String) -> EventLogError { .init(.invalidPattern, detail, at: location) }
    static func invalidArgument(_ detail: String, at location: String) -> EventLogError { .init(.invalidArgument, detail, at: location) }
    static func corrupt(_ detail: String, at location: String) -> EventLogError { .init(.corrupt, detail, at: location) }
    static func database(_ detail: String, at location: String) -> EventLogError { .init(.database, detail, at: location) }
    static func closed(at location: String) -> EventLogError { .init(.closed, "", at: location) }
    static func groupNotFound(_ group: String, at location: String) -> EventLogError { .init(.groupNotFound, "group '\(group)'", at: location) }
    static func groupExists(_ detail: String, at location: String) -> EventLogError { .init(.groupExists, detail, at: location) }
    static func notInFlight(_ detail: String, at location: String) -> EventLogError { .init(.notInFlight, detail, at: location) }
    static func deadLetterNotFound(_ detail: String, at location: String) -> EventLogError { .init(.deadLetterNotFound, detail, at: location) }
    static func eventNotFound(_ detail: String, at location: String) -> EventLogError { .init(.eventNotFound, detail, at: location) }
}
