import CPlexusShims
import Foundation
import Logging
@testable import PlexusRuntime
import XCTest

/// The master's and the worker's ends of the connection handover, over a real socketpair, a real
/// shared table and real loopback TCP connections (no worker process).
final class ConnectionKeeperTests: XCTestCase {
    private let logger = Logger(label: "test")

    /// A connected loopback pair: (the client's descriptor, the server's accepted descriptor).
    private func tcpPair() throws -> (client: Int32, server: Int32) {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(listener, $0, length) == 0, listen(listener, 4) == 0, getsockname(listener, $0, &length) == 0 else { throw TestError("listen") }
            }
        }
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard connect(client, $0, length) == 0 else { throw TestError("connect") }
            }
        }
        let server = accept(listener, nil, nil)
        guard server >= 0 else { throw TestError("accept") }
        return (client, server)
    }

    private struct TestError: Error { let text: String; init(_ text: String) { self.text = text } }

    /// Everything the peer receives until it closes (or 5 s pass).
    private func readAll(_ fd: Int32) -> String {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            out += chunk[..<count]
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func makePair() throws -> (keeper: ConnectionKeeper, worker: ConnectionHandover, table: UnsafeMutableRawPointer, channel: Int32) {
        let keeper = try XCTUnwrap(ConnectionKeeper.prepare(adopting: [], logger: logger))
        let inherited = keeper.inherited
        let channel = dup(inherited.sources[0])
        let worker = try ConnectionHandover(channelFD: channel, tableFD: dup(inherited.sources[1]), logger: logger)
        let table = try XCTUnwrap(plexus_handover_table_map(inherited.sources[1]))
        return (keeper, worker, table, channel)
    }

    func testConnectionsAreSortedByTheStateTheWorkerPublished() throws {
        let (keeper, worker, table, channel) = try makePair()
        defer { keeper.close(); close(channel); plexus_handover_table_unmap(table) }
        plexus_handover_table_set_plugin(table, 0, "good")
        plexus_handover_table_set_plugin(table, 1, "crashy")
        let idle = try tcpPair(), inGood = try tcpPair(), inCrashy = try tcpPair(), streaming = try tcpPair(), ended = try tcpPair()
        var slots: [UInt32] = []
        for pair in [idle, inGood, inCrashy, streaming, ended] {
            let slot = worker.register(fd: pair.server)
            XCTAssertNotEqual(slot, ConnectionHandover.noSlot)
            slots.append(slot)
        }
        worker.publish(slots[1], plexus_slot_plugin + 0)
        worker.publish(slots[2], plexus_slot_plugin + 1)
        worker.publish(slots[3], plexus_slot_unsafe)
        worker.release(slots[4], fd: ended.server)
        // The worker's own descriptors go with it (as when it dies).
        for pair in [idle, inGood, inCrashy, streaming, ended] { close(pair.server) }

        let (handed, outcome) = keeper.takeOver(blaming: "crashy")
        XCTAssertEqual(outcome.description, "1 handed to the next worker, 1 answered 502, 1 answered 503, 1 closed")
        XCTAssertEqual(handed.count, 1)
        let crashyAnswer = readAll(inCrashy.client)
        XCTAssertTrue(crashyAnswer.hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"), crashyAnswer)
        XCTAssertTrue(crashyAnswer.contains("Connection: close\r\n"), crashyAnswer)
        XCTAssertTrue(crashyAnswer.contains("plugin 'crashy' crashed the worker"), crashyAnswer)
        let goodAnswer = readAll(inGood.client)
        XCTAssertTrue(goodAnswer.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), goodAnswer)
        XCTAssertTrue(goodAnswer.contains("Retry-After: 1\r\n"), goodAnswer)
        XCTAssertEqual(readAll(streaming.client), "", "a stream is closed without a word")
        XCTAssertEqual(readAll(ended.client), "", "a connection the worker ended stays ended")
        // The idle one is still open, through the master's copy alone.
        let greeting = Array("still here".utf8)
        XCTAssertEqual(send(handed[0], greeting, greeting.count, 0), greeting.count)
        var received = [UInt8](repeating: 0, count: 32)
        XCTAssertEqual(recv(idle.client, &received, received.count, 0), greeting.count)
        for fd in handed { close(fd) }
        for pair in [idle, inGood, inCrashy, streaming, ended] { close(pair.client) }
    }

    func testWordsAWorkerSendsAreCheckedNotTrusted() throws {
        let (keeper, _, table, channel) = try makePair()
        defer { keeper.close(); close(channel); plexus_handover_table_unmap(table) }
        let outside = try tcpPair(), extra = try tcpPair()
        // A slot past the table, an unknown close, a kind that does not exist, and a descriptor no word claims.
        let words = [plexus_handover_word(plexus_handover_open, 0xFF_FFFF), plexus_handover_word(plexus_handover_closed, 7),
                     plexus_handover_word(9, 1)]
        let fds = [outside.server, extra.server]
        XCTAssertEqual(plexus_handover_send(channel, words, words.count, fds, fds.count), 0)
        close(outside.server)
        close(extra.server)
        keeper.receive()
        XCTAssertEqual(readAll(outside.client), "", "the copy for a slot past the table is closed")
        XCTAssertEqual(readAll(extra.client), "", "a descriptor no word claims is closed")
        let (handed, outcome) = keeper.takeOver(blaming: nil)
        XCTAssertTrue(handed.isEmpty)
        XCTAssertEqual(outcome.description, "0 handed to the next worker, 0 answered 502, 0 answered 503, 0 closed")
        close(outside.client)
        close(extra.client)
    }

    /// The connection table's memfd is sealed at its size: a worker cannot shrink it under the
    /// master's mapping.
    func testTheConnectionTableSizeIsSealed() throws {
        let fd = plexus_handover_table_create()
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertEqual(plexus_memfd_size_is_sealed(fd), 1)
        XCTAssertNotEqual(ftruncate(fd, 0), 0, "shrinking the table is refused")
        XCTAssertEqual(errno, EPERM)
        let table = plexus_handover_table_map(fd)
        XCTAssertNotNil(table, "the sealed table still maps")
        plexus_handover_table_unmap(table)
    }
}
