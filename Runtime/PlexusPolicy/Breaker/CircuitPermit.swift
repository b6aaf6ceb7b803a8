/// Leave to make one call through a `CircuitBreaker`; hand it back exactly once with
/// `complete(_:success:now:)` (or `cancel(_:)` when the call never happened).
///
/// A permit remembers the breaker state it was issued in: completing it after the breaker has
/// changed state since is ignored, so late outcomes never corrupt the counts of a newer state.
public struct CircuitPermit: Sendable, Hashable {
    /// A number unique among the breaker's permits.
    public let id: UInt64
    /// The breaker's state generation when the permit was issued.
    let generation: UInt64
    /// Whether this call is a half-open probe.
    public let isProbe: Bool
}

/// A call refused by a `CircuitBreaker`: it is open, or half-open with all probes in flight.
public struct CircuitOpenError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The breaker's name.
    public let name: String
    /// The state that refused the call (`.open` or `.halfOpen`).
    public let state: CircuitState
    /// Seconds until a call may be let through: the rest of the open period, or when half-open
    /// with its probes busy, 1.
    public let retryAfterSeconds: Double

    /// Creates the error; the breaker builds these, the initializer is public for tests and adapters.
    public init(name: String, state: CircuitState, retryAfterSeconds: Double) {
        self.name = name
        self.state = state
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// `retryAfterSeconds` rounded up to whole seconds, at least 1: the `Retry-After` value.
    public var retryAfterHeaderSeconds: Int {
        max(1, Int(min(retryAfterSeconds, Double(Int32.max)).rounded(.up)))
    }

    /// `circuit "<name>" is <state>; retry in N s`.
    public var description: String {
        "circuit \"\(name)\" is \(state.rawValue); retry in \(retryAfterHeaderSeconds) s"
    }
}
