import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PlexusTesting
import XCTest

/// The runtime's side of ABI 1.6's `on_request_abandoned`, seen by a C plugin: the reason of each
/// notice (a deadline, a client that left), never inside one of the plugin's host calls, and the
/// bulkhead slot held until the plugin's late answer.
final class AbandonNoticeTests: XCTestCase {
    func testThePluginIsToldWhyAndItsSlotIsHeldUntilItsLateAnswer() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["abandon-c"], extra: """
            [resilience.plugins.abandon-c]
            max_concurrent = 1
            timeout_ms = 200

            """)
        let late = try plexus.get("/api/v1/abandon/hold", anonymous: true)
        XCTAssertEqual(late.status, 504, late.text)
        // The plugin answers a second after the notice: until then its one slot is taken.
        let full = try plexus.get("/api/v1/abandon/seen", anonymous: true)
        XCTAssertEqual(full.status, 503, "the abandoned request still holds the slot: \(full.text)")
        XCTAssertEqual(try eventuallySeen(plexus) { $0.contains("late=1") }, "deadline=1 gone=0 stopping=0 inside=0 late=1\n")

        // A client that goes away (a reset) while its request is held.
        let socket = try Self.connect(port: plexus.port)
        _ = Array("GET /api/v1/abandon/hold-long HTTP/1.1\r\nHost: t\r\n\r\n".utf8).withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
        usleep(100_000)
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(socket)
        XCTAssertEqual(try eventuallySeen(plexus) { $0.contains("late=2") }, "deadline=1 gone=1 stopping=0 inside=0 late=2\n")
        XCTAssertEqual(plexus.stop(), 0)
    }

    /// A shutdown whose grace period ends while the plugin still holds a request: the client gets
    /// a 503 (not a cut connection), and the plugin is told `PLUGIN_STOPPING` before its `on_stop`.
    func testShutdownTellsThePluginItIsStoppingAndAnswersTheClient() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["abandon-c"], serverSettings: "shutdown_grace_ms = 300")
        let socket = try Self.connect(port: plexus.port)
        defer { close(socket) }
        _ = Array("GET /api/v1/abandon/hold-long HTTP/1.1\r\nHost: t\r\n\r\n".utf8).withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
        // The request is held once a later one on another connection is answered (one loop serves both).
        XCTAssertEqual(try plexus.get("/api/v1/abandon/seen", anonymous: true).status, 200)
        usleep(100_000)
        XCTAssertEqual(plexus.stop(), 0)
        var answer = [UInt8](repeating: 0, count: 4096)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let count = recv(socket, &answer, answer.count, 0)
        let text = count > 0 ? String(decoding: answer[..<count], as: UTF8.self) : ""
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 503 "), "the held request is answered before the plugin stops: \(text)")
        XCTAssertTrue(text.contains("shutting down"), text)
        XCTAssertTrue(plexus.log.contains("abandon-c stopping with deadline=0 gone=0 stopping=1 inside=0"),
                      "the plugin was told PLUGIN_STOPPING before on_stop: \(plexus.log)")
    }

    /// `/api/v1/abandon/seen` once it answers and `done` holds (up to 10 s; 503 while the slot is held).
    private func eventuallySeen(_ plexus: TestRuntime, _ done: (String) -> Bool) throws -> String {
        var last = ""
        for _ in 0..<200 {
            let response = try plexus.get("/api/v1/abandon/seen", anonymous: true)
            last = response.text
            if response.status == 200, done(response.text) { return response.text }
            usleep(50_000)
        }
        return last
    }

    private static func connect(port: Int) throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { throw TestFailure("connect to port \(port) failed: errno \(errno)") }
        return fd
    }
}
