import Logging
import PlexusPolicy

/// What happens when a plugin is slow or failing: each plugin's bulkhead bounds its requests in
/// flight, each route's circuit breaker stops calling a route that keeps failing, and each
/// route's deadline turns a late answer into a 504. Runs once a request's body is complete,
/// just before the plugin is called, and again when the request ends.
///
/// Its per-route state lives here, in a table indexed by the immutable route id; routes are
/// never written to. Loop thread only.
final class ResilienceStage {
    /// A route's circuit breaker, its plugin's bulkhead and its timeout.
    final class RouteGuard {
        let breaker: CircuitBreaker
        let bulkhead: Bulkhead
        let timeoutMilliseconds: UInt64

        init(breaker: CircuitBreaker, bulkhead: Bulkhead, timeoutMilliseconds: UInt64) {
            (self.breaker, self.bulkhead, self.timeoutMilliseconds) = (breaker, bulkhead, timeoutMilliseconds)
        }
    }

    private let settings: GatewaySettings
    private let logger: Logger
    private var guards: [RouteGuard?] = []
    private var bulkheads: [String: Bulkhead] = [:]
    /// Requests waiting for a plugin's answer, by timeout, in deadline order.
    private var deadlines = DeadlineQueues()
    /// Called when a route's circuit changes state (log, metrics, event, audit).
    var circuitChanged: ((RegisteredRoute, CircuitState, CircuitState, String) -> Void)?

    init(settings: GatewaySettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Gives each of `routes` a circuit breaker, its plugin's bulkhead and its timeout (when
    /// the routes are mounted).
    func guardRoutes(_ routes: [RegisteredRoute]) {
        for route in routes where route.id >= guards.count || guards[route.id] == nil { guardRoute(route) }
    }

    /// The guard of `route`, if it has one.
    func guardOf(_ route: RegisteredRoute) -> RouteGuard? {
        route.id < guards.count ? guards[route.id] : nil
    }

    /// How long the runtime waits for `route`'s answer before a 504 (0: forever).
    func timeoutMilliseconds(of route: RegisteredRoute) -> UInt64 {
        guardOf(route)?.timeoutMilliseconds ?? 0
    }

    /// Takes a bulkhead slot and a breaker permit for `request` to `route`, and sets its
    /// deadline (`loopNow`: loop milliseconds), or refuses with 503.
    func enter(_ request: RequestContext, route: RegisteredRoute, now: Double, loopNow: UInt64) -> GatewayRefusal? {
        guard let state = guardOf(route) else { return nil }
        guard state.bulkhead.tryEnter() else {
            return GatewayRefusal(status: 503, detail: "plugin '\(route.plugin.name)' already has \(state.bulkhead.maxConcurrent) requests in flight (its bulkhead limit)",
                                  headers: [("Retry-After", "1")])
        }
        do {
            request.permit = try state.breaker.acquire(now: now)
            request.guarded = true
        } catch {
            state.bulkhead.leave()
            let seconds = error.retryAfterHeaderSeconds
            return GatewayRefusal(status: 503, detail: "the circuit of \(route.method) \(route.pattern) (plugin '\(route.plugin.name)') is open after repeated failures; retry in \(seconds) s",
                                  headers: [("Retry-After", "\(seconds)")])
        }
        if state.timeoutMilliseconds > 0 {
            request.deadline = loopNow + state.timeoutMilliseconds
            deadlines.add(token: request.token, deadline: request.deadline, timeout: state.timeoutMilliseconds)
        }
        return nil
    }

    /// Gives back what ``enter(_:route:now:loopNow:)`` took: a 5xx answer or a timeout counts as
    /// a failure; a client that left counts as a success (it says nothing about the plugin).
    ///
    /// With `keepingSlot`, the breaker permit is settled but the bulkhead slot is not given back:
    /// the bulkhead is returned, for the caller to `leave()` once the plugin's work really ends
    /// (an abandoned request whose plugin is told, ABI 1.6).
    @discardableResult
    func leave(_ request: RequestContext, success: Bool, now: Double, keepingSlot: Bool = false) -> Bulkhead? {
        guard request.guarded, let route = request.route, let state = guardOf(route) else { return nil }
        request.guarded = false
        if !keepingSlot { state.bulkhead.leave() }
        if let permit = request.permit { state.breaker.complete(permit, success: success, now: now) }
        request.permit = nil
        return keepingSlot ? state.bulkhead : nil
    }

    /// Calls `expired` with the token and deadline of every request whose deadline has passed
    /// (`loopNow`: loop milliseconds), oldest first. A request answered in time is the caller's
    /// to skip (its deadline no longer matches, or it is no longer waiting).
    func expireDeadlines(loopNow: UInt64, _ expired: (UInt64, UInt64) -> Void) {
        deadlines.expire(now: loopNow, expired)
    }

    private func guardRoute(_ route: RegisteredRoute) {
        let resilience = settings.resilience(for: route.plugin.name)
        do {
            let bulkhead = try bulkheads[route.plugin.name] ?? Bulkhead(maxConcurrent: max(1, resilience.maxConcurrent))
            bulkheads[route.plugin.name] = bulkhead
            let breaker = try CircuitBreaker(name: "\(route.plugin.name) \(route.method) \(route.pattern)", configuration: CircuitBreakerConfiguration(
                windowSeconds: Double(resilience.breakerWindowSeconds), bucketCount: min(10, max(1, resilience.breakerWindowSeconds)),
                minimumRequests: resilience.breakerMinimumRequests, failureRatio: resilience.breakerFailureRatio,
                openSeconds: resilience.breakerOpenSeconds, halfOpenProbes: resilience.breakerProbes))
            let timeout = route.policy.timeoutMilliseconds > 0 ? route.policy.timeoutMilliseconds : resilience.timeoutMilliseconds
            if route.id >= guards.count { guards.append(contentsOf: repeatElement(nil, count: route.id + 1 - guards.count)) }
            guards[route.id] = RouteGuard(breaker: breaker, bulkhead: bulkhead, timeoutMilliseconds: timeout)
            breaker.onStateChange = { [unowned self, unowned route] from, to, reason in
                circuitChanged?(route, from, to, reason)
            }
        } catch {
            logger.error("route runs without a circuit breaker or bulkhead", metadata: ["route": "\(route.method) \(route.pattern)", "error": "\(error)"])
        }
    }
}
