import CLibPQ
import Dispatch
import Foundation

/// The change feed on PostgreSQL: a connection of the plugin's role LISTENs on the channel named
/// after its schema, where `_plexus_log_changes()` (AFTER STATEMENT triggers on every plugin
/// table) logs each changed row in `_plexus_changes` and sends one notification per row, carrying
/// the row's `seq`. NOTIFY is transactional, so only committed changes arrive, from this instance or any
/// other on the same database. Consecutive notifications of one transaction are handed over as
/// one batch.
///
/// On a lost connection it reconnects every second, and once listening again reports what was
/// committed while it was away: the logged changes after the last `seq` it saw, less a window of
/// 1024 (a transaction that took a lower `seq` may commit after a higher one was reported), each
/// reported once (the `seq`s of that window are remembered). The catch-up reads the log in pages
/// of ``catchUpPage`` rows; a page that fails (the connection lost again, say) is not skipped:
/// the listener reconnects, with a growing pause (1 s doubling to 30 s), and catches up again
/// from where it was. The log keeps an hour (writers prune it, see `PostgresConnection`), so a
/// listener away for longer than that loses what is older.
///
/// LISTEN and every catch-up query have the pool's client deadline (``PostgresDeadline``: the
/// statement timeout plus 2 s): a server or proxy that stops answering mid-query fails it, the
/// connection is dropped, and the listener reconnects and catches up as after any lost connection.
///
/// The database logs changes only while some engine listens (see `PostgresChangeGate.swift`):
/// this connection LISTENs from the engine's open, but notifications flow only while the
/// triggers are enabled. It holds its engine's listener lock (``holdListenerLock(_:)``) while
/// connected: the sign that the engine is alive, so a lease it renews late is not removed. (After
/// a reconnection the lock may still be held by the old session, which the server has not ended
/// yet: then it is taken at a later ping.)
///
/// An idle connection is pinged (`SELECT 1` with the client deadline) once it has heard nothing
/// for ``pingInterval`` seconds: a server or proxy that stopped answering while its peer still
/// acknowledges bytes (no FIN, no RST, so TCP keepalives pass) fails the ping, and the listener
/// reconnects and catches up, as after any lost connection.
final class PostgresChangeListener: ChangeFeed, @unchecked Sendable {
    private let queue: DispatchQueue
    private let keywords: [String]
    private let values: [String]
    private let channel: String
    /// The client deadline of one query (ms; 0: none), as the pool's.
    private let deadlineMilliseconds: Int
    // Touched only on `queue`.
    private var connection: OpaquePointer?
    private var source: DispatchSourceRead?
    private var handler: (@Sendable ([StorageChange]) -> Void)?
    private var stopped = false
    /// The largest `seq` reported, and the `seq`s reported within `window` below it.
    private var lastSeen: Int64 = 0
    private var reported = Set<Int64>()
    /// The largest `seq` when the feed started: a catch-up never reports what came before.
    private var startFloor: Int64 = 0
    /// The engine's name in `_plexus_listeners`, whose session lock this connection holds.
    private var holder: String?
    /// Whether this connection holds the holder's listener lock.
    private var lockHeld = false
    /// How long the connection may stay silent before it is pinged (s; 0: never).
    let pingInterval: TimeInterval
    private var pingTimer: DispatchSourceTimer?
    /// When the connection last delivered bytes (or was connected).
    private var lastHeard = DispatchTime.now()
    /// Reconnections failed in a row (for the pause before the next).
    private var failures = 0
    /// How far below the last `seq` seen a catch-up looks again.
    static let window: Int64 = 1024
    /// Rows a catch-up reads per query.
    static let catchUpPage = 1000

    init(parameters: [(String, String)], schema: String, pingInterval: TimeInterval = 30) {
        self.pingInterval = pingInterval
        keywords = parameters.map(\.0)
        // The pool's application name with " listen": the LISTEN connection can be told apart.
        values = parameters.map { $0.0 == "application_name" ? String(($0.1 + " listen").prefix(63)) : $0.1 }
        channel = schema
        deadlineMilliseconds = PostgresDeadline.milliseconds(in: parameters)
        queue = DispatchQueue(label: "plexus.storage.listen:\(schema)")
    }

    /// Connects and starts listening; fails if the first connection fails.
    func start() throws(StorageError) {
        let result: Result<Void, StorageError> = queue.sync {
            do throws(StorageError) {
                try connectAndListen()
                startPinging()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }

    /// Holds `listener`'s session lock (``PostgresConnection/listenerLock(_:)``) on this
    /// connection and on every reconnection; fails if it cannot be taken now.
    func holdListenerLock(_ listener: String) throws(StorageError) {
        let result: Result<Void, StorageError> = queue.sync {
            holder = listener
            lockHeld = false
            guard let connection else { return .success(()) }
            return takeListenerLock(connection) ? .success(()) : .failure(StorageError(.unavailable, "the change feed could not take its listener lock"))
        }
        try result.get()
    }

    /// Tries to take the holder's session lock on `raw` unless held (`lockHeld` says whether it
    /// is now); false when the query failed.
    private func takeListenerLock(_ raw: OpaquePointer) -> Bool {
        guard let holder, !lockHeld else { return true }
        guard let taken = scalar(raw, "SELECT pg_try_advisory_lock(\(PostgresConnection.listenerLock(PostgresConnection.quoted(holder))))") else { return false }
        lockHeld = taken == "t"
        return true
    }

    /// Pings the connection every ``pingInterval`` while it is idle (see the type's comment).
    private func startPinging() {
        guard pingInterval > 0 else { return }
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let nanoseconds = Int(pingInterval * 1e9)
        timer.schedule(deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds), leeway: .nanoseconds(nanoseconds / 10))
        timer.setEventHandler { [weak self] in self?.pingIfIdle() }
        pingTimer = timer
        timer.resume()
    }

    private func pingIfIdle() {
        guard let connection, !stopped else { return }
        let silent = Double(DispatchTime.now().uptimeNanoseconds - lastHeard.uptimeNanoseconds) / 1e9
        guard silent >= pingInterval * 0.9 else { return }
        // Not holding the listener lock (the old session held it at the reconnection): the ping tries it.
        let answered = holder != nil && !lockHeld ? takeListenerLock(connection) : scalar(connection, "SELECT 1") != nil
        guard answered else {
            if PQconsumeInput(connection) != 0 { deliver(notifications(connection)) }
            disconnect()
            return scheduleReconnect()
        }
        lastHeard = .now()
        deliver(notifications(connection))  // notifications that came with the answer
    }

    func setHandler(_ handler: (@Sendable ([StorageChange]) -> Void)?) {
        queue.async { self.handler = handler }
    }

    func stop() {
        queue.async {
            self.stopped = true
            self.pingTimer?.cancel()
            self.pingTimer = nil
            self.disconnect()
        }
    }

    /// For tests: the backend process id of the LISTEN connection (0 when disconnected).
    var backendPID: Int32 { queue.sync { connection.map { PQbackendPID($0) } ?? 0 } }

    private func connectAndListen(catchUp: Bool = false) throws(StorageError) {
        let raw = PostgresConnection.connect(keywords: keywords, values: values)
        guard let raw, PQstatus(raw) == CONNECTION_OK else {
            let error = PostgresErrors.connectionError(raw)
            if let raw { PQfinish(raw) }
            throw error
        }
        PQsetNoticeProcessor(raw, { _, _ in }, nil)
        // Queries are sent without blocking and awaited with the client deadline (`exchange`).
        PQsetnonblocking(raw, 1)
        let result: OpaquePointer?
        do {
            result = try exchange(raw, "LISTEN \"\(channel)\"")
        } catch {
            PQfinish(raw)
            throw error
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            let error = PostgresErrors.error(result: result, connection: raw)
            PQfinish(raw)
            throw error
        }
        lockHeld = false
        guard takeListenerLock(raw) else {
            PQfinish(raw)
            throw StorageError(.unavailable, "the change feed could not take its listener lock")
        }
        connection = raw
        if catchUp {
            guard reportMissed(raw) else {
                // Changes committed during the catch-up arrived as notifications on this connection
                // (LISTEN came first); report them before it closes, since the next catch-up starts
                // from past the pages already read and would not find a late low `seq`.
                if PQconsumeInput(raw) != 0 { deliver(notifications(raw)) }
                disconnect()
                throw StorageError(.unavailable, "the change feed's catch-up query failed")
            }
        } else {
            guard let last = scalar(raw, "SELECT COALESCE(max(seq), 0) FROM _plexus_changes").flatMap({ Int64($0) }) else {
                disconnect()
                throw StorageError(.unavailable, "the change feed could not read where the change log stands")
            }
            lastSeen = last
            startFloor = last
        }
        failures = 0
        lastHeard = .now()
        let source = DispatchSource.makeReadSource(fileDescriptor: PQsocket(raw), queue: queue)
        source.setEventHandler { [weak self] in self?.readable() }
        self.source = source
        source.resume()
        readable()  // notifications libpq read while the queries above ran
    }

    private func disconnect() {
        source?.cancel()
        source = nil
        if let connection { PQfinish(connection) }
        connection = nil
    }

    private func readable() {
        guard let connection else { return }
        if PQconsumeInput(connection) == 0 || PQstatus(connection) != CONNECTION_OK {
            disconnect()
            scheduleReconnect()
            return
        }
        lastHeard = .now()
        deliver(notifications(connection))
    }

    /// The notifications libpq has read on `connection`, grouped by transaction.
    private func notifications(_ connection: OpaquePointer) -> Batches {
        var batches = Batches()
        while let notification = PQnotifies(connection) {
            defer { PQfreemem(notification) }
            guard let extra = notification.pointee.extra,
                let payload = ChangePayload(extra) ?? ChangePayload(json: extra),
                let op = StorageChange.Operation(rawValue: payload.operation)
            else { continue }
            accept(seq: payload.seq, transaction: payload.transaction, StorageChange(table: payload.table, operation: op, rowID: payload.row),
                   live: true, into: &batches)
        }
        return batches
    }

    /// Changes grouped by transaction, in order.
    private struct Batches {
        var list: [[StorageChange]] = []
        var lastTransaction: Int64?
    }

    /// Adds a change unless its `seq` was reported already. A `live` notification is never older
    /// than the window: `seq`s are taken when rows are written, not when their transaction commits,
    /// so a long transaction's changes may arrive after far higher ones and must still be reported
    /// (one LISTEN connection never repeats a notification; only a catch-up can overlap it).
    private func accept(seq: Int64, transaction: Int64, _ change: StorageChange, live: Bool, into batches: inout Batches) {
        if seq > 0 {
            if reported.contains(seq) || (!live && seq <= lastSeen - Self.window) { return }
            reported.insert(seq)
            lastSeen = max(lastSeen, seq)
            if reported.count > Int(Self.window) * 4 {
                let floor = lastSeen - Self.window
                reported = reported.filter { $0 > floor }
            }
        }
        if transaction == batches.lastTransaction, !batches.list.isEmpty {
            batches.list[batches.list.count - 1].append(change)
        } else {
            batches.list.append([change])
        }
        batches.lastTransaction = transaction
    }

    private func deliver(_ batches: Batches) {
        guard let handler else { return }
        for batch in batches.list { handler(batch) }
    }

    /// Reports the logged changes committed while the connection was down (after a reconnect),
    /// page by page (``catchUpPage`` rows each, every page delivered before the next is read).
    /// False when a page could not be read: the caller reconnects and catches up again, from
    /// where this one got (what it reported is remembered, so nothing is reported twice).
    private func reportMissed(_ connection: OpaquePointer) -> Bool {
        var from = max(startFloor, lastSeen - Self.window)
        while true {
            guard let result = try? exchange(connection, "SELECT seq, tx, tbl, op, row_id FROM _plexus_changes WHERE seq > \(from) ORDER BY seq LIMIT \(Self.catchUpPage)")
            else { return false }
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_TUPLES_OK else { return false }
            var batches = Batches()
            let count = PQntuples(result)
            for row in 0..<count {
                func field(_ column: Int32) -> String { PQgetvalue(result, row, column).map { String(cString: $0) } ?? "" }
                guard let seq = Int64(field(0)), let transaction = Int64(field(1)) else { continue }
                from = max(from, seq)
                guard let op = StorageChange.Operation(rawValue: field(3)) else { continue }
                accept(seq: seq, transaction: transaction, StorageChange(table: field(2), operation: op, rowID: Int64(field(4)) ?? 0), live: false, into: &batches)
            }
            deliver(batches)
            if count < Self.catchUpPage { return true }
        }
    }

    /// Sends `sql` and waits for its result within the client deadline (what `PQexec` does,
    /// bounded): nil when the connection failed; throws when the deadline passed (the caller
    /// drops the connection).
    private func exchange(_ connection: OpaquePointer, _ sql: String) throws(StorageError) -> OpaquePointer? {
        try PostgresDeadline.exchange(connection, milliseconds: deadlineMilliseconds) { PQsendQuery($0, sql) }
    }

    /// The first column of the first row of a query, or nil (also past the deadline).
    private func scalar(_ connection: OpaquePointer, _ sql: String) -> String? {
        guard let result = try? exchange(connection, sql) else { return nil }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_TUPLES_OK, PQntuples(result) > 0 else { return nil }
        return PQgetvalue(result, 0, 0).map { String(cString: $0) }
    }

    /// Reconnects (and catches up) after a pause: 1 s, doubling with each failure in a row up to 30 s.
    private func scheduleReconnect() {
        let pause = min(30, 1 << min(failures, 5))
        queue.asyncAfter(deadline: .now() + .seconds(pause)) { [weak self] in
            guard let self, !self.stopped, self.connection == nil else { return }
            do throws(StorageError) {
                try self.connectAndListen(catchUp: true)
            } catch {
                self.failures += 1
                self.scheduleReconnect()
            }
        }
    }
}

/// One notification's payload as `_plexus_log_changes()` sends it (`json_build_object`:
/// `{"x" : 7, "t" : "items", "o" : "insert", "r" : 2, "s" : 3}`): transaction, table, operation,
/// row id and `seq`. Every committed row change is one notification, so the usual layout is read
/// by a small scanner (no Foundation objects); anything it does not expect (an escaped character
/// in a name, a fraction, another layout) is read by `JSONSerialization` instead.
struct ChangePayload: Equatable {
    var transaction: Int64 = -1
    var table = ""
    var operation = ""
    var row: Int64 = 0
    var seq: Int64 = 0

    init(transaction: Int64, table: String, operation: String, row: Int64, seq: Int64) {
        (self.transaction, self.table, self.operation, self.row, self.seq) = (transaction, table, operation, row, seq)
    }

    /// The scanner: a flat object of string and integer members, without escapes; nil otherwise.
    init?(_ text: UnsafePointer<CChar>) {
        var p = UnsafeRawPointer(text).assumingMemoryBound(to: UInt8.self)
        func skipSpaces() { while p.pointee == 0x20 || p.pointee == 0x0A || p.pointee == 0x09 || p.pointee == 0x0D { p += 1 } }
        /// A string without escapes, after its opening quote; nil at a backslash or the end.
        func string() -> String? {
            let start = p
            while p.pointee != 0x22 {
                if p.pointee == 0 || p.pointee == 0x5C { return nil }
                p += 1
            }
            defer { p += 1 }
            return String(decoding: UnsafeBufferPointer(start: start, count: p - start), as: UTF8.self)
        }
        func integer() -> Int64? {
            let negative = p.pointee == 0x2D
            if negative { p += 1 }
            var value: Int64 = 0, digits = 0
            while p.pointee >= 0x30 && p.pointee <= 0x39 {
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int64(p.pointee - 0x30))
                if overflow1 || overflow2 { return nil }
                value = sum
                digits += 1
                p += 1
            }
            return digits == 0 ? nil : (negative ? -value : value)
        }
        skipSpaces()
        guard p.pointee == 0x7B else { return nil }
        p += 1
        while true {
            skipSpaces()
            guard p.pointee == 0x22 else { return nil }
            p += 1
            guard let key = string() else { return nil }
            skipSpaces()
            guard p.pointee == 0x3A else { return nil }
            p += 1
            skipSpaces()
            if p.pointee == 0x22 {
                p += 1
                guard let value = string() else { return nil }
                switch key {
                case "t": table = value
                case "o": operation = value
                default: break
                }
            } else {
                guard let value = integer() else { return nil }
                switch key {
                case "x": transaction = value
                case "r": row = value
                case "s": seq = value
                default: break
                }
            }
            skipSpaces()
            if p.pointee == 0x2C { p += 1; continue }
            guard p.pointee == 0x7D else { return nil }
            break
        }
        guard !table.isEmpty, !operation.isEmpty else { return nil }
    }

    /// `JSONSerialization`'s reading, for what the scanner leaves.
    init?(json text: UnsafePointer<CChar>) {
        guard let data = String(cString: text).data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let table = object["t"] as? String, let operation = object["o"] as? String
        else { return nil }
        self.init(transaction: (object["x"] as? NSNumber)?.int64Value ?? -1, table: table, operation: operation,
                  row: (object["r"] as? NSNumber)?.int64Value ?? 0, seq: (object["s"] as? NSNumber)?.int64Value ?? 0)
    }
}
