import CLibPQ
import Foundation

/// One libpq connection of a plugin's pool, logged in as the plugin's role with its schema first
/// on the search path. Owned by one worker (never used from two threads at once).
///
/// It connects lazily and reconnects: before each statement outside a transaction it checks the
/// socket (a restarted server has closed it) and connects again; a statement that loses the
/// connection fails with `.unavailable`, and the next one reconnects. Statements are prepared
/// once per connection and reused (up to `statementCacheSize`). Every request has a client-side
/// deadline (``PostgresDeadline``): a server that stops answering without closing the connection
/// fails it as `.unavailable`, and the connection is dropped and made again on the next call.
final class PostgresConnection: StorageConnection {
    let dialect = SQLDialect.postgresql
    /// Unused: the change feed comes from `PostgresChangeListener`.
    var changeHandler: (@Sendable ([StorageChange]) -> Void)?
    /// `postgresql:<schema>`, for messages.
    let location: String
    /// The plugin's schema (already a safe identifier).
    let schema: String
    let clock: @Sendable () -> Date
    /// The clock of the change-log leases (nil: the server's), see `PostgresChangeGate.swift`.
    let leaseClock: (@Sendable () -> TimeInterval)?

    private let keywords: [String]
    private let values: [String]
    private var connection: OpaquePointer?
    private var prepared: [String: (name: String, parameterCount: Int)] = [:]
    private var preparedOrder: [String] = []
    private var nextStatement = 0
    private let cacheCapacity: Int
    /// The client-side deadline of one request (ms; 0: none), from the keywords' `tcp_user_timeout`.
    private let deadlineMilliseconds: Int
    /// Inside `atomically`: a lost connection must fail the transaction, never reconnect under it.
    private var transactionOpen = false

    /// A connection that will log in with `parameters` (libpq keywords; `dbname` may be a URL).
    init(parameters: [(String, String)], schema: String, configuration: StorageConfiguration) {
        keywords = parameters.map(\.0)
        values = parameters.map(\.1)
        self.schema = schema
        location = "postgresql:\(schema)"
        clock = configuration.clock
        leaseClock = configuration.changeListenerClock
        cacheCapacity = max(1, configuration.statementCacheSize)
        deadlineMilliseconds = PostgresDeadline.milliseconds(in: parameters)
    }

    deinit { close() }

    // MARK: Connecting

    /// Connects now (if not connected) so that a wrong URL or a down server fails at open.
    func connectIfNeeded() throws(StorageError) {
        _ = try ready()
    }

    /// The live connection, connecting or reconnecting first if needed.
    private func ready() throws(StorageError) -> OpaquePointer {
        if transactionOpen {
            guard let connection, PQstatus(connection) == CONNECTION_OK else {
                throw StorageError(.unavailable, "the connection to PostgreSQL was lost inside a transaction; it was rolled back")
            }
            return connection
        }
        if let connection {
            if PQstatus(connection) == CONNECTION_OK {
                // Outside a transaction, notice a connection the server has closed (restart, failover).
                if PQtransactionStatus(connection) == PQTRANS_IDLE { _ = PQconsumeInput(connection) }
                if PQstatus(connection) == CONNECTION_OK { return connection }
            }
            close()
        }
        let raw = Self.connect(keywords: keywords, values: values)
        guard let raw, PQstatus(raw) == CONNECTION_OK else {
            let error = PostgresErrors.connectionError(raw)
            if let raw { PQfinish(raw) }
            throw error
        }
        // Notices (e.g. "relation already exists, skipping") are not for the log.
        PQsetNoticeProcessor(raw, { _, _ in }, nil)
        // Requests are sent without blocking and awaited with a deadline (`exchange`).
        PQsetnonblocking(raw, 1)
        connection = raw
        return raw
    }

    /// `PQconnectdbParams` with `expand_dbname` (a URL in `dbname`; later keywords override it).
    static func connect(keywords: [String], values: [String]) -> OpaquePointer? {
        let cKeywords = keywords.map { strdup($0) }
        let cValues = values.map { strdup($0) }
        defer {
            cKeywords.forEach { free($0) }
            cValues.forEach { free($0) }
        }
        var keywordPointers = cKeywords.map { $0.map { UnsafePointer<CChar>($0) } } + [nil]
        var valuePointers = cValues.map { $0.map { UnsafePointer<CChar>($0) } } + [nil]
        return keywordPointers.withUnsafeMutableBufferPointer { k in
            valuePointers.withUnsafeMutableBufferPointer { v in
                PQconnectdbParams(k.baseAddress, v.baseAddress, 1)
            }
        }
    }

    func close() {
        guard let connection else { return }
        PQfinish(connection)
        self.connection = nil
        prepared = [:]
        preparedOrder = []
    }

    // MARK: Statements

    /// What a statement returned: its rows (if any) and the affected row count.
    struct Outcome {
        let result: QueryResult
        let changes: Int
    }

    /// Runs one statement with `$N` (or SDK-form) placeholders, prepared and cached.
    func run(_ sql: String, _ parameters: [StorageValue], translate: Bool = true) throws(StorageError) -> Outcome {
        let conn = try ready()
        let signature = PostgresValues.signature(parameters)
        let key = signature + "|" + sql
        let statement: (name: String, parameterCount: Int)
        if let cached = prepared[key] {
            statement = cached
        } else {
            let translation = translate ? Placeholders.translate(sql) : Placeholders.Translation(sql: sql, parameterCount: parameters.count)
            if translation.parameterCount != parameters.count {
                throw StorageError(.misuse, "statement has \(translation.parameterCount) parameter(s), \(parameters.count) given")
            }
            let name = "plexus_\(nextStatement)"
            nextStatement += 1
            let types = parameters.map(PostgresValues.typeOID)
            let result = try exchange(conn) { conn in
                types.withUnsafeBufferPointer { PQsendPrepare(conn, name, translation.sql, Int32(types.count), $0.baseAddress) }
            }
            defer { PQclear(result) }
            guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else {
                throw PostgresErrors.error(result: result, connection: conn)
            }
            statement = (name, translation.parameterCount)
            try cacheInsert(key, statement, conn)
        }
        let result = try PostgresValues.withParameters(parameters) { (values, lengths, formats) throws(StorageError) -> OpaquePointer? in
            try exchange(conn) { conn in
                values.withUnsafeBufferPointer { v in
                    lengths.withUnsafeBufferPointer { l in
                        formats.withUnsafeBufferPointer { f in
                            PQsendQueryPrepared(conn, statement.name, Int32(parameters.count), v.baseAddress, l.baseAddress, f.baseAddress, 0)
                        }
                    }
                }
            }
        }
        defer { PQclear(result) }
        return try outcome(result, conn)
    }

    /// Runs `sql` as it is (several statements allowed, no parameters): schema and migrations.
    func runScript(_ sql: String) throws(StorageError) {
        let conn = try ready()
        let result = try exchange(conn) { PQsendQuery($0, sql) }
        defer { PQclear(result) }
        _ = try outcome(result, conn)
    }

    /// `send`, then its results within ``deadlineMilliseconds``; past the deadline the connection
    /// is dropped (the next call reconnects) and `.unavailable` thrown.
    private func exchange(_ conn: OpaquePointer, _ send: (OpaquePointer) -> Int32) throws(StorageError) -> OpaquePointer? {
        do {
            return try PostgresDeadline.exchange(conn, milliseconds: deadlineMilliseconds, send)
        } catch {
            close()
            throw error
        }
    }

    private func outcome(_ result: OpaquePointer?, _ conn: OpaquePointer) throws(StorageError) -> Outcome {
        guard let result else { throw PostgresErrors.connectionError(conn) }
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK:
            return Outcome(result: PostgresValues.rows(result), changes: Int(PQntuples(result)))
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            let tuples = PQcmdTuples(result).map { String(cString: $0) } ?? ""
            return Outcome(result: QueryResult(columns: [], rows: []), changes: Int(tuples) ?? 0)
        default:
            let error = PostgresErrors.error(result: result, connection: conn)
            if PQstatus(conn) != CONNECTION_OK {
                return try lost(error)
            }
            throw error
        }
    }

    private func lost(_ error: StorageError) throws(StorageError) -> Outcome {
        // The connection is gone: forget its prepared statements; the next call reconnects.
        let kind: StorageError.Kind = error.kind == .timeout ? .timeout : .unavailable
        throw StorageError(kind, error.message, sqlState: error.sqlState)
    }

    private func cacheInsert(_ key: String, _ statement: (name: String, parameterCount: Int), _ conn: OpaquePointer) throws(StorageError) {
        if prepared.count >= cacheCapacity, let oldest = preparedOrder.first {
            preparedOrder.removeFirst()
            if let old = prepared.removeValue(forKey: oldest) {
                PQclear(try exchange(conn) { PQsendQuery($0, "DEALLOCATE \(old.name)") })
            }
        }
        prepared[key] = statement
        preparedOrder.append(key)
    }

    // MARK: StorageConnection

    var inTransaction: Bool {
        guard let connection else { return false }
        let status = PQtransactionStatus(connection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    func pluginExecute(_ sql: String, _ parameters: [StorageValue]) throws(StorageError) -> ExecuteResult {
        try Self.checkAllowed(sql)
        let outcome = try run(sql, parameters)
        if Self.isSchemaChange(sql) { try installChangeTriggers() }
        return ExecuteResult(changes: outcome.changes, lastInsertRowID: Self.returnedID(outcome.result))
    }

    func pluginQuery(_ sql: String, _ parameters: [StorageValue]) throws(StorageError) -> QueryResult {
        try Self.checkAllowed(sql)
        return try run(sql, parameters).result
    }

    func atomically<T>(_ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        if transactionOpen { return try body() }
        _ = try run("BEGIN", [], translate: false)
        transactionOpen = true
        do {
            let value = try body()
            _ = try run("COMMIT", [], translate: false)
            transactionOpen = false
            return value
        } catch {
            rollbackIfNeeded()
            throw error
        }
    }

    func rollbackIfNeeded() {
        transactionOpen = false
        guard inTransaction, let connection else { return }
        PQclear(try? exchange(connection) { PQsendQuery($0, "ROLLBACK") })
    }

    func deliverChanges() {}

    /// Statements plugin SQL may not run: the engine owns transactions and session settings (the
    /// SQLite sandbox refuses the same). Everything else is bounded by the role's rights.
    static let deniedHeads: Set<String> = [
        "begin", "start", "commit", "end", "rollback", "abort", "savepoint", "release", "set", "reset",
        "prepare", "deallocate", "discard", "listen", "unlisten",
    ]

    static func checkAllowed(_ sql: String) throws(StorageError) {
        let head = sql.drop { $0.isWhitespace || $0 == "(" }.prefix { $0.isLetter }.lowercased()
        if deniedHeads.contains(head) {
            throw StorageError(.denied, "\(head.uppercased()) is not allowed in plugin SQL: the engine owns transactions and session settings")
        }
    }

    /// Whether a statement may create or alter tables (then new tables get the change trigger).
    static func isSchemaChange(_ sql: String) -> Bool {
        let head = sql.drop { $0.isWhitespace }.prefix(6).lowercased()
        return head == "create" || head.hasPrefix("alter")
    }

    /// The `id` an `INSERT ... RETURNING id` gave back (PostgreSQL has no rowid), else 0.
    static func returnedID(_ result: QueryResult) -> Int64 {
        guard result.rows.count == 1, let first = result.rows.first else { return 0 }
        return first["id"]?.integerValue ?? (result.columns.count == 1 ? first[0].integerValue ?? 0 : 0)
    }
}
