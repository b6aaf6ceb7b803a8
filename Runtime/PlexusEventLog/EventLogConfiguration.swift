import Foundation

/// How hard a commit is pushed to disk before appends are acknowledged.
///
/// The log always runs SQLite in WAL mode; an append is acknowledged only after the COMMIT of
/// its batch has returned.
public enum Durability: Sendable {
    /// `synchronous=FULL` (the default): the WAL is fsynced at every commit, so an acknowledged
    /// event survives a process crash *and* an OS crash or power loss.
    case full
    /// `synchronous=NORMAL`: the WAL is fsynced only at checkpoints, so an acknowledged event
    /// survives a process crash (SIGKILL) but the last commits may be lost on power loss.
    case normal
}

/// Retry timing for consumer groups: exponential backoff with jitter.
public struct RetryPolicy: Sendable {
    /// Deliveries of one event to one group before it is dead-lettered (at least 1).
    public var maxAttempts: Int
    /// The delay before the first retry.
    public var baseDelay: Duration
    /// The largest delay between retries.
    public var maxDelay: Duration
    /// The fraction (0…1) of each delay that is randomized: the delay after attempt `n` is
    /// `d = min(maxDelay, baseDelay · 2^(n-1))` reduced by a random amount up to `jitter · d`.
    public var jitter: Double

    /// Creates a policy; the defaults are 5 attempts, 1 s base, 5 min cap, 50 % jitter.
    public init(maxAttempts: Int = 5, baseDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(300), jitter: Double = 0.5) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = min(1, max(0, jitter))
    }

    /// The delay in milliseconds before retrying after `attempt` (1-based) failed deliveries.
    func delayMilliseconds(afterAttempt attempt: Int) -> Int64 {
        let base = Double(baseDelay.milliseconds)
        let cap = Double(maxDelay.milliseconds)
        let exponent = Double(min(max(attempt - 1, 0), 62))
        let delay = min(cap, base * pow(2, exponent))
        let reduced = delay - delay * jitter * Double.random(in: 0..<1)
        return Int64(reduced.rounded())
    }
}

/// When the writer deletes old events. All limits are optional; each one that is set applies.
///
/// Retention wins over consumers: an event that a consumer group has not yet received or
/// acknowledged is deleted anyway when it falls outside the limits, and the group skips it
/// (its pending delivery is dropped). Dead-letter records are kept, but redriving one whose
/// event was deleted fails with ``EventLogError/eventNotFound``.
public struct RetentionPolicy: Sendable {
    /// Delete events appended longer ago than this.
    public var maxAge: Duration?
    /// Keep at most this many events (the newest).
    public var maxCount: Int?
    /// Keep at most about this many bytes of events (payload plus text fields plus 64 bytes of
    /// overhead each), deleting the oldest first.
    public var maxBytes: Int?
    /// How often the writer applies the policy.
    public var interval: Duration

    /// Creates a policy; with no limits nothing is deleted.
    public init(maxAge: Duration? = nil, maxCount: Int? = nil, maxBytes: Int? = nil, interval: Duration = .seconds(60)) {
        self.maxAge = maxAge
        self.maxCount = maxCount
        self.maxBytes = maxBytes
        self.interval = interval
    }

    var isUnlimited: Bool { maxAge == nil && maxCount == nil && maxBytes == nil }
}

/// Settings of an ``EventLog``.
public struct EventLogConfiguration: Sendable {
    /// How commits reach the disk; see ``Durability``.
    public var durability: Durability
    /// The most requests the writer puts in one transaction (group commit bound).
    public var maxBatchSize: Int
    /// How long a fetched event stays in flight before it counts as a failed attempt.
    public var visibilityTimeout: Duration
    /// Retry and dead-letter behaviour of consumer groups.
    public var retry: RetryPolicy
    /// When old events are deleted.
    public var retention: RetentionPolicy
    /// Whether opening runs `PRAGMA quick_check` (reads the whole file) to detect truncation or
    /// corruption up front rather than at the first damaged page.
    public var verifyOnOpen: Bool
    /// The clock used for ids, deadlines, backoff and retention (tests inject a manual one).
    public var clock: @Sendable () -> Date

    /// Creates a configuration with the given settings.
    public init(
        durability: Durability = .full,
        maxBatchSize: Int = 1024,
        visibilityTimeout: Duration = .seconds(30),
        retry: RetryPolicy = RetryPolicy(),
        retention: RetentionPolicy = RetentionPolicy(),
        verifyOnOpen: Bool = true,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.durability = durability
        self.maxBatchSize = max(1, maxBatchSize)
        self.visibilityTimeout = visibilityTimeout
        self.retry = retry
        self.retention = retention
        self.verifyOnOpen = verifyOnOpen
        self.clock = clock
    }

    func nowMilliseconds() -> Int64 { Int64((clock().timeIntervalSince1970 * 1000).rounded(.down)) }
}

extension Duration {
    /// The duration in whole milliseconds.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
