import Foundation

/// How a failed attempt is retried: at most `maxAttempts` attempts in all, the n-th retry after
/// `backoff * multiplier^(n-1)` milliseconds (at most `maxBackoff`), shortened by up to
/// `jitter` of itself, for the error kinds in `retryOn`.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all (1: no retry).
    public var maxAttempts: Int
    /// The first retry's delay, in milliseconds.
    public var backoffMilliseconds: Int
    /// The growth of the delay per retry.
    public var multiplier: Double
    /// The longest delay, in milliseconds.
    public var maxBackoffMilliseconds: Int
    /// The share of a delay drawn off at random (0 to 1): "full jitter" at 1.
    public var jitter: Double
    /// Which failures are retried.
    public var retryOn: Set<FailureKind>

    /// A policy; the default makes one attempt.
    public init(maxAttempts: Int = 1, backoffMilliseconds: Int = 100, multiplier: Double = 2, maxBackoffMilliseconds: Int = 30_000,
                jitter: Double = 0.2, retryOn: Set<FailureKind> = [.timeout, .failed]) {
        self.maxAttempts = maxAttempts
        self.backoffMilliseconds = backoffMilliseconds
        self.multiplier = multiplier
        self.maxBackoffMilliseconds = maxBackoffMilliseconds
        self.jitter = jitter
        self.retryOn = retryOn
    }

    /// Whether a failure of `kind` on attempt `attempt` is tried again.
    public func retries(_ kind: FailureKind, afterAttempt attempt: Int) -> Bool {
        kind != .missing && retryOn.contains(kind) && attempt < maxAttempts
    }

    /// The delay before attempt `attempt + 1`, with jitter drawn from `seed` (the same seed gives
    /// the same delay, so a replayed history schedules the retry it scheduled before).
    public func delay(afterAttempt attempt: Int, seed: String) -> Int {
        let base = Double(backoffMilliseconds) * pow(multiplier, Double(max(0, attempt - 1)))
        let capped = min(base, Double(maxBackoffMilliseconds))
        let fraction = Double(Self.hash(seed) % 10_000) / 10_000
        return max(0, Int(capped * (1 - jitter * fraction)))
    }

    /// FNV-1a, 64 bits.
    static func hash(_ text: String) -> UInt64 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { value = (value ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return value
    }
}

/// Why a step's attempt failed.
public enum FailureKind: String, Sendable, Codable, CaseIterable {
    /// The service did not answer in time.
    case timeout
    /// The service answered with an error.
    case failed
    /// The service answered something that is not JSON.
    case garbage
    /// No plugin offers the service.
    case missing
    /// A wait ran out, a child failed, or a `fail` step ran.
    case workflow
}
