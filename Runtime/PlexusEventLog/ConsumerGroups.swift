import Foundation

/// Consumer-group state changes, run by the writer inside batch transactions.
extension WriterCore {
    private typealias State = Schema.DeliveryState

    /// Checks a group name: 1 to ``TopicGrammar/maxSegmentBytes`` (64) characters from
    /// `A–Z a–z 0–9 _ -`, so that `deadletter.<name>` is a valid topic.
    static func validateGroupName(_ name: String) throws(EventLogError) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        let limit = TopicGrammar.maxSegmentBytes
        guard !name.isEmpty, name.utf8.count <= limit, allowed else {
            throw .invalidArgument("group name '\(TopicGrammar.excerpt(name))' must be 1–\(limit) characters of A–Z, a–z, 0–9, '_' or '-'", at: "consumer group")
        }
    }

    /// The group's pattern and cursor, or ``EventLogError/groupNotFound``.
    func group(_ name: String, at location: String) throws(EventLogError) -> (pattern: TopicPattern, cursor: Int64) {
        let statement = try db.statement("SELECT pattern, cursor FROM groups WHERE name=?1")
        statement.bind(1, name)
        defer { statement.reset() }
        guard try statement.step() else { throw .groupNotFound(name, at: location) }
        let text = statement.string(0)
        let cursor = statement.int64(1)
        if let cached = patterns[name], cached.description == text { return (cached, cursor) }
        let pattern = try TopicPattern(text)
        patterns[name] = pattern
        return (pattern, cursor)
    }

    func createGroup(_ name: String, pattern: TopicPattern, startAt: StartPosition) throws(EventLogError) {
        try Self.validateGroupName(name)
        let existing = try db.statement("SELECT pattern FROM groups WHERE name=?1")
        existing.bind(1, name)
        if try existing.step() {
            let current = existing.string(0)
            existing.reset()
            guard current == pattern.description else {
                throw .groupExists("group '\(name)' has pattern '\(current)', not '\(pattern)'", at: "createGroup")
            }
            return
        }
        existing.reset()
        let cursor = try EventRows.sequenceBefore(startAt, in: db)
        let insert = try db.statement("INSERT INTO groups(name, pattern, cursor, created_ms) VALUES(?1, ?2, ?3, ?4)")
        insert.bind(1, name)
        insert.bind(2, pattern.description)
        insert.bind(3, cursor)
        insert.bind(4, configuration.nowMilliseconds())
        try insert.run()
        patterns[name] = pattern
    }

    func deleteGroup(_ name: String) throws(EventLogError) {
        _ = try group(name, at: "deleteGroup")
        for sql in ["DELETE FROM groups WHERE name=?1", "DELETE FROM deliveries WHERE group_name=?1", "DELETE FROM dead_letters WHERE group_name=?1"] {
            let statement = try db.statement(sql)
            statement.bind(1, name)
            try statement.run()
        }
        patterns[name] = nil
    }

    /// Hands out up to `max` events: due retries first, then new matching events after the
    /// cursor. Each becomes in flight until `now + visibility`.
    func fetch(_ name: String, max: Int, visibility: Duration) throws(EventLogError) -> [Delivery] {
        guard max > 0 else { throw .invalidArgument("max must be positive, got \(max)", at: "fetch group '\(name)'") }
        let (pattern, cursor) = try group(name, at: "fetch")
        let now = configuration.nowMilliseconds()
        try expireDeadlines(group: name)
        let deadline = now + visibility.milliseconds
        let deadlineDate = Date(timeIntervalSince1970: Double(deadline) / 1000)
        var deliveries: [Delivery] = []

        // 1. Retries that are due (and events redriven from dead letters).
        let due = try db.statement("""
            SELECT d.attempts, \(EventRows.columns.split(separator: ",").map { "e." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
            FROM deliveries d JOIN events e ON e.seq = d.seq
            WHERE d.group_name=?1 AND d.state=\(State.retry.rawValue) AND d.due_ms<=?2
            ORDER BY d.seq LIMIT ?3
            """)
        due.bind(1, name)
        due.bind(2, now)
        due.bind(3, max)
        var retries: [(attempts: Int, sequence: Int64, envelope: EventEnvelope)] = []
        while try due.step() {
            let (sequence, envelope) = EventRows.decode(due, from: 1)
            retries.append((due.int(0), sequence, envelope))
        }
        due.reset()
        let markRetry = try db.statement("UPDATE deliveries SET state=\(State.inFlight.rawValue), attempts=?3, due_ms=?4 WHERE group_name=?1 AND seq=?2")
        for retry in retries {
            markRetry.reset()
            markRetry.bind(1, name)
            markRetry.bind(2, retry.sequence)
            markRetry.bind(3, retry.attempts + 1)
            markRetry.bind(4, deadline)
            try markRetry.run()
            deliveries.append(Delivery(event: retry.envelope, attempt: retry.attempts + 1, deadline: deadlineDate))
        }

        // 2. New events after the cursor, filtered by the pattern; the scan per fetch is
        //    bounded so one sparse group cannot stall the writer.
        var newCursor = cursor
        var scanned = 0
        let scanLimit = 10_000
        let scan = try db.statement("SELECT seq, topic FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
        let insert = try db.statement("INSERT OR REPLACE INTO deliveries(group_name, seq, state, attempts, due_ms, last_reason) VALUES(?1, ?2, \(State.inFlight.rawValue), 1, ?3, '')")
        scanning: while deliveries.count < max && scanned < scanLimit {
            scan.reset()
            scan.bind(1, newCursor)
            scan.bind(2, 512)
            var matched: [Int64] = []
            var rows = 0
            var stopAt: Int64?
            while try scan.step() {
                rows += 1
                let sequence = scan.int64(0)
                if pattern.matches(scan.string(1)) {
                    matched.append(sequence)
                    if deliveries.count + matched.count == max { stopAt = sequence; break }
                }
                newCursor = sequence
            }
            scan.reset()
            scanned += rows
            for sequence in matched {
                guard let envelope = try EventRows.load(sequence: sequence, from: db) else { continue }
                insert.reset()
                insert.bind(1, name)
                insert.bind(2, sequence)
                insert.bind(3, deadline)
                try insert.run()
                deliveries.append(Delivery(event: envelope, attempt: 1, deadline: deadlineDate))
            }
            if let stopAt { newCursor = stopAt; break scanning }
            if rows < 512 { break scanning }
        }
        if newCursor != cursor {
            let update = try db.statement("UPDATE groups SET cursor=?2 WHERE name=?1")
            update.bind(1, name)
            update.bind(2, newCursor)
            try update.run()
        }
        return deliveries
    }

    /// Acknowledges a delivered event: it will not be delivered to this group again.
    func ack(_ name: String, id: ULID) throws(EventLogError) {
        _ = try group(name, at: "ack")
        guard let sequence = try EventRows.sequence(of: id, in: db) else {
            throw .notInFlight("event \(id) is not stored (never appended or removed by retention)", at: "ack group '\(name)'")
        }
        let delete = try db.statement("DELETE FROM deliveries WHERE group_name=?1 AND seq=?2")
        delete.bind(1, name)
        delete.bind(2, sequence)
        try delete.run()
        guard db.changes > 0 else {
            throw .notInFlight("event \(id) was not delivered to the group or is already acknowledged", at: "ack group '\(name)'")
        }
    }

    /// Rejects an in-flight event: retried after a backoff, or dead-lettered after the last
    /// attempt.
    func nack(_ name: String, id: ULID, reason: String) throws(EventLogError) {
        _ = try group(name, at: "nack")
        guard let sequence = try EventRows.sequence(of: id, in: db) else {
            throw .notInFlight("event \(id) is not stored (never appended or removed by retention)", at: "nack group '\(name)'")
        }
        let select = try db.statement("SELECT attempts FROM deliveries WHERE group_name=?1 AND seq=?2 AND state=\(State.inFlight.rawValue)")
        select.bind(1, name)
        select.bind(2, sequence)
        guard try select.step() else {
            select.reset()
            throw .notInFlight("event \(id) is not in flight", at: "nack group '\(name)'")
        }
        let attempts = select.int(0)
        select.reset()
        try failAttempt(name, sequence: sequence, attempts: attempts, reason: reason)
    }

    /// Turns in-flight deliveries whose deadline passed into failed attempts (all groups when
    /// `group` is nil).
    func expireDeadlines(group: String?) throws(EventLogError) {
        let now = configuration.nowMilliseconds()
        let select: SQLiteStatement
        if let group {
            select = try db.statement("SELECT group_name, seq, attempts FROM deliveries WHERE group_name=?1 AND state=\(State.inFlight.rawValue) AND due_ms<=?2")
            select.bind(1, group)
        } else {
            select = try db.statement("SELECT group_name, seq, attempts FROM deliveries WHERE state=\(State.inFlight.rawValue) AND due_ms<=?2")
        }
        select.bind(2, now)
        var expired: [(String, Int64, Int)] = []
        while try select.step() { expired.append((select.string(0), select.int64(1), select.int(2))) }
        select.reset()
        for (name, sequence, attempts) in expired {
            try failAttempt(name, sequence: sequence, attempts: attempts, reason: "visibility timeout expired")
        }
    }

    /// Records a failed delivery: schedules a retry with backoff, or dead-letters the event
    /// when `attempts` reached the maximum.
    func failAttempt(_ name: String, sequence: Int64, attempts: Int, reason: String) throws(EventLogError) {
        let now = configuration.nowMilliseconds()
        if attempts >= configuration.retry.maxAttempts {
            try deadLetter(name, sequence: sequence, attempts: attempts, reason: reason, now: now)
            return
        }
        let update = try db.statement("UPDATE deliveries SET state=\(State.retry.rawValue), due_ms=?3, last_reason=?4 WHERE group_name=?1 AND seq=?2")
        update.bind(1, name)
        update.bind(2, sequence)
        update.bind(3, now + configuration.retry.delayMilliseconds(afterAttempt: attempts))
        update.bind(4, reason)
        try update.run()
    }

    /// Moves a delivery to the dead letters and appends a `deadletter.<group>` envelope that
    /// carries the original payload, with the original id as its causation id.
    private func deadLetter(_ name: String, sequence: Int64, attempts: Int, reason: String, now: Int64) throws(EventLogError) {
        let delete = try db.statement("DELETE FROM deliveries WHERE group_name=?1 AND seq=?2")
        delete.bind(1, name)
        delete.bind(2, sequence)
        try delete.run()
        guard let original = try EventRows.load(sequence: sequence, from: db) else { return }
        let insert = try db.statement("INSERT OR REPLACE INTO dead_letters(group_name, event_id, seq, attempts, reason, time_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6)")
        insert.bind(1, name)
        insert.bind(2, original.id.description)
        insert.bind(3, sequence)
        insert.bind(4, attempts)
        insert.bind(5, reason)
        insert.bind(6, now)
        try insert.run()
        _ = try appendInternal(EventEnvelope(
            topic: "deadletter.\(name)",
            source: "plexus.eventlog",
            tenant: original.tenant,
            time: Date(timeIntervalSince1970: Double(now) / 1000),
            priority: original.priority,
            contentType: original.contentType,
            payload: original.payload,
            correlationID: original.correlationID,
            causationID: original.id.description,
            schemaVersion: original.schemaVersion
        ))
    }

    /// Re-queues a dead-lettered event for immediate delivery to the group, with a fresh
    /// attempt count.
    func redrive(_ name: String, id: ULID) throws(EventLogError) {
        _ = try group(name, at: "redrive")
        let select = try db.statement("SELECT seq FROM dead_letters WHERE group_name=?1 AND event_id=?2")
        select.bind(1, name)
        select.bind(2, id.description)
        guard try select.step() else {
            select.reset()
            throw .deadLetterNotFound("no dead letter for event \(id)", at: "redrive group '\(name)'")
        }
        let sequence = select.int64(0)
        select.reset()
        guard try EventRows.sequence(of: id, in: db) == sequence else {
            throw .eventNotFound("event \(id) was removed by retention", at: "redrive group '\(name)'")
        }
        let delete = try db.statement("DELETE FROM dead_letters WHERE group_name=?1 AND event_id=?2")
        delete.bind(1, name)
        delete.bind(2, id.description)
        try delete.run()
        let insert = try db.statement("INSERT OR REPLACE INTO deliveries(group_name, seq, state, attempts, due_ms, last_reason) VALUES(?1, ?2, \(State.retry.rawValue), 0, 0, 'redriven')")
        insert.bind(1, name)
        insert.bind(2, sequence)
        try insert.run()
    }
}
