import Foundation

/// A request to the writer thread.
enum WriterJob: Sendable {
    /// Append one event; completed after the batch's COMMIT.
    case append(EventEnvelope, @Sendable (Result<AppendReceipt, EventLogError>) -> Void)
    /// Run an operation inside the batch transaction.
    case operation(WriterOperation)
    /// Finish the queued work, close the file and call the completion.
    case close(@Sendable (Result<Void, EventLogError>) -> Void)
}

/// Work run by the writer inside a batch transaction.
struct WriterOperation: Sendable {
    /// Runs the work (in its own savepoint) and returns the function to call after the COMMIT
    /// with the commit error, if any.
    let run: @Sendable (WriterCore) -> (EventLogError?) -> Void
    /// Reports an error when the work could not run at all.
    let fail: @Sendable (EventLogError) -> Void
}

/// The state owned by the writer thread: the read-write connection, the id generator and the
/// group-commit loop.
final class WriterCore {
    let db: SQLiteConnection
    let configuration: EventLogConfiguration
    let statistics: Locked<EventLogStatistics>
    let ids: ULIDGenerator
    /// Approximate bytes of retained events (sum of `events.size`).
    var retainedBytes: Int64 = 0
    /// Parsed patterns of consumer groups, by group name.
    var patterns: [String: TopicPattern] = [:]
    private var nextMaintenance: Date

    init(path: String, configuration: EventLogConfiguration, statistics: Locked<EventLogStatistics>) throws(EventLogError) {
        db = try SQLiteConnection(path: path, readOnly: false)
        self.configuration = configuration
        self.statistics = statistics
        try Schema.prepare(db, configuration: configuration)
        let newest = try db.statement("SELECT id FROM events ORDER BY seq DESC LIMIT 1")
        let floor = try newest.step() ? ULID(newest.string(0)) : nil
        newest.reset()
        ids = ULIDGenerator(after: floor, clock: configuration.clock)
        let bytes = try db.statement("SELECT coalesce(sum(size), 0) FROM events")
        retainedBytes = try bytes.step() ? bytes.int64(0) : 0
        bytes.reset()
        nextMaintenance = Date().addingTimeInterval(Double(configuration.retention.interval.milliseconds) / 1000)
    }

    /// The writer thread's loop: takes batches until a close request, committing each batch
    /// in one transaction.
    func run(queue: WorkQueue<WriterJob>) {
        while true {
            let jobs = queue.take(max: configuration.maxBatchSize, until: nextMaintenance)
            if jobs.isEmpty || Date() >= nextMaintenance {
                maintain()
            }
            var closing: [@Sendable (Result<Void, EventLogError>) -> Void] = []
            let work = jobs.filter { job in
                if case .close(let completion) = job { closing.append(completion); return false }
                return true
            }
            if !work.isEmpty { commit(work) }
            if !closing.isEmpty {
                // Anything queued after the close request was refused by the queue.
                let left = queue.drainAndClose()
                if !left.isEmpty { commit(left.filter { if case .close = $0 { return false }; return true }) }
                try? db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                db.close()
                for completion in closing { completion(.success(())) }
                return
            }
        }
    }

    /// Runs `jobs` in one transaction, commits once, then completes each of them.
    func commit(_ jobs: [WriterJob]) {
        var finishers: [(EventLogError?) -> Void] = []
        finishers.reserveCapacity(jobs.count)
        var appended = 0
        let bytesBefore = retainedBytes
        do {
            try db.execute("BEGIN IMMEDIATE")
        } catch {
            for job in jobs { fail(job, error) }
            return
        }
        for job in jobs {
            switch job {
            case .append(var envelope, let completion):
                do throws(EventLogError) {
                    try Topic.validate(envelope.topic)
                    envelope.id = ids.next()
                    let sequence = try EventRows.insert(envelope, into: db)
                    retainedBytes += Int64(envelope.retainedSize)
                    appended += 1
                    let receipt = AppendReceipt(sequence: sequence, id: envelope.id)
                    finishers.append { error in completion(error.map { .failure($0) } ?? .success(receipt)) }
                } catch {
                    finishers.append { _ in completion(.failure(error)) }
                }
            case .operation(let operation):
                finishers.append(operation.run(self))
            case .close:
                break
            }
        }
        var commitError: EventLogError?
        do {
            try db.execute("COMMIT")
        } catch {
            commitError = error
            try? db.execute("ROLLBACK")
            retainedBytes = bytesBefore
        }
        if commitError == nil {
            let total = appended + pendingAppends
            statistics.withLock { stats in
                stats.transactions += 1
                stats.appendedEvents += total
                stats.largestBatch = max(stats.largestBatch, jobs.count)
            }
        }
        pendingAppends = 0
        for finish in finishers { finish(commitError) }
    }

    /// Events appended by operations (dead-letter envelopes) in the current transaction.
    var pendingAppends = 0

    /// Appends an event from inside an operation (for dead-letter envelopes).
    func appendInternal(_ envelope: EventEnvelope) throws(EventLogError) -> AppendReceipt {
        var envelope = envelope
        envelope.id = ids.next()
        let sequence = try EventRows.insert(envelope, into: db)
        retainedBytes += Int64(envelope.retainedSize)
        pendingAppends += 1
        return AppendReceipt(sequence: sequence, id: envelope.id)
    }

    /// Fails a job that could not run.
    func fail(_ job: WriterJob, _ error: EventLogError) {
        switch job {
        case .append(_, let completion): completion(.failure(error))
        case .operation(let operation): operation.fail(error)
        case .close(let completion): completion(.failure(error))
        }
    }

    /// Periodic work: expires visibility deadlines of every group and applies retention, in
    /// one transaction.
    func maintain() {
        let interval = Double(configuration.retention.interval.milliseconds) / 1000
        nextMaintenance = Date().addingTimeInterval(max(0.01, interval))
        commit([.operation(WriterOperation(run: { core in
            // On failure, maintenance is simply retried at the next interval.
            try? core.runMaintenance()
            return { _ in }
        }, fail: { _ in }))])
    }
}
