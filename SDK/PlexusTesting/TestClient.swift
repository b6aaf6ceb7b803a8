import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP response as read off the wire by ``TestClient``.
public struct TestResponse: Sendable {
    /// The status code.
    public let status: Int
    /// The header fields, in order.
    public let headers: [(String, String)]
    /// The body bytes.
    public let body: [UInt8]
    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }
}

/// What went wrong in a test helper, said plainly.
public struct TestFailure: Error, CustomStringConvertible {
    /// The explanation.
    public let description: String
    /// Creates a failure.
    public init(_ description: String) { self.description = description }
}

/// A blocking TCP client that speaks raw bytes over loopback, so tests can send well-formed,
/// malformed or pipelined HTTP and read exactly what the server answered.
public final class TestClient {
    typealias Response = TestResponse

    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to `127.0.0.1:port`; reads time out after `timeoutSeconds`; `receiveBuffer`
    /// shrinks the socket's receive buffer (for tests of a client that stalls).
    public init(port: Int, timeoutSeconds: Int = 10, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { throw TestFailure("connect to port \(port) failed: errno \(errno)") }
    }

    deinit { close(fd) }

    /// Sends text as UTF-8 bytes.
    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends bytes.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestFailure("send failed: errno \(errno)") }
            offset += sent
        }
    }

    /// Reads one response; `headOnly` for responses to HEAD (no body despite Content-Length).
    public func readResponse(headOnly: Bool = false) throws -> TestResponse {
        let head = String(decoding: try read(upTo: Array("\r\n\r\n".utf8)), as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestFailure("bad status line in \(head)") }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let response = Response(status: status, headers: headers, body: [])
        if status == 100 { return response }
        let length = headOnly ? 0 : (response.header("Content-Length").flatMap(Int.init) ?? 0)
        return Response(status: status, headers: headers, body: try read(count: length))
    }

    /// Reads a response head only (status and headers), leaving the body unread: for streams.
    public func readHead() throws -> TestResponse {
        try readResponse(headOnly: true)
    }

    /// Reads one chunk of a chunked body; `nil` after the terminating chunk.
    public func readChunk() throws -> [UInt8]? {
        let sizeText = String(decoding: try read(upTo: Array("\r\n".utf8)), as: UTF8.self)
        guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else { throw TestFailure("bad chunk size line '\(sizeText)'") }
        let chunk = try read(count: size + 2).dropLast(2)
        return size == 0 ? nil : Array(chunk)
    }

    /// Whether the server closed the connection (reads until EOF or timeout).
    public func readsEOF() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    /// The next `count` bytes the server sent, waiting for them (for protocols framed by length,
    /// such as WebSocket frames after the upgrade).
    public func read(count: Int) throws -> [UInt8] {
        while buffer.count < count { try fill() }
        defer { buffer.removeSubrange(..<count) }
        return Array(buffer[..<count])
    }

    /// The bytes before the next `delimiter`, waiting for it; the delimiter is read too.
    private func read(upTo delimiter: [UInt8]) throws -> [UInt8] {
        while true {
            if let found = buffer.firstRange(of: delimiter) {
                defer { buffer.removeSubrange(..<found.upperBound) }
                return Array(buffer[..<found.lowerBound])
            }
            try fill()
        }
    }

    /// The one place bytes are received: appends what one `recv` returned to the buffer.
    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw TestFailure(count == 0 ? "connection closed by server" : "recv failed: errno \(errno)") }
        buffer.append(contentsOf: chunk[..<count])
    }

    /// One request on a fresh connection; `headers` are extra header lines, each ending in CRLF.
    public static func request(_ method: String, _ path: String, port: Int, headers: String = "", body: [UInt8] = []) throws -> TestResponse {
        let client = try TestClient(port: port)
        let length = body.isEmpty && method == "GET" ? "" : "Content-Length: \(body.count)\r\n"
        try client.send("\(method) \(path) HTTP/1.1\r\nHost: test\r\n\(headers)\(length)Connection: close\r\n\r\n")
        if !body.isEmpty { try client.send(body) }
        return try client.readResponse(headOnly: method == "HEAD")
    }

    /// A `GET` on a fresh connection.
    public static func get(_ path: String, port: Int, headers: String = "") throws -> TestResponse {
        try request("GET", path, port: port, headers: headers)
    }
}
