import Foundation

/// Reading and writing `events` rows.
enum EventRows {
    /// The columns ``decode(_:from:)`` expects, in order, for a `FROM events` query.
    static let columns = "seq, id, topic, source, tenant, time_ms, priority, content_type, payload, correlation_id, causation_id, schema_version"

    /// Decodes the row at the statement's current position, starting at column `offset`.
    static func decode(_ row: SQLiteStatement, from offset: Int32 = 0) -> (sequence: Int64, envelope: EventEnvelope) {
        let sequence = row.int64(offset)
        let envelope = EventEnvelope(
            id: ULID(row.string(offset + 1)) ?? ULID(high: 0, low: 0),
            topic: row.string(offset + 2),
            source: row.string(offset + 3),
            tenant: row.string(offset + 4),
            time: Date(timeIntervalSince1970: Double(row.int64(offset + 5)) / 1000),
            priority: row.int(offset + 6),
            contentType: row.string(offset + 7),
            payload: row.data(offset + 8),
            correlationID: row.optionalString(offset + 9),
            causationID: row.optionalString(offset + 10),
            schemaVersion: row.int(offset + 11)
        )
        return (sequence, envelope)
    }

    static let insertSQL = """
        INSERT INTO events(id, topic, source, tenant, time_ms, priority, content_type, payload, correlation_id, causation_id, schema_version, size)
        VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
        """

    /// Inserts `envelope` (whose id is already assigned) and returns its sequence number.
    static func insert(_ envelope: EventEnvelope, into db: SQLiteConnection) throws(EventLogError) -> Int64 {
        let statement = try db.statement(insertSQL)
        statement.bind(1, envelope.id.description)
        statement.bind(2, envelope.topic)
        statement.bind(3, envelope.source)
        statement.bind(4, envelope.tenant)
        statement.bind(5, Int64((envelope.time.timeIntervalSince1970 * 1000).rounded(.down)))
        statement.bind(6, envelope.priority)
        statement.bind(7, envelope.contentType)
        statement.bind(8, envelope.payload)
        statement.bind(9, envelope.correlationID)
        statement.bind(10, envelope.causationID)
        statement.bind(11, envelope.schemaVersion)
        statement.bind(12, envelope.retainedSize)
        try statement.run()
        return db.lastInsertRowID
    }

    /// Loads the event with sequence number `sequence`, if still retained.
    static func load(sequence: Int64, from db: SQLiteConnection) throws(EventLogError) -> EventEnvelope? {
        let statement = try db.statement("SELECT \(columns) FROM events WHERE seq=?1")
        statement.bind(1, sequence)
        defer { statement.reset() }
        return try statement.step() ? decode(statement).envelope : nil
    }

    /// The sequence number of the event with `id`, if still retained.
    static func sequence(of id: ULID, in db: SQLiteConnection) throws(EventLogError) -> Int64? {
        let statement = try db.statement("SELECT seq FROM events WHERE id=?1")
        statement.bind(1, id.description)
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) : nil
    }

    /// The sequence number just before `position`: events with a larger one are at or after it.
    static func sequenceBefore(_ position: StartPosition, in db: SQLiteConnection) throws(EventLogError) -> Int64 {
        let statement: SQLiteStatement
        switch position {
        case .beginning:
            return 0
        case .end:
            statement = try db.statement("SELECT coalesce(max(seq), 0) FROM events")
        case .id(let id):
            statement = try db.statement("SELECT coalesce((SELECT seq FROM events WHERE id <= ?1 ORDER BY id DESC LIMIT 1), 0)")
            statement.bind(1, id.description)
        case .time(let date):
            statement = try db.statement("SELECT coalesce((SELECT seq FROM events WHERE id < ?1 ORDER BY id DESC LIMIT 1), 0)")
            statement.bind(1, ULID.lowerBound(for: date).description)
        }
        defer { statement.reset() }
        return try statement.step() ? statement.int64(0) : 0
    }
}
