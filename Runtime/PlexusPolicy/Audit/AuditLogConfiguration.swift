/// How an `AuditLog` buffers, batches, drops and retains.
public struct AuditLogConfiguration: Sendable, Hashable {
    /// Records kept for this many days; older ones are removed by `prune(now:)`.
    public var retentionDays: Double
    /// Unwritten records held in memory before droppable ones are discarded (oldest first).
    public var bufferCapacity: Int
    /// Most records written in one transaction.
    public var maxBatchSize: Int
    /// Actions that may be discarded when the buffer is over capacity. Everything else (admin
    /// actions above all) is always kept, even past the capacity.
    public var droppableActions: Set<AuditAction>
    /// Longer `detail` texts are cut to this many characters, so one record cannot be huge.
    public var maxDetailLength: Int

    /// Creates a configuration; defaults: 90 days, 10,000 buffered, batches of 1,000, only
    /// `auth.failure` droppable, details cut at 4,096 characters.
    public init(
        retentionDays: Double = 90, bufferCapacity: Int = 10_000, maxBatchSize: Int = 1_000,
        droppableActions: Set<AuditAction> = [.authFailure], maxDetailLength: Int = 4_096
    ) {
        self.retentionDays = retentionDays
        self.bufferCapacity = bufferCapacity
        self.maxBatchSize = maxBatchSize
        self.droppableActions = droppableActions
        self.maxDetailLength = maxDetailLength
    }

    /// Throws `.invalidConfiguration` naming the first setting out of range.
    public func validate() throws(PolicyError) {
        func fail(_ message: String) -> PolicyError { PolicyError(.invalidConfiguration, "audit log: \(message)") }
        guard retentionDays > 0 else { throw fail("retentionDays (\(retentionDays)) must be positive") }
        guard bufferCapacity >= 1 else { throw fail("bufferCapacity (\(bufferCapacity)) must be at least 1") }
        guard maxBatchSize >= 1 else { throw fail("maxBatchSize (\(maxBatchSize)) must be at least 1") }
        guard maxDetailLength >= 0 else { throw fail("maxDetailLength (\(maxDetailLength)) must be ≥ 0") }
    }
}

/// Counters of an `AuditLog` since it was opened.
public struct AuditLogStatistics: Sendable, Hashable {
    /// Records accepted by `append`.
    public var appended = 0
    /// Records committed to the database.
    public var written = 0
    /// Droppable records discarded because the buffer was over capacity.
    public var dropped = 0
    /// Records appended after `close`, discarded.
    public var droppedAfterClose = 0
    /// Records waiting to be written (buffered or in the transaction being written).
    public var pending = 0
    /// Transactions committed.
    public var batches = 0
    /// Transactions that failed (their records were put back and are retried).
    public var failedBatches = 0
    /// The last write failure, if any.
    public var lastError: PolicyError?

    /// All zero.
    public init() {}
}
