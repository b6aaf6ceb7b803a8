import PlexusPolicy

/// How often: takes a token from every `[[rate_limits]]` policy that applies to the request's
/// route; the first empty bucket refuses with 429. The tightest policy's state goes into the
/// answer's `RateLimit` headers. Built-in endpoints count against the `all` policies only.
final class RateLimitStage: RequestStage {
    let policies: [GatewaySettings.RateLimit]
    private var limiter: RateLimiter

    init(policies: [GatewaySettings.RateLimit]) throws {
        self.policies = policies
        do {
            limiter = try RateLimiter(policies: policies.map {
                try RateLimitPolicy(name: $0.name, requests: Int($0.requests), perSeconds: max(1, Int($0.windowSeconds)), burst: Int($0.burst))
            })
        } catch {
            throw RuntimeError.config("[rate_limits]: \(error)")
        }
    }

    func screen(_ request: RequestContext, now: Double) -> GatewayRefusal? {
        guard !policies.isEmpty else { return nil }
        let route = request.route
        var tightest: RateLimitDecision?
        for policy in policies where applies(policy, to: route) {
            let client = policy.byIP ? "ip:" + request.peer.ip : (request.caller?.clientKey ?? "ip:" + request.peer.ip)
            guard let decision = try? limiter.check(policy: policy.name, client: client, now: now) else { continue }
            if !decision.allowed {
                return GatewayRefusal(status: 429, detail: "rate limit '\(policy.name)' exceeded: \(Int(policy.requests)) requests per \(Int(policy.windowSeconds)) s; retry in \(decision.retryAfterSeconds) s",
                                      headers: decision.headerFields().map { ($0.name, $0.value) })
            }
            if tightest == nil || decision.remaining < tightest!.remaining { tightest = decision }
        }
        if let tightest {
            request.extraHeaders.append(("RateLimit-Policy", tightest.rateLimitPolicyValue))
            request.extraHeaders.append(("RateLimit", tightest.rateLimitValue))
        }
        return nil
    }

    /// Forgets idle buckets (run every few seconds).
    func sweep(now: Double) {
        _ = limiter.sweep(now: now)
    }

    private func applies(_ policy: GatewaySettings.RateLimit, to route: RegisteredRoute?) -> Bool {
        switch policy.scope {
        case .all: return true
        case .plugin(let name): return route?.plugin.name == name
        case let .route(method, pattern): return route.map { $0.method == method && $0.pattern.text == pattern } ?? false
        }
    }
}
