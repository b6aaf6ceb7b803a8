import Foundation
import Logging
import PlexusPolicy

/// `[[rate_limits]]` shared by every instance of a cluster: one token bucket per policy and
/// client in Redis, taken from by one atomic Lua script per decision (Redis's own clock, so
/// instances' clocks do not matter), so a limit of N per window admits N across all instances.
///
/// It runs as soon as the head is parsed, after the instance's own rate-limit stage (which stays
/// in front: its per-instance buckets refuse first, without a round trip); the connection reads
/// nothing more until the decision, so a refusal comes before any of the body is read.
/// Local fallback, stated: while Redis is unreachable (or a decision has no reply within the
/// command timeout) the request is decided by the instance's own buckets alone, so the cluster
/// admits up to N per instance until Redis is back; the fallback is logged once per outage.
/// Loop thread only.
final class ClusterRateLimit {
    private let policies: [(settings: GatewaySettings.RateLimit, policy: RateLimitPolicy)]
    private let redis: RedisConnection
    private let keys: ClusterKeys
    private let logger: Logger
    private var fellBack = false
    /// Decisions made in Redis, and made locally because Redis was unreachable (for tests and metrics).
    private(set) var shared = 0, fallbacks = 0

    /// Takes a token; replies `{allowed, remaining, retry_ms, full_ms}`. ARGV: capacity, tokens per ms.
    static let script = """
    local capacity = tonumber(ARGV[1])
    local rate = tonumber(ARGV[2])
    local clock = redis.call('TIME')
    local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
    local state = redis.call('HMGET', KEYS[1], 't', 'v')
    local last = tonumber(state[1]) or now
    local tokens = tonumber(state[2]) or capacity
    if now > last then tokens = math.min(capacity, tokens + (now - last) * rate) end
    local allowed = 0
    if tokens >= 1 then
        tokens = tokens - 1
        allowed = 1
    end
    redis.call('HSET', KEYS[1], 't', now, 'v', tostring(tokens))
    local full = math.ceil((capacity - tokens) / rate)
    redis.call('PEXPIRE', KEYS[1], full + 1000)
    local retry = 0
    if allowed == 0 then retry = math.ceil((1 - tokens) / rate) end
    return {allowed, math.floor(tokens), retry, full}
    """

    init?(policies: [GatewaySettings.RateLimit], redis: RedisConnection, keys: ClusterKeys, logger: Logger) {
        let built = policies.compactMap { settings in
            (try? RateLimitPolicy(name: settings.name, requests: Int(settings.requests), perSeconds: max(1, Int(settings.windowSeconds)),
                                  burst: Int(settings.burst))).map { (settings, $0) }
        }
        guard !built.isEmpty else { return nil }
        self.policies = built
        self.redis = redis
        self.keys = keys
        self.logger = logger
    }

    /// Decides `request`: `done(nil)` lets it go on, a refusal is the answer. Always calls `done` once.
    func screen(_ request: RequestContext, done: @escaping (GatewayRefusal?) -> Void) {
        let applicable = policies.filter { applies($0.settings, to: request.route) }
        guard !applicable.isEmpty else { return done(nil) }
        var decisions: [RateLimitDecision?] = Array(repeating: nil, count: applicable.count)
        var waiting = applicable.count
        var unreachable = false
        for (index, entry) in applicable.enumerated() {
            let client = entry.settings.byIP ? "ip:" + request.peer.ip : (request.caller?.clientKey ?? "ip:" + request.peer.ip)
            let bucket = keys.prefix + "ratelimit:" + entry.policy.name + ":" + client
            let perMillisecond = entry.policy.refillPerSecond / 1000
            redis.send("EVAL", Self.script, "1", bucket, "\(entry.policy.burst)", "\(perMillisecond)") { [self] result in
                switch result {
                case .success(let reply):
                    if let values = reply.array?.compactMap(\.integer), values.count == 4 {
                        decisions[index] = RateLimitDecision(allowed: values[0] == 1, policy: entry.policy, remaining: Int(values[1]),
                                                             resetSeconds: Int((values[values[0] == 1 ? 3 : 2] + 999) / 1000),
                                                             retryAfterSeconds: values[0] == 1 ? 0 : max(1, Int((values[2] + 999) / 1000)))
                    } else {
                        logger.error("shared rate limit: unexpected reply", metadata: ["reply": "\(reply)"])
                        unreachable = true
                    }
                case .failure:
                    unreachable = true
                }
                waiting -= 1
                guard waiting == 0 else { return }
                finish(applicable: applicable, decisions: decisions, unreachable: unreachable, request: request, done: done)
            }
        }
    }

    private func finish(applicable: [(settings: GatewaySettings.RateLimit, policy: RateLimitPolicy)], decisions: [RateLimitDecision?],
                        unreachable: Bool, request: RequestContext, done: (GatewayRefusal?) -> Void) {
        if unreachable {
            fallbacks += 1
            if !fellBack {
                fellBack = true
                logger.warning("shared rate limits: Redis unreachable, each instance applies its own buckets until it is back")
            }
            return done(nil)
        }
        if fellBack {
            fellBack = false
            logger.notice("shared rate limits: decided in Redis again")
        }
        shared += 1
        for (index, decision) in decisions.enumerated() {
            guard let decision, !decision.allowed else { continue }
            let settings = applicable[index].settings
            return done(GatewayRefusal(status: 429, detail: "rate limit '\(settings.name)' exceeded across the cluster: \(Int(settings.requests)) requests per \(Int(settings.windowSeconds)) s; retry in \(decision.retryAfterSeconds) s",
                                       headers: decision.headerFields().map { ($0.name, $0.value) }))
        }
        done(nil)
    }

    /// The same scopes as the instance's ``RateLimitStage``.
    private func applies(_ policy: GatewaySettings.RateLimit, to route: RegisteredRoute?) -> Bool {
        switch policy.scope {
        case .all: return true
        case .plugin(let name): return route?.plugin.name == name
        case let .route(method, pattern): return route.map { $0.method == method && $0.pattern.text == pattern } ?? false
        }
    }
}
