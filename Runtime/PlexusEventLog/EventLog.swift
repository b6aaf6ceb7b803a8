import Foundation

/// The durable event log: a SQLite file (WAL) written by one dedicated writer thread with
/// group commit, plus a reader thread for replay queries.
///
/// Every method returns at once and never touches the disk on the caller's thread: it queues
/// the request, and the completion runs later on the log's writer or reader thread (callers
/// hop back to their own loop). An append's completion reports success only after the COMMIT
/// of the transaction that holds it has returned; with ``Durability/full`` (the default) the
/// event then survives a process crash and a power loss, with ``Durability/normal`` a process
/// crash.
///
/// Requests to the writer run in the order they were made: all requests queued when the
/// writer becomes free (up to ``EventLogConfiguration/maxBatchSize``) share one transaction.
/// After ``close(completion:)`` (or if opening failed), completions are called at once on the
/// caller's thread with ``EventLogError/closed``.
public final class EventLog: Sendable {
    /// The database file.
    public let path: String
    /// The settings the log was opened with.
    public let configuration: EventLogConfiguration
    private let writer = WorkQueue<WriterJob>()
    private let reader = WorkQueue<ReaderJob>()
    private let counters = Locked(EventLogStatistics())

    private init(path: String, configuration: EventLogConfiguration) {
        self.path = path
        self.configuration = configuration
    }

    deinit {
        _ = writer.pushLast(.close { _ in })
        _ = reader.pushLast { _ in }
    }

    // MARK: Opening and closing

    /// Opens (creating if needed) the log at `path` on a new writer thread and calls
    /// `completion` there. An existing file is recovered to its last commit; in-flight
    /// deliveries are made due again. A truncated or corrupt file fails with
    /// ``EventLogError/corrupt``.
    public static func open(
        at path: String,
        configuration: EventLogConfiguration = EventLogConfiguration(),
        completion: @escaping @Sendable (Result<EventLog, EventLogError>) -> Void
    ) {
        let log = EventLog(path: path, configuration: configuration)
        let handoff = Locked<EventLog?>(log)
        let writerQueue = log.writer
        let readerQueue = log.reader
        let statistics = log.counters
        let writerThread = Thread {
            let core: WriterCore
            do throws(EventLogError) {
                core = try WriterCore(path: path, configuration: configuration, statistics: statistics)
            } catch {
                handoff.withLock { $0 = nil }
                _ = readerQueue.pushLast { _ in }
                for job in writerQueue.drainAndClose() {
                    switch job {
                    case .append(_, let done): done(.failure(error))
                    case .operation(let operation): operation.fail(error)
                    case .close(let done): done(.failure(error))
                    }
                }
                completion(.failure(error))
                return
            }
            let readerThread = Thread { ReaderCore.run(path: path, queue: readerQueue) }
            readerThread.name = "plexus.eventlog.reader"
            readerThread.start()
            if let opened = handoff.withLock({ value -> EventLog? in defer { value = nil }; return value }) {
                completion(.success(opened))
            }
            core.run(queue: writerQueue)
        }
        writerThread.name = "plexus.eventlog.writer"
        writerThread.start()
    }

    /// Opens the log and waits for it. Blocks the calling thread on disk: for tools and tests,
    /// never for the runtime's loop thread.
    public static func openBlocking(at path: String, configuration: EventLogConfiguration = EventLogConfiguration()) throws(EventLogError) -> EventLog {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<EventLog, EventLogError>?>(nil)
        open(at: path, configuration: configuration) { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return try result.current!.get()
    }

    /// Finishes every request queued so far, checkpoints and closes the file, then calls
    /// `completion` on the writer thread. Later requests fail with ``EventLogError/closed``.
    public func close(completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void = { _ in }) {
        _ = reader.pushLast { _ in }
        if !writer.pushLast(.close(completion)) {
            completion(.failure(.closed(at: "close \(path)")))
        }
    }

    /// Counters for tests and metrics (transactions, appended events, …). Safe from any thread.
    public var statistics: EventLogStatistics { counters.current }

    // MARK: Publishing

    /// Appends `envelope` (its topic must be concrete, see ``Topic``). The log assigns the id;
    /// `completion` receives the sequence number and id after the batch's COMMIT.
    public func append(_ envelope: EventEnvelope, completion: @escaping @Sendable (Result<AppendReceipt, EventLogError>) -> Void) {
        if !writer.push(.append(envelope, completion)) {
            completion(.failure(.closed(at: "append to \(path)")))
        }
    }

    // MARK: Consumer groups

    /// Creates a durable consumer group receiving the events whose topic matches `pattern`,
    /// starting at `startAt`. Creating an existing group with the same pattern succeeds and
    /// changes nothing; with another pattern it fails with ``EventLogError/groupExists``.
    /// Names are 1–100 characters of `A–Z a–z 0–9 _ -`.
    public func createGroup(
        _ name: String,
        pattern: TopicPattern,
        startAt: StartPosition = .end,
        completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void
    ) {
        write(completion, "createGroup") { core throws(EventLogError) in
            try core.createGroup(name, pattern: pattern, startAt: startAt)
        }
    }

    /// Deletes a group with its pending deliveries and dead letters.
    public func deleteGroup(_ name: String, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        write(completion, "deleteGroup") { core throws(EventLogError) in try core.deleteGroup(name) }
    }

    /// Hands the group up to `max` events: due retries (and redriven events) first, then new
    /// events matching its pattern after its cursor, in id order. Each stays in flight until
    /// its deadline (`visibilityTimeout`, default ``EventLogConfiguration/visibilityTimeout``);
    /// not acked by then, it counts as a failed attempt. Delivery is at least once.
    public func fetch(
        group name: String,
        max: Int,
        visibilityTimeout: Duration? = nil,
        completion: @escaping @Sendable (Result<[Delivery], EventLogError>) -> Void
    ) {
        let visibility = visibilityTimeout ?? configuration.visibilityTimeout
        write(completion, "fetch") { core throws(EventLogError) in
            try core.fetch(name, max: max, visibility: visibility)
        }
    }

    /// Acknowledges a delivered event: the group will not receive it again. Fails with
    /// ``EventLogError/notInFlight`` if the group has no pending delivery of it.
    public func ack(group name: String, id: ULID, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        write(completion, "ack") { core throws(EventLogError) in try core.ack(name, id: id) }
    }

    /// Rejects an in-flight event with `reason`: it is retried after an exponential backoff
    /// with jitter (``RetryPolicy``), or, if this was attempt ``RetryPolicy/maxAttempts``,
    /// recorded as a dead letter and announced on topic `deadletter.<group>`.
    public func nack(group name: String, id: ULID, reason: String, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        write(completion, "nack") { core throws(EventLogError) in try core.nack(name, id: id, reason: reason) }
    }

    /// The dead letters of a group, oldest first.
    public func deadLetters(group name: String, completion: @escaping @Sendable (Result<[DeadLetter], EventLogError>) -> Void) {
        read(completion, "deadLetters") { db throws(EventLogError) in try ReaderCore.deadLetters(db, group: name) }
    }

    /// Every consumer group with its number of dead letters, by name.
    public func deadLetterGroups(completion: @escaping @Sendable (Result<[DeadLetterGroup], EventLogError>) -> Void) {
        read(completion, "deadLetterGroups") { db throws(EventLogError) in try ReaderCore.deadLetterGroups(db) }
    }

    /// Removes a dead letter and makes its event due for delivery to the group again, with a
    /// fresh attempt count. Fails with ``EventLogError/eventNotFound`` if retention removed it.
    public func redrive(group name: String, id: ULID, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        write(completion, "redrive") { core throws(EventLogError) in try core.redrive(name, id: id) }
    }

    // MARK: Replay and maintenance

    /// Up to `limit` committed events whose topic matches `pattern`, after `since`
    /// (see ``StartPosition``), in id (= append) order; with `tenant`, only that tenant's events
    /// ("" for tenant-less ones), filtered before the limit counts. Runs on the reader thread.
    public func events(
        matching pattern: TopicPattern,
        since: StartPosition = .beginning,
        limit: Int,
        tenant: String? = nil,
        completion: @escaping @Sendable (Result<[EventEnvelope], EventLogError>) -> Void
    ) {
        read(completion, "events") { db throws(EventLogError) in
            try ReaderCore.events(db, pattern: pattern, since: since, limit: limit, tenant: tenant)
        }
    }

    /// Runs the periodic maintenance now: expires visibility deadlines and applies retention.
    /// Returns how many events retention deleted.
    public func runMaintenance(completion: @escaping @Sendable (Result<Int, EventLogError>) -> Void) {
        write(completion, "runMaintenance") { core throws(EventLogError) in
            try core.expireDeadlines(group: nil)
            return try core.applyRetention()
        }
    }

    // MARK: Plumbing

    private func write<T: Sendable>(
        _ completion: @escaping @Sendable (Result<T, EventLogError>) -> Void,
        _ name: String,
        _ body: @escaping @Sendable (WriterCore) throws(EventLogError) -> T
    ) {
        let operation = WriterOperation(run: { core in
            let result: Result<T, EventLogError>
            do throws(EventLogError) {
                result = .success(try core.db.savepoint { () throws(EventLogError) -> T in try body(core) })
            } catch {
                result = .failure(error)
            }
            return { commitError in
                if let commitError, case .success = result {
                    completion(.failure(commitError))
                } else {
                    completion(result)
                }
            }
        }, fail: { error in completion(.failure(error)) })
        if !writer.push(.operation(operation)) {
            completion(.failure(.closed(at: "\(name) on \(path)")))
        }
    }

    private func read<T: Sendable>(
        _ completion: @escaping @Sendable (Result<T, EventLogError>) -> Void,
        _ name: String,
        _ body: @escaping @Sendable (SQLiteConnection) throws(EventLogError) -> T
    ) {
        let accepted = reader.push { connection in
            switch connection {
            case .failure(let error):
                completion(.failure(error))
            case .success(let db):
                do throws(EventLogError) {
                    completion(.success(try body(db)))
                } catch {
                    completion(.failure(error))
                }
            }
        }
        if !accepted {
            completion(.failure(.closed(at: "\(name) on \(path)")))
        }
    }
}
