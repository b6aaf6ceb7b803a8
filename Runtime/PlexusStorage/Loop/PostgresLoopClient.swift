import CLibPQ
import CLibUV
import Foundation

/// One libpq connection driven without blocking by the loop that owns it: key-value statements
/// are sent with `PQsendQueryPrepared` in pipeline mode (each followed by a sync, so one
/// failing statement fails only itself), a `uv_poll_t` on `PQsocket` calls back when the server
/// answers (`PQconsumeInput`, `PQisBusy`, `PQgetResult`) or when the socket can take the rest
/// of a request (`PQflush` on writable), and results are handed to their requests in order.
///
/// Connecting (DNS, TLS, authentication, preparing the statements) is blocking libpq work, so it
/// runs on a dispatch thread and the finished connection is handed to the loop. Until it is
/// ready, and while waiting to reconnect after a failure (100 ms, doubling up to 5 s), `send`
/// returns false and the caller uses the engine's worker pool, which connects on its own. A
/// request already sent when the connection is lost fails with `.unavailable` (never resent:
/// a write may have happened). The statement timeout and the plugin's role and schema are the
/// pool's (same connection parameters), so errors are typed the same way. A request unanswered
/// past its client-side deadline (the statement timeout and a margin, ``PostgresDeadline``: the
/// server vanished without closing the connection, or stopped answering) fails as `.unavailable`
/// with every other request in flight, and the connection is dropped and made again.
///
/// Loop-confined: every method runs on the loop thread.
final class PostgresLoopClient {
    /// The statements this connection prepares when it connects.
    enum Statement: String, CaseIterable {
        case get, version, put, putNew, putExpected, delete, deleteExpected

        var name: String { "plexus_loop_\(rawValue)" }

        var sql: String {
            switch self {
            case .get: PostgresKeyValueSQL.get
            case .version: PostgresKeyValueSQL.version
            case .put: PostgresKeyValueSQL.put
            case .putNew: PostgresKeyValueSQL.putNew
            case .putExpected: PostgresKeyValueSQL.putExpected
            case .delete: PostgresKeyValueSQL.delete
            case .deleteExpected: PostgresKeyValueSQL.deleteExpected
            }
        }

        /// Parameter type OIDs (0: inferred from the statement's casts).
        var types: [UInt32] {
            let float8 = PostgresValues.float8OID, bytea = PostgresValues.byteaOID, int8 = PostgresValues.int8OID
            switch self {
            case .get, .version, .delete: return [0, float8]
            case .put, .putNew: return [0, bytea, float8, float8]
            case .putExpected: return [0, bytea, float8, int8, float8]
            case .deleteExpected: return [0, int8, float8]
            }
        }
    }

    typealias Completion = (Result<PostgresConnection.Outcome, StorageError>) -> Void

    private enum State {
        case idle
        case connecting
        case ready(OpaquePointer)
        case waiting(until: UInt64)
        case closed
    }

    private struct Request {
        let completion: Completion
        /// When it was sent (the loop's clock, ms).
        let sent: UInt64
        var answered = false
    }

    /// Requests in flight on one connection at most; beyond, callers use the worker pool.
    static let maxInFlight = 512
    static let firstBackoffMilliseconds: UInt64 = 100
    static let maxBackoffMilliseconds: UInt64 = 5_000

    private let loop: StorageLoop
    private let keywords: [String]
    private let values: [String]
    private var state = State.idle
    private var poll: UnsafeMutablePointer<uv_poll_t>?
    private var pollEvents: Int32 = 0
    private var requests: [Request] = []
    private var head = 0
    private var backoff: UInt64 = 0
    /// The client-side deadline of a request (ms; 0: none), and the timer that checks it.
    private let deadline: UInt64
    private var deadlineTimer: UnsafeMutablePointer<uv_timer_t>?
    /// Connections made so far (for tests: a reconnect shows as 2).
    private(set) var connections = 0
    /// Requests answered through this connection.
    private(set) var answered = 0

    /// A client for `parameters` (the pool's libpq keywords); `application_name` gets " loop".
    init(loop: StorageLoop, parameters: [(String, String)]) {
        self.loop = loop
        var parameters = parameters
        let application = parameters.last { $0.0 == "application_name" }?.1 ?? "plexus"
        parameters.append(("application_name", String(application.prefix(58)) + " loop"))
        keywords = parameters.map(\.0)
        values = parameters.map(\.1)
        deadline = UInt64(max(0, PostgresDeadline.milliseconds(in: parameters)))
    }

    deinit {
        // close() must have run on the loop; this only guards against a leak.
        if case .ready(let connection) = state { PQfinish(connection) }
    }

    /// Requests sent and not answered yet.
    var inFlight: Int { requests.count - head }

    // MARK: Sending

    /// Sends one prepared statement; `completion` runs on the loop with its outcome. Returns
    /// false (and `completion` is dropped) when the connection cannot take it now: the caller
    /// then uses the worker pool. Starts connecting when there is no connection.
    func send(_ statement: Statement, _ parameters: [StorageValue], _ completion: @escaping Completion) -> Bool {
        guard case .ready(let connection) = state else {
            startConnectingIfDue()
            return false
        }
        guard inFlight < Self.maxInFlight else { return false }
        let queued: Bool
        do throws(StorageError) {
            queued = try PostgresValues.withParameters(parameters) { (values, lengths, formats) throws(StorageError) -> Bool in
                values.withUnsafeBufferPointer { v in
                    lengths.withUnsafeBufferPointer { l in
                        formats.withUnsafeBufferPointer { f in
                            PQsendQueryPrepared(connection, statement.name, Int32(parameters.count), v.baseAddress, l.baseAddress, f.baseAddress, 0) == 1
                        }
                    }
                } && PQpipelineSync(connection) == 1
            }
        } catch {
            // A parameter libpq cannot carry: the worker reports it the usual way.
            return false
        }
        guard queued else {
            // Nothing of this request reached the server: let the worker run it.
            fail(PostgresErrors.connectionError(connection))
            return false
        }
        requests.append(Request(completion: completion, sent: uv_now(loop.uv)))
        switch PQflush(connection) {
        case 0: break
        case 1: watch(readable: true, writable: true)
        default: fail(PostgresErrors.connectionError(connection))
        }
        return true
    }

    // MARK: Connecting

    private func startConnectingIfDue() {
        switch state {
        case .idle: break
        case .waiting(let until) where uv_now(loop.uv) >= until: break
        default: return
        }
        state = .connecting
        let keywords = keywords, values = values
        let adopt = loop.bounce { [weak self] (outcome: LoopConfined<Result<OpaquePointer, StorageError>>) in
            guard let self else {
                if case .success(let connection) = outcome.value { PQfinish(connection) }
                return
            }
            self.adopt(outcome.value)
        }
        DispatchQueue.global().async {
            adopt(LoopConfined(Self.connect(keywords: keywords, values: values)))
        }
    }

    /// Connects, prepares every statement and switches to non-blocking pipeline mode (off the loop).
    private static func connect(keywords: [String], values: [String]) -> Result<OpaquePointer, StorageError> {
        guard let connection = PostgresConnection.connect(keywords: keywords, values: values) else {
            return .failure(PostgresErrors.connectionError(nil))
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let error = PostgresErrors.connectionError(connection)
            PQfinish(connection)
            return .failure(error)
        }
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        for statement in Statement.allCases {
            let types = statement.types
            let result = types.withUnsafeBufferPointer {
                PQprepare(connection, statement.name, statement.sql, Int32(types.count), $0.baseAddress)
            }
            defer { PQclear(result) }
            guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else {
                let error = PostgresErrors.error(result: result, connection: connection)
                PQfinish(connection)
                return .failure(error)
            }
        }
        guard PQsetnonblocking(connection, 1) == 0, PQenterPipelineMode(connection) == 1 else {
            let error = PostgresErrors.connectionError(connection)
            PQfinish(connection)
            return .failure(error)
        }
        return .success(connection)
    }

    private func adopt(_ outcome: Result<OpaquePointer, StorageError>) {
        guard case .connecting = state else {
            // Closed meanwhile.
            if case .success(let connection) = outcome { PQfinish(connection) }
            return
        }
        switch outcome {
        case .failure:
            waitBeforeReconnecting()
        case .success(let connection):
            let handle = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
            guard uv_poll_init(loop.uv, handle, PQsocket(connection)) == 0 else {
                handle.deallocate()
                PQfinish(connection)
                waitBeforeReconnecting()
                return
            }
            handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            poll = handle
            pollEvents = 0
            state = .ready(connection)
            backoff = 0
            connections += 1
            watch(readable: true, writable: false)
            startDeadlineTimer()
        }
    }

    /// Checks, a few times per deadline, that the oldest request in flight is not older than it.
    private func startDeadlineTimer() {
        guard deadline > 0 else { return }
        if deadlineTimer == nil {
            let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
            guard uv_timer_init(loop.uv, timer) == 0 else { return timer.deallocate() }
            timer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            // A check, not work: it does not keep the loop running.
            uv_unref(UnsafeMutableRawPointer(timer).assumingMemoryBound(to: uv_handle_t.self))
            deadlineTimer = timer
        }
        let every = max(50, deadline / 4)
        uv_timer_start(deadlineTimer, { timer in
            let client = Unmanaged<PostgresLoopClient>.fromOpaque(timer!.pointee.data).takeUnretainedValue()
            client.checkDeadline()
        }, every, every)
    }

    private func checkDeadline() {
        guard case .ready = state, head < requests.count, uv_now(loop.uv) >= requests[head].sent + deadline else { return }
        fail(PostgresDeadline.expired(Int(deadline)))
    }

    private func waitBeforeReconnecting() {
        backoff = min(max(Self.firstBackoffMilliseconds, backoff * 2), Self.maxBackoffMilliseconds)
        state = .waiting(until: uv_now(loop.uv) + backoff)
    }

    // MARK: Receiving

    private func watch(readable: Bool, writable: Bool) {
        guard let poll else { return }
        var events: Int32 = 0
        if readable { events |= Int32(UV_READABLE.rawValue) }
        if writable { events |= Int32(UV_WRITABLE.rawValue) }
        guard events != pollEvents else { return }
        pollEvents = events
        uv_poll_start(poll, events) { handle, status, events in
            let client = Unmanaged<PostgresLoopClient>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            client.socketReady(status: status, events: events)
        }
    }

    private func socketReady(status: Int32, events: Int32) {
        guard case .ready(let connection) = state else { return }
        if status < 0 {
            fail(StorageError(.unavailable, "PostgreSQL is unavailable: the connection's socket failed"))
            return
        }
        if events & Int32(UV_WRITABLE.rawValue) != 0 {
            switch PQflush(connection) {
            case 0: watch(readable: true, writable: false)
            case 1: break
            default:
                fail(PostgresErrors.connectionError(connection))
                return
            }
        }
        if events & Int32(UV_READABLE.rawValue) != 0, PQconsumeInput(connection) == 0 {
            fail(PostgresErrors.connectionError(connection))
            return
        }
        deliverResults(connection)
    }

    /// Hands every complete result to its request, in order.
    private func deliverResults(_ connection: OpaquePointer) {
        var ends = 0
        while head < requests.count {
            guard case .ready(let current) = state, current == connection else { return }
            if PQisBusy(connection) != 0 { break }
            guard let result = PQgetResult(connection) else {
                // The end of one statement's results; two in a row: nothing more has arrived.
                ends += 1
                if ends > 1 { break }
                continue
            }
            ends = 0
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC {
                PQclear(result)
                let request = requests[head]
                head += 1
                compact()
                if !request.answered {
                    request.completion(.failure(StorageError(.other, "PostgreSQL sent no result for the statement")))
                }
                continue
            }
            let outcome = Self.outcome(result, status: status, connection: connection)
            PQclear(result)
            if !requests[head].answered {
                requests[head].answered = true
                answered += 1
                let completion = requests[head].completion
                completion(outcome)
            }
        }
        if case .ready(let current) = state, current == connection, PQstatus(connection) != CONNECTION_OK {
            fail(PostgresErrors.connectionError(connection))
        }
    }

    private static func outcome(_ result: OpaquePointer, status: ExecStatusType, connection: OpaquePointer) -> Result<PostgresConnection.Outcome, StorageError> {
        switch status {
        case PGRES_TUPLES_OK:
            return .success(PostgresConnection.Outcome(result: PostgresValues.rows(result), changes: Int(PQntuples(result))))
        case PGRES_COMMAND_OK:
            let tuples = PQcmdTuples(result).map { String(cString: $0) } ?? ""
            return .success(PostgresConnection.Outcome(result: QueryResult(columns: [], rows: []), changes: Int(tuples) ?? 0))
        case PGRES_PIPELINE_ABORTED:
            return .failure(StorageError(.unavailable, "PostgreSQL aborted the statement (an earlier one in the pipeline failed)"))
        default:
            let error = PostgresErrors.error(result: result, connection: connection)
            if PQstatus(connection) != CONNECTION_OK && error.kind != .timeout {
                return .failure(StorageError(.unavailable, error.message, sqlState: error.sqlState))
            }
            return .failure(error)
        }
    }

    private func compact() {
        if head > 64 && head * 2 > requests.count {
            requests.removeFirst(head)
            head = 0
        }
    }

    // MARK: Failing and closing

    /// Drops the connection, fails every request in flight with `error` (as `.unavailable`) and
    /// waits before connecting again.
    private func fail(_ error: StorageError) {
        let waiting = dropConnection()
        waitBeforeReconnecting()
        let failure = StorageError(.unavailable, error.message, sqlState: error.sqlState)
        for request in waiting where !request.answered { request.completion(.failure(failure)) }
    }

    private func dropConnection() -> [Request] {
        if case .ready(let connection) = state { PQfinish(connection) }
        if let deadlineTimer { uv_timer_stop(deadlineTimer) }
        state = .idle
        if let poll {
            uv_poll_stop(poll)
            uv_close(UnsafeMutableRawPointer(poll).assumingMemoryBound(to: uv_handle_t.self)) { handle in
                UnsafeMutableRawPointer(handle!).assumingMemoryBound(to: uv_poll_t.self).deallocate()
            }
        }
        poll = nil
        pollEvents = 0
        let waiting = Array(requests[head...])
        requests = []
        head = 0
        return waiting
    }

    /// Closes the connection; requests in flight fail with `.closed`. Idempotent.
    func close() {
        if case .closed = state { return }
        let waiting = dropConnection()
        state = .closed
        if let timer = deadlineTimer {
            deadlineTimer = nil
            uv_close(UnsafeMutableRawPointer(timer).assumingMemoryBound(to: uv_handle_t.self)) { handle in
                UnsafeMutableRawPointer(handle!).assumingMemoryBound(to: uv_timer_t.self).deallocate()
            }
        }
        let error = StorageError(.closed, "the storage engine is closed")
        for request in waiting where !request.answered { request.completion(.failure(error)) }
    }
}
