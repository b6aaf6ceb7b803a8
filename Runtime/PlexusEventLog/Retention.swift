import Foundation

/// Retention and periodic maintenance, run by the writer.
extension WriterCore {
    /// Expires visibility deadlines of all groups, then applies retention.
    func runMaintenance() throws(EventLogError) {
        try db.savepoint { () throws(EventLogError) in
            try expireDeadlines(group: nil)
            try applyRetention()
        }
    }

    /// Deletes the events outside the ``RetentionPolicy`` limits, oldest first, and drops the
    /// pending deliveries of deleted events ("retention wins, consumers skip"). Returns how
    /// many events were deleted.
    @discardableResult
    func applyRetention() throws(EventLogError) -> Int {
        let policy = configuration.retention
        guard !policy.isUnlimited else { return 0 }
        // Everything at or below `cutoff` (a sequence number) goes.
        var cutoff: Int64 = 0
        if let maxAge = policy.maxAge {
            let bound = ULID.lowerBound(milliseconds: UInt64(max(0, configuration.nowMilliseconds() - maxAge.milliseconds)))
            let statement = try db.statement("SELECT coalesce((SELECT seq FROM events WHERE id < ?1 ORDER BY id DESC LIMIT 1), 0)")
            statement.bind(1, bound.description)
            if try statement.step() { cutoff = max(cutoff, statement.int64(0)) }
            statement.reset()
        }
        if let maxCount = policy.maxCount {
            let statement = try db.statement("SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?1")
            statement.bind(1, max(0, maxCount))
            if try statement.step() { cutoff = max(cutoff, statement.int64(0)) }
            statement.reset()
        }
        if let maxBytes = policy.maxBytes, retainedBytes > Int64(maxBytes) {
            var excess = retainedBytes - Int64(maxBytes)
            let statement = try db.statement("SELECT seq, size FROM events ORDER BY seq")
            while excess > 0, try statement.step() {
                excess -= statement.int64(1)
                cutoff = max(cutoff, statement.int64(0))
            }
            statement.reset()
        }
        guard cutoff > 0 else { return 0 }
        let measure = try db.statement("SELECT count(*), coalesce(sum(size), 0) FROM events WHERE seq <= ?1")
        measure.bind(1, cutoff)
        var deleted = 0
        if try measure.step() {
            deleted = measure.int(0)
            retainedBytes -= measure.int64(1)
        }
        measure.reset()
        guard deleted > 0 else { return 0 }
        for sql in ["DELETE FROM events WHERE seq <= ?1", "DELETE FROM deliveries WHERE seq <= ?1"] {
            let statement = try db.statement(sql)
            statement.bind(1, cutoff)
            try statement.run()
        }
        statistics.withLock { $0.deletedByRetention += deleted }
        return deleted
    }
}
