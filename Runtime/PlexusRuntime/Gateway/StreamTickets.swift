import Foundation

/// Short-lived, single-use tickets that let a browser open the live-event streams, whose
/// `EventSource` and `WebSocket` cannot send an `Authorization` header.
///
/// `POST /api/v1/events/tickets` (with credentials) issues a ticket for the caller; the ticket
/// is then passed as `?ticket=…` to `GET /api/v1/events/stream` or `GET /api/v1/events/ws`, and
/// only there. It authenticates one connection as that caller within ``lifetimeSeconds``; it is
/// forgotten when used or expired. Tickets live in memory only, never on disk; the access log and the audit log record the path, never the query, so the
/// ticket is not logged. Loop thread only.
final class StreamTickets {
    /// How long a ticket stays valid after it is issued.
    static let lifetimeSeconds = 30.0
    /// The most tickets outstanding at once (a caller issuing more is refused until some expire).
    static let maxOutstanding = 10_000
    /// The query parameter that carries a ticket.
    static let parameter = "ticket"
    /// The paths (GET only) on which a ticket authenticates.
    static let streamPaths: Set<String> = ["/api/v1/events/stream", "/api/v1/events/ws"]
    /// What every ticket starts with.
    static let prefix = "pxt_"

    private var tickets: [String: (caller: Caller, expiresAt: Double)] = [:]

    /// An empty store.
    init() {}

    /// The number of tickets issued and neither used nor expired (as of the last issue).
    var outstanding: Int { tickets.count }

    /// Issues a ticket for `caller`, or nil when ``maxOutstanding`` tickets are outstanding.
    func issue(for caller: Caller, now: Double) -> (ticket: String, expiresAt: Double)? {
        if tickets.count >= 64 { tickets = tickets.filter { $0.value.expiresAt > now } }
        guard tickets.count < Self.maxOutstanding else { return nil }
        var generator = SystemRandomNumberGenerator()
        let random = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let ticket = Self.prefix + Data(random).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let expiresAt = now + Self.lifetimeSeconds
        tickets[ticket] = (caller, expiresAt)
        return (ticket, expiresAt)
    }

    /// The ticket `request` presents, if it is a GET of a stream path with `?ticket=`.
    static func presented(in request: RequestContext) -> String? {
        // The query first: most requests have none, and the path lookup hashes a string.
        guard !request.query.isEmpty, request.method == "GET", request.query.contains(parameter), streamPaths.contains(request.path) else { return nil }
        return QueryParameters(request.query)[parameter]
    }

    /// Uses up `ticket`: the caller it was issued for, or why it cannot authenticate (unknown,
    /// already used, expired, or its credential expired or was revoked since).
    func redeem(_ ticket: String, now: Double, keyIsActive: (String) -> Bool) -> Result<Caller, Refusal> {
        guard let entry = tickets.removeValue(forKey: ticket) else {
            return .failure(Refusal("the stream ticket is unknown or was already used; get a new one from POST /api/v1/events/tickets"))
        }
        guard entry.expiresAt > now else {
            return .failure(Refusal("the stream ticket expired (tickets are valid for \(Int(Self.lifetimeSeconds)) s); get a new one from POST /api/v1/events/tickets"))
        }
        if let expiresAt = entry.caller.expiresAt, expiresAt <= now {
            return .failure(Refusal("the credentials the stream ticket was issued for have expired"))
        }
        if entry.caller.method == .apiKey, !keyIsActive(entry.caller.clientKey) {
            return .failure(Refusal("the API key the stream ticket was issued for was revoked"))
        }
        return .success(entry.caller)
    }

    /// Why a ticket did not authenticate.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
