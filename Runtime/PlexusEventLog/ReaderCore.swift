import Foundation

/// A request to the reader thread: runs with the read-only connection, or with the error
/// that kept it from opening.
typealias ReaderJob = @Sendable (Result<SQLiteConnection, EventLogError>) -> Void

/// Read-only queries, run on the reader thread with its own connection so that replays do
/// not hold up the writer (WAL readers see the last committed state without blocking it).
enum ReaderCore {
    /// The reader thread's loop: opens the connection on first use, runs jobs until the queue
    /// is closed (by a last job) and empty.
    static func run(path: String, queue: WorkQueue<ReaderJob>) {
        var connection: Result<SQLiteConnection, EventLogError>?
        while true {
            let jobs = queue.take(max: 64, until: nil)
            for job in jobs {
                if connection == nil {
                    do throws(EventLogError) {
                        connection = .success(try SQLiteConnection(path: path, readOnly: true))
                    } catch {
                        connection = .failure(error)
                    }
                }
                job(connection!)
            }
            if queue.isClosedAndEmpty {
                if case .success(let db)? = connection { db.close() }
                return
            }
        }
    }

    /// Events matching `pattern` after `since`, in id order, at most `limit`; with `tenant`, only
    /// that tenant's events ("" for tenant-less ones), selected in the query before the limit
    /// counts, so a page is short only at the end of the log.
    static func events(_ db: SQLiteConnection, pattern: TopicPattern, since: StartPosition, limit: Int,
                       tenant: String? = nil) throws(EventLogError) -> [EventEnvelope] {
        guard limit > 0 else { throw .invalidArgument("limit must be positive, got \(limit)", at: "events(matching: '\(pattern)')") }
        try db.execute("BEGIN")
        defer { try? db.execute("COMMIT") }
        var after = try EventRows.sequenceBefore(since, in: db)
        var result: [EventEnvelope] = []
        let chunk = 512
        let scan = try db.statement(tenant == nil
            ? "SELECT \(EventRows.columns) FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            : "SELECT \(EventRows.columns) FROM events WHERE seq > ?1 AND tenant = ?3 ORDER BY seq LIMIT ?2")
        while result.count < limit {
            scan.reset()
            scan.bind(1, after)
            scan.bind(2, chunk)
            if let tenant { scan.bind(3, tenant) }
            var rows = 0
            while result.count < limit, try scan.step() {
                rows += 1
                let (sequence, envelope) = EventRows.decode(scan)
                after = sequence
                if pattern.matches(envelope.topic) { result.append(envelope) }
            }
            scan.reset()
            if rows < chunk { break }
        }
        return result
    }

    /// The dead letters of `group`, oldest first.
    static func deadLetters(_ db: SQLiteConnection, group: String) throws(EventLogError) -> [DeadLetter] {
        try db.execute("BEGIN")
        defer { try? db.execute("COMMIT") }
        let exists = try db.statement("SELECT 1 FROM groups WHERE name=?1")
        exists.bind(1, group)
        guard try exists.step() else {
            exists.reset()
            throw .groupNotFound(group, at: "deadLetters")
        }
        exists.reset()
        let statement = try db.statement("SELECT event_id, attempts, reason, time_ms FROM dead_letters WHERE group_name=?1 ORDER BY time_ms, seq")
        statement.bind(1, group)
        var result: [DeadLetter] = []
        while try statement.step() {
            result.append(DeadLetter(
                group: group,
                eventID: ULID(statement.string(0)) ?? ULID(high: 0, low: 0),
                attempts: statement.int(1),
                lastReason: statement.string(2),
                time: Date(timeIntervalSince1970: Double(statement.int64(3)) / 1000)
            ))
        }
        statement.reset()
        return result
    }
}
