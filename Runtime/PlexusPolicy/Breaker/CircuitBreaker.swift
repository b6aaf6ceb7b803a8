/// A circuit breaker: closed → open → half-open → closed (or open again).
///
/// - Closed: every call is permitted; outcomes go into a sliding window of `windowSeconds`. Once the
///   window holds at least `minimumRequests` outcomes and the failure ratio is at least
///   `failureRatio`, the breaker opens.
/// - Open: calls are refused with the time left, for `openSeconds`. The first `acquire` after that
///   moves to half-open (transitions are driven by calls; nothing runs in the background).
/// - Half-open: at most `halfOpenProbes` probe calls in flight at once; `successesToClose`
///   successful probes close the breaker (with an empty window); any failed probe reopens it.
///
/// Confined to one thread (the event loop): no locking, no allocation per call. Time is the
/// caller's monotonic clock in seconds. Every transition calls `onStateChange(from, to, reason)`
/// after the state has changed, so the caller can publish an event, log and set a gauge.
public final class CircuitBreaker {
    /// The breaker's name (e.g. the plugin or route it guards), carried in refusals.
    public let name: String
    /// The thresholds and timings.
    public let configuration: CircuitBreakerConfiguration
    /// The current state. Open turns half-open lazily, on the first `acquire` after `openSeconds`.
    public private(set) var state: CircuitState = .closed
    /// Called on every transition with the old state, the new one and why.
    public var onStateChange: ((_ from: CircuitState, _ to: CircuitState, _ reason: String) -> Void)?
    /// Calls refused so far.
    public private(set) var rejections = 0
    /// Completions ignored because their permit was issued in an earlier state.
    public private(set) var staleCompletions = 0

    private var window: OutcomeWindow
    private var generation: UInt64 = 0
    private var nextPermitID: UInt64 = 1
    private var openedAt = 0.0
    private var probeSuccesses = 0
    /// Ids of probes in flight (at most `halfOpenProbes`; capacity reserved once).
    private var probesInFlight: [UInt64] = []

    /// Creates a closed breaker.
    ///
    /// - Throws: `.invalidConfiguration` if a setting is out of range.
    public init(
        name: String, configuration: CircuitBreakerConfiguration = CircuitBreakerConfiguration(),
        onStateChange: ((_ from: CircuitState, _ to: CircuitState, _ reason: String) -> Void)? = nil
    ) throws(PolicyError) {
        try configuration.validate()
        self.name = name
        self.configuration = configuration
        self.onStateChange = onStateChange
        self.window = OutcomeWindow(windowSeconds: configuration.windowSeconds, bucketCount: configuration.bucketCount)
        probesInFlight.reserveCapacity(configuration.halfOpenProbes)
    }

    /// Asks to make one call at `now`.
    ///
    /// - Returns: the permit to hand back with `complete` (or `cancel`).
    /// - Throws: `CircuitOpenError` while open (with the time left) or half-open with every probe
    ///   slot taken.
    public func acquire(now: Double) throws(CircuitOpenError) -> CircuitPermit {
        if state == .open {
            let reopensAt = openedAt + configuration.openSeconds
            guard now >= reopensAt else {
                rejections += 1
                throw CircuitOpenError(name: name, state: .open, retryAfterSeconds: reopensAt - now)
            }
            transition(to: .halfOpen, now: now, reason: "open for \(Self.format(configuration.openSeconds)) s; probing")
        }
        let id = nextPermitID
        nextPermitID &+= 1
        guard state == .halfOpen else { return CircuitPermit(id: id, generation: generation, isProbe: false) }
        guard probesInFlight.count < configuration.halfOpenProbes else {
            rejections += 1
            throw CircuitOpenError(name: name, state: .halfOpen, retryAfterSeconds: 1)
        }
        probesInFlight.append(id)
        return CircuitPermit(id: id, generation: generation, isProbe: true)
    }

    /// Reports how the permitted call went. Ignored if the breaker changed state since the permit
    /// was issued, or if the probe was already completed.
    public func complete(_ permit: CircuitPermit, success: Bool, now: Double) {
        guard permit.generation == generation else {
            staleCompletions += 1
            return
        }
        switch state {
        case .closed:
            window.record(success: success, now: now)
            if !success { openIfFailing(now: now) }
        case .halfOpen:
            guard permit.isProbe, let slot = probesInFlight.firstIndex(of: permit.id) else { return }
            probesInFlight.remove(at: slot)
            if !success {
                transition(to: .open, now: now, reason: "probe failed")
            } else {
                probeSuccesses += 1
                if probeSuccesses >= configuration.successesToClose {
                    transition(to: .closed, now: now, reason: "\(probeSuccesses) probe(s) succeeded")
                }
            }
        case .open:
            break  // unreachable: opening changes the generation
        }
    }

    /// Gives a permit back without an outcome (the call was never made, or was cancelled by the
    /// client): frees a probe slot, counts nothing.
    public func cancel(_ permit: CircuitPermit) {
        guard permit.generation == generation, permit.isProbe,
            let slot = probesInFlight.firstIndex(of: permit.id)
        else { return }
        probesInFlight.remove(at: slot)
    }

    /// Outcomes in the sliding window at `now` (always empty unless closed).
    public func windowCounts(now: Double) -> (successes: Int, failures: Int) {
        window.totals(now: now)
    }

    /// Probe calls in flight (half-open only).
    public var probesInFlightCount: Int { probesInFlight.count }

    private func openIfFailing(now: Double) {
        let (successes, failures) = window.totals(now: now)
        let total = successes + failures
        guard total >= configuration.minimumRequests else { return }
        let ratio = Double(failures) / Double(total)
        guard ratio >= configuration.failureRatio else { return }
        transition(
            to: .open, now: now,
            reason: "\(failures) of \(total) calls failed in the last \(Self.format(configuration.windowSeconds)) s "
                + "(ratio \(Self.format(ratio)) ≥ \(Self.format(configuration.failureRatio)))")
    }

    private func transition(to next: CircuitState, now: Double, reason: String) {
        let previous = state
        state = next
        generation &+= 1
        probeSuccesses = 0
        probesInFlight.removeAll(keepingCapacity: true)
        window.reset()
        if next == .open { openedAt = now }
        onStateChange?(previous, next, reason)
    }

    /// A number rounded to two decimals, without a trailing `.0`.
    private static func format(_ value: Double) -> String {
        let text = String((value * 100).rounded() / 100)
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }
}
