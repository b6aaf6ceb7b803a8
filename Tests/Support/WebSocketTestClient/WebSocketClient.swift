import Foundation
import PlexusTesting

/// A blocking RFC 6455 client over a raw socket, so tests can send well-formed or deliberately
/// broken frames (unmasked, binary, oversized) and read exactly what the server framed.
public final class WebSocketClient {
    public struct Frame {
        public var fin: Bool
        public var opcode: UInt8
        public var payload: [UInt8]
        public var text: String { String(decoding: payload, as: UTF8.self) }
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] ?? [:] }
        /// The status code of a close frame.
        public var closeCode: UInt16? { opcode == 8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
    }

    public static let text: UInt8 = 1, binary: UInt8 = 2, close: UInt8 = 8, ping: UInt8 = 9, pong: UInt8 = 10

    private let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to `127.0.0.1:port`; `receiveBuffer` shrinks the socket's receive buffer (stalled-client tests).
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

    deinit { Glibc.close(fd) }

    /// Connects and completes the opening handshake (checking the accept value).
    public static func open(port: Int, query: String = "", receiveBuffer: Int32? = nil, credential: String? = nil) throws -> WebSocketClient {
        let client = try WebSocketClient(port: port, receiveBuffer: receiveBuffer)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try client.sendRaw(Array(Self.upgradeRequest(path: "/api/v1/events/ws\(query)", key: key, credential: credential).utf8))
        let head = try client.readHead()
        guard head.status == 101 else { throw TestFailure("expected 101, got \(head.status): \(head.raw)") }
        guard head.header("Sec-WebSocket-Accept") != nil else { throw TestFailure("no Sec-WebSocket-Accept in \(head.raw)") }
        return client
    }

    public static func upgradeRequest(path: String = "/api/v1/events/ws", key: String = "dGhlIHNhbXBsZSBub25jZQ==", version: String = "13",
                               connection: String = "Upgrade", upgrade: String? = "websocket", credential: String? = nil) -> String {
        "GET \(path) HTTP/1.1\r\nHost: t\r\n" + (credential.map { "Authorization: Bearer \($0)\r\n" } ?? "") + (upgrade.map { "Upgrade: \($0)\r\n" } ?? "")
            + "Connection: \(connection)\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: \(version)\r\n\r\n"
    }

    public func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw TestFailure("send failed: errno \(errno)") }
            offset += sent
        }
    }

    /// Sends one frame, masked as RFC 6455 requires of clients unless `masked` is false.
    public func sendFrame(_ opcode: UInt8, _ payload: [UInt8], masked: Bool = true, fin: Bool = true) throws {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            frame.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame.append(maskBit | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(maskBit | 127)
            frame += (0..<8).reversed().map { UInt8((UInt64(payload.count) >> (8 * UInt64($0))) & 0xFF) }
        }
        if masked {
            let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
            frame += mask
            frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        } else {
            frame += payload
        }
        try sendRaw(frame)
    }

    public func sendJSON(_ object: [String: Any]) throws {
        try sendFrame(Self.text, Array(try JSONSerialization.data(withJSONObject: object)))
    }

    public func sendClose(_ code: UInt16, reason: String = "") throws {
        try sendFrame(Self.close, [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8))
    }

    public struct Head {
        public let status: Int
        public let headers: [(String, String)]
        public let raw: String
        public let body: String
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// Reads an HTTP response head (and a Content-Length body, for refusals).
    public func readHead() throws -> Head {
        let separator = Array("\r\n\r\n".utf8)
        while buffer.firstRange(of: separator) == nil { try fill() }
        let end = buffer.firstRange(of: separator)!
        let raw = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
        buffer.removeSubrange(..<end.upperBound)
        var lines = raw.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw TestFailure("bad status line in \(raw)") }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0
        while buffer.count < length { try fill() }
        let body = String(decoding: buffer[..<length], as: UTF8.self)
        buffer.removeSubrange(..<length)
        return Head(status: status, headers: headers, raw: raw, body: body)
    }

    /// The next frame from the server (which must not mask).
    public func readFrame() throws -> Frame {
        while buffer.count < 2 { try fill() }
        guard buffer[1] & 0x80 == 0 else { throw TestFailure("server frames must not be masked") }
        var length = Int(buffer[1] & 0x7F)
        var headerLength = 2
        if length == 126 {
            while buffer.count < 4 { try fill() }
            length = Int(buffer[2]) << 8 | Int(buffer[3])
            headerLength = 4
        } else if length == 127 {
            while buffer.count < 10 { try fill() }
            length = buffer[2..<10].reduce(0) { $0 << 8 | Int($1) }
            headerLength = 10
        }
        while buffer.count < headerLength + length { try fill() }
        let frame = Frame(fin: buffer[0] & 0x80 != 0, opcode: buffer[0] & 0x0F, payload: Array(buffer[headerLength..<headerLength + length]))
        buffer.removeSubrange(..<(headerLength + length))
        return frame
    }

    /// The next text message as JSON, skipping server pings.
    public func nextJSON() throws -> [String: Any] {
        while true {
            let frame = try readFrame()
            if frame.opcode == Self.ping { continue }
            guard frame.opcode == Self.text else { throw TestFailure("expected a text frame, got opcode \(frame.opcode) \(frame.text)") }
            return frame.json
        }
    }

    /// Whether the server closed the connection (whatever it sent first is discarded).
    public func readsEOF() -> Bool {
        buffer.removeAll()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw TestFailure(count == 0 ? "connection closed" : "read failed: errno \(errno)") }
        buffer.append(contentsOf: chunk[..<count])
    }
}
