/// A token bucket: holds at most `capacity` tokens and gains `refillPerSecond` tokens per second.
///
/// Refill is lazy: every call that passes `now` first credits the tokens earned since the last
/// call. Time is the caller's monotonic clock in seconds (any origin); a `now` earlier than the
/// last one is treated as no time passing. A value type with no allocation: keep it inline.
public struct TokenBucket: Sendable, Hashable {
    /// Token amounts closer than this to a whole count are treated as that count, so that
    /// floating-point rounding of `elapsed × rate` never refuses a token that is due.
    static let tolerance = 1e-9

    /// The most tokens the bucket holds (the burst).
    public let capacity: Double
    /// Tokens added per second.
    public let refillPerSecond: Double
    /// Tokens available as of `updatedAt`.
    public private(set) var tokens: Double
    /// The `now` of the last refill.
    public private(set) var updatedAt: Double

    /// A full bucket as of `now`. `capacity` and `refillPerSecond` are expected to be positive
    /// (`RateLimitPolicy` validates them); negative values are clamped to zero.
    public init(capacity: Double, refillPerSecond: Double, now: Double) {
        self.capacity = max(0, capacity)
        self.refillPerSecond = max(0, refillPerSecond)
        self.tokens = self.capacity
        self.updatedAt = now
    }

    /// Credits the tokens earned between the last refill and `now` (never above `capacity`).
    public mutating func refill(now: Double) {
        guard now > updatedAt else { return }
        tokens = min(capacity, tokens + (now - updatedAt) * refillPerSecond)
        updatedAt = now
    }

    /// Refills, then takes `count` tokens if that many are available; returns whether it did.
    public mutating func take(_ count: Double = 1, now: Double) -> Bool {
        refill(now: now)
        guard tokens + Self.tolerance >= count else { return false }
        tokens = max(0, tokens - count)
        return true
    }

    /// Whole tokens available as of the last refill.
    public var wholeTokens: Int { Int((tokens + Self.tolerance).rounded(.down)) }

    /// Seconds from the last refill until `count` tokens are available (0 if they already are;
    /// infinity if the bucket never refills or can never hold that many).
    public func secondsUntilAvailable(_ count: Double = 1) -> Double {
        let missing = count - tokens
        if missing <= Self.tolerance { return 0 }
        if count > capacity + Self.tolerance || refillPerSecond <= 0 { return .infinity }
        return missing / refillPerSecond
    }

    /// Seconds from the last refill until the bucket is full again (0 if it is).
    public var secondsUntilFull: Double { secondsUntilAvailable(capacity) }

    /// Whether the bucket would be full at `now` (without mutating it).
    public func isFull(now: Double) -> Bool {
        let elapsed = max(0, now - updatedAt)
        return tokens + elapsed * refillPerSecond + Self.tolerance >= capacity
    }
}
