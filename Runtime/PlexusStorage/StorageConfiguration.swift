import Foundation

/// How a `StorageEngine` opens and runs its database.
public struct StorageConfiguration: Sendable {
    /// How long a statement waits for another connection's lock before failing with `.busy`.
    public var busyTimeout: TimeInterval = 5
    /// Create the file if it does not exist; if false, a missing file is `.notFound`.
    public var createIfMissing: Bool = true
    /// How often expired key-value entries are purged (nil: only lazily and on `purgeExpired`).
    public var purgeInterval: TimeInterval? = 60
    /// How many prepared statements are kept for reuse (0 disables the cache).
    public var statementCacheSize: Int = 64
    /// Pages copied per step of an online backup; the database serves other jobs between steps.
    public var backupPagesPerStep: Int32 = 256
    /// The clock for key-value TTLs (injectable for tests).
    public var clock: @Sendable () -> Date = { Date() }
    /// PostgreSQL: how long a listening engine's lease on its plugin's change log lasts without
    /// renewal (s): four renewals. A lease that ran out is removed only once its engine's LISTEN
    /// session is gone too (see `PostgresChangeGate.swift`), so a live engine whose renewal is late
    /// keeps its log; a crashed one's ends after this.
    public var changeListenerLease: TimeInterval = 120
    /// PostgreSQL: the clock of the listener leases (seconds since 1970; injectable for tests).
    /// nil: the database server's clock, which every instance shares.
    public var changeListenerClock: (@Sendable () -> TimeInterval)?
    /// PostgreSQL: how often an engine renews its lease while listening, or otherwise looks for
    /// expired leases and stops the change log when none is live; and how long its LISTEN
    /// connection may stay silent before it is pinged (s; 0: never).
    public var changeListenerCheckInterval: TimeInterval = 30

    /// SQLite: an `async` call (a Swift task on the global executor) runs its operation on the
    /// caller's own thread, with no hop to the worker and back, when the worker is free and the
    /// engine's operations lately averaged at most this many seconds; nil: every operation hops
    /// to the worker. The bound is what such a caller may hold a thread of Swift's cooperative
    /// pool (a few threads, one per core) on average; see `StorageEngine`'s `async` API.
    public var callerRunLimit: TimeInterval? = 0.001

    /// The defaults: 5 s busy timeout, create if missing, purge every minute, 64 cached statements,
    /// async callers run operations averaging at most 1 ms on their own thread.
    public init() {}
}
