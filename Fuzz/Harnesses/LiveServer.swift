import CLibUV
import Foundation
import Logging
@testable import PlexusRuntime

/// The runtime's HTTP server on loopback, fed one input per connection: llhttp, the head and
/// body framing checks, the request target, routing, the WebSocket handshake and frames.
///
/// One server lives for the whole process (as in production: many connections, one loop). Each
/// input is written on a fresh client socket, which then half-closes; the loop runs until the
/// server has closed the connection, so every input ends with the server's own close.
final class LiveServer {
    static let shared = LiveServer()

    let loop = EventLoop()
    let registry = RouteRegistry()
    let server: HTTPServer
    let events: EventRouter
    private(set) var port: UInt16 = 0
    /// The handshake the `websocket` harness puts before its input.
    static let upgradeHead = Array(("GET /api/v1/events/ws?topic=fuzz.%23 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").utf8)

    private init() {
        let logger = Logger(label: "plexus-fuzz") { _ in SwiftLogNoOpLogHandler() }
        var limits = HTTPLimits()
        limits.maxBodyBytes = 1 << 20
        server = HTTPServer(loop: loop, limits: limits, logger: logger, routes: registry, metrics: nil)
        events = EventRouter(loop: loop, logger: logger)
        // A public route that reads a body (Content-Length or chunked) and answers its size.
        for method in ["POST", "PUT"] {
            registry.addBuiltin(method, "/echo", BuiltinEndpoint(access: .public) { exchange in
                BuiltinResponse(status: 200, headers: [("Content-Type", "text/plain")], body: Array("\(exchange.body.count)".utf8))
            })
        }
        registry.addBuiltin("GET", "/hello/:name", BuiltinEndpoint(access: .public) { exchange in
            BuiltinResponse(status: 200, headers: [], body: Array(exchange.path.utf8))
        })
        WebSocketEndpoint.install(on: server, events: events, pingMilliseconds: 60_000,
                                  sessions: LiveSessions(loop: loop, keys: { nil }))
        let address = try! server.listen(host: "127.0.0.1", port: 0)
        port = UInt16(address.split(separator: ":").last.flatMap { UInt16($0) } ?? 0)
        precondition(port != 0, "the fuzz server did not report its port: \(address)")
    }

    /// Sends `bytes` on a new connection, half-closes, and runs the loop until the server closes it.
    func exchange(_ head: [UInt8], _ input: UnsafeRawBufferPointer) {
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(client >= 0, "socket: \(errno)")
        defer { close(client) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        // libFuzzer's timer signal can interrupt connect; the connection then completes on its own.
        while withUnsafePointer(to: &address, {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }) != 0 {
            if errno == EISCONN { break }
            precondition(errno == EINTR || errno == EALREADY || errno == EINPROGRESS, "connect: \(errno)")
            usleep(100)
        }
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
        var pending = head + Array(input)
        var sent = 0
        var halfClosed = false
        var buffer = [UInt8](repeating: 0, count: 65_536)
        // Bounded: a server that never closes is a finding (libFuzzer's -timeout reports the hang).
        while true {
            uv_run(loop.uv, UV_RUN_NOWAIT)
            if sent < pending.count {
                let wrote = pending.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                if wrote > 0 { sent += wrote } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { sent = pending.count }
            } else if !halfClosed {
                shutdown(client, Int32(SHUT_WR))
                halfClosed = true
                pending = []
                sent = 0
            }
            let got = recv(client, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { break }
            if got < 0 && sent >= pending.count && halfClosed {
                // Nothing to read yet: let the loop wait for the server's next step.
                uv_run(loop.uv, UV_RUN_ONCE)
            }
        }
        // Let the server finish closing its side (close callbacks run on the next iterations).
        for _ in 0..<4 { uv_run(loop.uv, UV_RUN_NOWAIT) }
    }
}

/// The HTTP harnesses over the live server.
enum LiveHarnesses {
    static let all: [Harness] = [
        Harness(name: "http", summary: "bytes a client sends on one connection: heads, bodies (chunked, Content-Length), pipelining", run: http),
        Harness(name: "websocket", summary: "frames a client sends after a valid WebSocket handshake (wslay + the session's messages)", run: websocket),
    ]

    static func http(_ input: UnsafeRawBufferPointer) {
        LiveServer.shared.exchange([], input)
    }

    static func websocket(_ input: UnsafeRawBufferPointer) {
        LiveServer.shared.exchange(LiveServer.upgradeHead, input)
    }
}
