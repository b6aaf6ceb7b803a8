/// When a `CircuitBreaker` opens, how long it stays open, and how it probes for recovery.
public struct CircuitBreakerConfiguration: Sendable, Hashable {
    /// The sliding window's length in seconds.
    public var windowSeconds: Double
    /// How many buckets the window is divided into (outcomes age out one bucket at a time).
    public var bucketCount: Int
    /// Fewest calls in the window before the failure ratio is considered.
    public var minimumRequests: Int
    /// The failure ratio (0 < ratio ≤ 1) at or above which the breaker opens.
    public var failureRatio: Double
    /// Seconds the breaker stays open before letting probes through.
    public var openSeconds: Double
    /// Most probe calls in flight at once while half-open.
    public var halfOpenProbes: Int
    /// Successful probes needed to close; nil means `halfOpenProbes`.
    public var probeSuccessesToClose: Int?

    /// Creates a configuration; the defaults are a 10 s window of ten 1 s buckets, 20 calls at
    /// least, 50 % failures, 30 s open, one probe at a time, one success to close.
    public init(
        windowSeconds: Double = 10, bucketCount: Int = 10, minimumRequests: Int = 20, failureRatio: Double = 0.5,
        openSeconds: Double = 30, halfOpenProbes: Int = 1, probeSuccessesToClose: Int? = nil
    ) {
        self.windowSeconds = windowSeconds
        self.bucketCount = bucketCount
        self.minimumRequests = minimumRequests
        self.failureRatio = failureRatio
        self.openSeconds = openSeconds
        self.halfOpenProbes = halfOpenProbes
        self.probeSuccessesToClose = probeSuccessesToClose
    }

    /// Successful probes needed to close.
    public var successesToClose: Int { probeSuccessesToClose ?? halfOpenProbes }

    /// Throws `.invalidConfiguration` naming the first setting out of range.
    public func validate() throws(PolicyError) {
        func fail(_ message: String) -> PolicyError { PolicyError(.invalidConfiguration, "circuit breaker: \(message)") }
        guard windowSeconds > 0, windowSeconds.isFinite else { throw fail("windowSeconds (\(windowSeconds)) must be positive") }
        guard (1...3600).contains(bucketCount) else { throw fail("bucketCount (\(bucketCount)) must be 1...3600") }
        guard minimumRequests >= 1 else { throw fail("minimumRequests (\(minimumRequests)) must be at least 1") }
        guard failureRatio > 0, failureRatio <= 1 else { throw fail("failureRatio (\(failureRatio)) must be in (0, 1]") }
        guard openSeconds >= 0, openSeconds.isFinite else { throw fail("openSeconds (\(openSeconds)) must be ≥ 0") }
        guard halfOpenProbes >= 1 else { throw fail("halfOpenProbes (\(halfOpenProbes)) must be at least 1") }
        guard successesToClose >= 1 else { throw fail("probeSuccessesToClose (\(successesToClose)) must be at least 1") }
    }
}
