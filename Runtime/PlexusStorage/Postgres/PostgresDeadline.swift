import CLibPQ
import Foundation

/// How a libpq connection notices a PostgreSQL server that vanished without closing the
/// connection (no FIN or RST: a host that lost power, a network cut, a middlebox that drops
/// the flow):
///
/// - every connection (pool, loop, change listener, administrator) asks the kernel for TCP
///   keepalives and a `tcp_user_timeout` (``parameters(for:)``), so an idle connection or one
///   whose bytes stay unacknowledged is closed by the kernel;
/// - a request in flight also has a deadline of its own on the client: the statement timeout
///   plus ``marginMilliseconds`` (the server answers every statement within its timeout, so a
///   longer silence means it cannot). Past it the request fails as `.unavailable` (503) and the
///   connection is dropped; the next call makes a new one. This also covers a peer that still
///   acknowledges bytes at the TCP level but answers nothing (a stalled proxy).
///
/// With `statement_timeout_ms = 0` (no limit) there is no client deadline; keepalives remain.
enum PostgresDeadline {
    /// What the client waits beyond the statement timeout before it gives up on an answer.
    static let marginMilliseconds = 2_000
    /// Keepalive probes: the first after 10 s idle, then every 5 s, 3 unanswered close the connection.
    static let keepalives: [(String, String)] = [
        ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"), ("keepalives_count", "3"),
    ]

    /// The client-side deadline of one request (ms) for `settings`; 0: none.
    static func milliseconds(_ settings: PostgresSettings) -> Int {
        settings.statementTimeoutMilliseconds == 0 ? 0 : settings.statementTimeoutMilliseconds + marginMilliseconds
    }

    /// The keepalive and `tcp_user_timeout` keywords for a connection with `settings`.
    static func parameters(for settings: PostgresSettings) -> [(String, String)] {
        keepalives + [("tcp_user_timeout", String(milliseconds(settings)))]
    }

    /// The client deadline (ms) a connection's keywords carry (its `tcp_user_timeout`); 0: none.
    static func milliseconds(in parameters: [(String, String)]) -> Int {
        parameters.last { $0.0 == "tcp_user_timeout" }.flatMap { Int($0.1) } ?? 0
    }

    /// The error of a request that got no answer within `milliseconds`.
    static func expired(_ milliseconds: Int) -> StorageError {
        StorageError(.unavailable, "PostgreSQL did not answer within \(milliseconds) ms (the statement timeout and a \(marginMilliseconds) ms margin): "
            + "the server or the network stopped responding; the connection was dropped and the next call connects again")
    }

    /// Sends with `send` (a `PQsend…` call) and waits for every result, at most `milliseconds`
    /// (0: no limit): what `PQexec` does, with a deadline. Returns the last result (nil when the
    /// connection failed: the caller reads `PQerrorMessage`).
    /// - Throws: ``expired(_:)`` when the deadline passed (the caller drops the connection).
    static func exchange(_ connection: OpaquePointer, milliseconds: Int, _ send: (OpaquePointer) -> Int32) throws(StorageError) -> OpaquePointer? {
        guard send(connection) == 1 else { return nil }
        let deadline = milliseconds > 0 ? DispatchTime.now().uptimeNanoseconds + UInt64(milliseconds) * 1_000_000 : nil
        // The request may not be fully written yet (non-blocking mode).
        while true {
            let flushed = PQflush(connection)
            if flushed == 0 { break }
            if flushed < 0 { return nil }
            let events = try wait(connection, for: Int16(POLLIN | POLLOUT), until: deadline, milliseconds: milliseconds)
            if events & Int16(POLLIN) != 0, PQconsumeInput(connection) == 0 { return nil }
        }
        var last: OpaquePointer?
        while true {
            while PQisBusy(connection) == 1 {
                do {
                    _ = try wait(connection, for: Int16(POLLIN), until: deadline, milliseconds: milliseconds)
                } catch {
                    PQclear(last)
                    throw error
                }
                if PQconsumeInput(connection) == 0 {
                    PQclear(last)
                    return nil
                }
            }
            guard let result = PQgetResult(connection) else { break }
            PQclear(last)
            last = result
            if PQstatus(connection) == CONNECTION_BAD { break }
        }
        return last
    }

    /// Waits until the socket has one of `events`, or throws ``expired(_:)`` past `deadline`.
    private static func wait(_ connection: OpaquePointer, for events: Int16, until deadline: UInt64?, milliseconds: Int) throws(StorageError) -> Int16 {
        var descriptor = pollfd(fd: PQsocket(connection), events: events, revents: 0)
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let now = DispatchTime.now().uptimeNanoseconds
                guard now < deadline else { throw expired(milliseconds) }
                timeout = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
            }
            let ready = poll(&descriptor, 1, timeout)
            if ready > 0 { return descriptor.revents }
            if ready < 0, errno != EINTR { return Int16(POLLERR) }
        }
    }
}
