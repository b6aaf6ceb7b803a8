/// The state of a `CircuitBreaker`.
public enum CircuitState: String, Sendable, Hashable, CaseIterable {
    /// Calls flow; outcomes are counted in the sliding window.
    case closed
    /// Calls are refused until the open period has passed.
    case open
    /// A limited number of probe calls test whether the dependency has recovered.
    case halfOpen = "half_open"
}
