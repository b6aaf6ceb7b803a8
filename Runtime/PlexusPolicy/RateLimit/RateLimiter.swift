/// Rate limits per (policy, client), each a token bucket, with bounded memory.
///
/// Confined to one thread (the event loop): no locking, and a check of a client already tracked
/// allocates nothing. Time is the caller's monotonic clock in seconds, passed to every call.
///
/// Memory is bounded two ways: `sweep(now:)`, run periodically, forgets clients whose bucket is
/// full again (they would get the same full bucket back); and at most `maxClientsPerPolicy`
/// clients are tracked per policy, so a flood of new client keys evicts the least recently seen
/// client, whose bucket has had the longest time to refill. An evicted client starts again with a
/// full bucket; that leniency is the price of the bound, and it only arises once the cap is reached.
public final class RateLimiter {
    /// The policies, in the order given.
    public let policies: [RateLimitPolicy]
    /// The most clients tracked per policy.
    public let maxClientsPerPolicy: Int
    /// Clients forgotten because a policy's table was at its cap (not counting `sweep`).
    public private(set) var capEvictions = 0

    private let indexByName: [String: Int]
    private var tables: [ClientTable]

    /// Creates a limiter for `policies`.
    ///
    /// - Throws: `.invalidConfiguration` for two policies with the same name or a cap below 1.
    public init(policies: [RateLimitPolicy], maxClientsPerPolicy: Int = 100_000) throws(PolicyError) {
        guard maxClientsPerPolicy >= 1 else {
            throw PolicyError(.invalidConfiguration, "maxClientsPerPolicy (\(maxClientsPerPolicy)) must be at least 1")
        }
        var indexByName: [String: Int] = [:]
        for (position, policy) in policies.enumerated() {
            guard indexByName.updateValue(position, forKey: policy.name) == nil else {
                throw PolicyError(.invalidConfiguration, "rate limit policy \"\(policy.name)\" is defined twice")
            }
        }
        self.policies = policies
        self.maxClientsPerPolicy = maxClientsPerPolicy
        self.indexByName = indexByName
        self.tables = Array(repeating: ClientTable(), count: policies.count)
    }

    /// The policy with that name, if the limiter has one.
    public func policy(named name: String) -> RateLimitPolicy? {
        indexByName[name].map { policies[$0] }
    }

    /// Takes one token from `client`'s bucket under `policy`, if one is available at `now`.
    ///
    /// - Parameters:
    ///   - policy: the policy's name.
    ///   - client: whatever identifies the caller (API key id, JWT subject, `ip:1.2.3.4`); the caller decides.
    ///   - now: monotonic seconds.
    /// - Throws: `.unknownPolicy` if the limiter has no policy of that name.
    public func check(policy: String, client: String, now: Double) throws(PolicyError) -> RateLimitDecision {
        guard let position = indexByName[policy] else {
            throw PolicyError(.unknownPolicy, "no rate limit policy named \"\(policy)\"")
        }
        let rule = policies[position]
        let slot: Int32
        if let existing = tables[position].touch(client) {
            slot = existing
        } else {
            if tables[position].count >= maxClientsPerPolicy, tables[position].removeOldest() {
                capEvictions += 1
            }
            slot = tables[position].insert(client, bucket: rule.makeBucket(now: now))
        }
        var bucket = tables[position][slot]
        let allowed = bucket.take(now: now)
        tables[position][slot] = bucket
        return Self.decision(allowed: allowed, bucket: bucket, policy: rule)
    }

    /// Forgets every client whose bucket is full at `now`; returns how many. O(tracked clients):
    /// run it from a periodic timer (every few seconds), not per request.
    @discardableResult
    public func sweep(now: Double) -> Int {
        var removed = 0
        for position in tables.indices {
            removed += tables[position].removeAll { $0.isFull(now: now) }
        }
        return removed
    }

    /// Clients tracked under the named policy (0 for an unknown name).
    public func trackedClients(policy: String) -> Int {
        indexByName[policy].map { tables[$0].count } ?? 0
    }

    /// Clients tracked under all policies.
    public var trackedClients: Int { tables.reduce(0) { $0 + $1.count } }

    private static func decision(allowed: Bool, bucket: TokenBucket, policy: RateLimitPolicy) -> RateLimitDecision {
        let remaining = bucket.wholeTokens
        let untilNext = wholeSeconds(bucket.secondsUntilAvailable(1))
        let reset = remaining > 0 ? wholeSeconds(bucket.secondsUntilFull) : max(1, untilNext)
        return RateLimitDecision(
            allowed: allowed, policy: policy, remaining: remaining, resetSeconds: reset,
            retryAfterSeconds: allowed ? 0 : max(1, untilNext))
    }

    /// Seconds rounded up to a whole number (a tiny excess from rounding does not add a second).
    private static func wholeSeconds(_ seconds: Double) -> Int {
        guard seconds.isFinite else { return Int(Int32.max) }
        return max(0, Int((seconds - TokenBucket.tolerance).rounded(.up)))
    }
}
