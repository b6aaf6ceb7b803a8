import Foundation

/// The request path, as one ordered chain of stages between the connection and the responder:
///
/// 1. route: the router finds the request's route (404, 405 and CORS preflights end here);
/// 2. on the head, before any of the body is read: ``CORSStage``, ``AuthenticateStage``,
///    ``TenantStage``, ``AuthoriseStage``, ``RateLimitStage`` (a refusal is the answer, and the
///    body is never buffered);
/// 3. once the body is complete: ``ResilienceStage`` (bulkhead, breaker, deadline), then the
///    responder: ``BuiltinResponder`` or ``PluginResponder``;
/// 4. once the answer is written: ``ResilienceStage`` gives back what the request held (in the
///    responder) and ``AccessLogStage`` counts and logs it.
///
/// The chain is built once; a request passes it through direct calls, with no per-request
/// allocation of its own. Without a gateway (before it is attached) only stage 1 and the
/// responders run, and admin endpoints answer loopback clients only. Loop thread only.
final class RequestPipeline {
    let loop: EventLoop
    let limits: HTTPLimits
    /// Every route served, the plugins' and the built-ins'.
    let registry: RouteRegistry
    /// Encodes and hands answers to connections.
    let writer = ResponseWriter()
    let accessLog: AccessLogStage
    let plugins: PluginResponder
    private let builtins: BuiltinResponder
    private let metrics: RuntimeMetrics?
    /// The gateway (nil until it is attached).
    private(set) var gateway: Gateway?
    /// The gateway's stages, held `unowned(unsafe)`: the gateway owns them and outlives every
    /// request, and the request path then loads them with no reference counting.
    private struct Stages {
        unowned(unsafe) let cors: CORSStage
        unowned(unsafe) let authenticate: AuthenticateStage
        unowned(unsafe) let tenant: TenantStage
        unowned(unsafe) let authorise: AuthoriseStage
        unowned(unsafe) let rateLimit: RateLimitStage
        unowned(unsafe) let resilience: ResilienceStage
    }
    private var stages: Stages?
    private var router = RouteTrie<RouteTarget>([])
    /// Recent lookups of ``router`` that captured no parameter (a new one with each router).
    private var routeCache = RouteCache<RouteTarget>()
    /// `plexus_gateway_refusals_total` by status, looked up once.
    private var refusalCounters: [Int: RuntimeCounter] = [:]
    /// Cluster mode: rate limits shared through Redis, decided at the head, before the body is read (nil: none).
    var sharedRateLimit: ClusterRateLimit?

    init(loop: EventLoop, limits: HTTPLimits, registry: RouteRegistry, metrics: RuntimeMetrics?) {
        self.loop = loop
        self.limits = limits
        self.registry = registry
        self.metrics = metrics
        accessLog = AccessLogStage(metrics: metrics)
        plugins = PluginResponder(loop: loop, writer: writer)
        builtins = BuiltinResponder(writer: writer)
    }

    /// Puts the gateway's stages in the chain.
    func attach(_ gateway: Gateway) {
        self.gateway = gateway
        stages = Stages(cors: gateway.cors, authenticate: gateway.authenticate, tenant: gateway.tenant,
                        authorise: gateway.authorise, rateLimit: gateway.rateLimit, resilience: gateway.resilience)
        plugins.resilience = gateway.resilience
        plugins.credentials = CredentialForwarding(selectors: gateway.settings.auth.forwardCredentials)
    }

    /// Freezes the routes of running plugins, plus the built-ins, into the router.
    func mount() {
        let targets = registry.mount()
        gateway?.resilience.guardRoutes(registry.mountedRoutes)
        if let gateway {
            // A misspelt selector fails closed (nothing is forwarded); the operator is told.
            for selector in plugins.credentials.unmatched(by: registry.mountedRoutes) {
                gateway.logger.warning("auth.forward_credentials: '\(selector)' matches no mounted plugin route")
            }
        }
        router = RouteTrie(targets.map { ($0.method, $0.pattern, $0) })
        routeCache = RouteCache()
    }

    /// The route of `exchange`'s method and raw path: from ``routeCache`` when the same path was
    /// routed before without capturing a parameter, else from ``router`` (and kept when it captured none).
    private func route(_ exchange: HTTPExchange) -> RouteTrie<RouteTarget>.Match {
        if let target = routeCache.target(method: exchange.method, path: exchange.rawPath) {
            return .found(target, parameters: [])
        }
        let match = router.match(method: exchange.method, path: exchange.rawPath[...])
        if case let .found(target, parameters) = match, parameters.isEmpty {
            routeCache.keep(target, method: exchange.method, path: exchange.rawPath)
        }
        return match
    }

    // MARK: The chain

    /// A request whose head is complete: routes it, sets its body limit, and screens it.
    func headComplete(_ exchange: HTTPExchange) {
        exchange.bodyLimit = limits.maxBodyBytes
        let match = route(exchange)
        if let cors = stages?.cors, cors.isEnabled {
            if exchange.method == "OPTIONS", case .methodNotAllowed(let allowed) = match,
               let preflight = cors.preflight(exchange, allowedMethods: allowed) {
                exchange.bodyLimit = 0
                writer.send(exchange, status: preflight.status, headers: preflight.headers, body: [])
                return
            }
            _ = cors.screen(exchange, now: 0)
        }
        switch match {
        case let .found(target, parameters):
            exchange.target = target
            exchange.parameters = parameters
            if case .plugin(let route) = target, route.maxBodyBytes > 0 { exchange.bodyLimit = route.maxBodyBytes }
        case .methodNotAllowed(let allowed):
            exchange.bodyLimit = 0
            writer.problem(exchange, status: 405, detail: "\(exchange.method) is not allowed on \(exchange.path)", headers: [("Allow", allowed.joined(separator: ", "))])
            return
        case .notFound:
            exchange.bodyLimit = 0
            writer.problem(exchange, status: 404, detail: "no route for \(exchange.path)")
            return
        }
        if let refusal = screen(exchange) {
            exchange.bodyLimit = 0
            refuse(exchange, refusal)
        } else if let sharedRateLimit, stages != nil {
            screenShared(exchange, sharedRateLimit)
        }
    }

    /// The shared rate limit, decided in Redis while the connection holds the request after its
    /// head: a refusal is answered before any of the body is read (and the connection closes).
    private func screenShared(_ exchange: HTTPExchange, _ limit: ClusterRateLimit) {
        var returned = false
        var early: GatewayRefusal??
        // Held strongly: the decision may come after the connection closed (`exchange.connection`
        // is unowned); `releaseHead` then does nothing.
        let connection = exchange.connection
        limit.screen(exchange) { [unowned self] refusal in
            guard returned else { early = .some(refusal); return }
            // A connection closed meanwhile (its exchanges abandoned) is not touched.
            guard !exchange.abandoned else { return }
            let answer: (() -> Void)? = refusal.map { refusal in { [unowned self] in refuse(exchange, refusal) } }
            connection.releaseHead(exchange, refuse: answer)
        }
        returned = true
        switch early {
        case .none: exchange.connection.holdHead(exchange)
        case .some(let refusal?):
            // Not reached today (a synchronous answer only comes from a Redis failure: admitted);
            // kept so a decision that refuses at once is answered like one that refuses later.
            exchange.bodyLimit = 0
            refuse(exchange, refusal)
        case .some(nil): break
        }
    }

    /// The head stages, in order; the first refusal stops the chain.
    private func screen(_ request: RequestContext) -> GatewayRefusal? {
        guard let stages else {
            if request.builtin?.access == .admin && !request.peer.isLoopback {
                return .forbidden("this endpoint only answers loopback clients", scope: nil)
            }
            return nil
        }
        let now = WallClockSeconds.now()
        return stages.authenticate.screen(request, now: now)
            ?? stages.tenant.screen(request, now: now)
            ?? stages.authorise.screen(request, now: now)
            ?? stages.rateLimit.screen(request, now: now)
    }

    /// A request whose body is complete: the resilience stage, then the responder.
    func bodyComplete(_ exchange: HTTPExchange) {
        if exchange.response != nil {
            exchange.connection.flush()
            return
        }
        respond(exchange)
    }

    /// The resilience stage, then the responder.
    private func respond(_ exchange: HTTPExchange) {
        switch exchange.target {
        case .builtin(let builtin)?:
            builtins.call(exchange, builtin: builtin)
        case .plugin(let route)?:
            guard route.plugin.status.state == .running else {
                writer.problem(exchange, status: 503, detail: "plugin '\(route.plugin.name)' is \(route.plugin.status.state.rawValue)")
                return
            }
            if let resilience = stages?.resilience,
               let refusal = resilience.enter(exchange, route: route, now: WallClockSeconds.now(), loopNow: loop.now) {
                refuse(exchange, refusal)
                return
            }
            plugins.call(exchange, route: route)
        case nil:
            writer.problem(exchange, status: 404, detail: "no route for \(exchange.path)")
        }
    }

    /// A request whose answer was handed to the socket (`bytes` long), or whose stream began.
    func written(_ exchange: HTTPExchange, bytes: Int) {
        accessLog.record(exchange, bytes: bytes)
    }

    /// A request whose client left before its answer.
    func abandoned(_ exchange: HTTPExchange) {
        plugins.forget(exchange)
    }

    /// Answers with a stage's refusal (problem+json with its headers), counted by status.
    private func refuse(_ exchange: HTTPExchange, _ refusal: GatewayRefusal) {
        if let metrics {
            let counter = refusalCounters[refusal.status] ?? metrics.counter("plexus_gateway_refusals_total", [("status", "\(refusal.status)")],
                                                                              help: "Requests the gateway answered itself: 401, 403, 429, 503, 504")
            refusalCounters[refusal.status] = counter
            counter.increment()
        }
        writer.problem(exchange, status: refusal.status, detail: refusal.detail, headers: refusal.headers)
    }
}
