import Foundation
import PlexusTesting

/// A blocking RFC 6455 client over a raw socket (a ``TestClient`` connection, whose reader it
/// uses), so tests can send well-formed or deliberately broken frames (unmasked, binary,
/// oversized) and read exactly what the server framed.
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

    /// The connection: ``TestClient`` sends, and its reader receives the handshake's answer and the frames.
    private let connection: TestClient

    /// Connects to `127.0.0.1:port`; `receiveBuffer` shrinks the socket's receive buffer (stalled-client tests).
    public init(port: Int, timeoutSeconds: Int = 10, receiveBuffer: Int32? = nil) throws {
        connection = try TestClient(port: port, timeoutSeconds: timeoutSeconds, receiveBuffer: receiveBuffer)
    }

    /// Connects and completes the opening handshake (checking the accept value).
    public static func open(port: Int, query: String = "", receiveBuffer: Int32? = nil, credential: String? = nil) throws -> WebSocketClient {
        let client = try WebSocketClient(port: port, receiveBuffer: receiveBuffer)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try client.sendRaw(Array(Self.upgradeRequest(path: "/api/v1/events/ws\(query)", key: key, credential: credential).utf8))
        let head = try client.readHead()
        guard head.status == 101 else { throw TestFailure("expected 101, got \(head.status): \(head.headers) \(head.text)") }
        guard head.header("Sec-WebSocket-Accept") != nil else { throw TestFailure("no Sec-WebSocket-Accept in \(head.headers)") }
        return client
    }

    public static func upgradeRequest(path: String = "/api/v1/events/ws", key: String = "dGhlIHNhbXBsZSBub25jZQ==", version: String = "13",
                               connection: String = "Upgrade", upgrade: String? = "websocket", credential: String? = nil) -> String {
        "GET \(path) HTTP/1.1\r\nHost: t\r\n" + (credential.map { "Authorization: Bearer \($0)\r\n" } ?? "") + (upgrade.map { "Upgrade: \($0)\r\n" } ?? "")
            + "Connection: \(connection)\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: \(version)\r\n\r\n"
    }

    public func sendRaw(_ bytes: [UInt8]) throws { try connection.send(bytes) }

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

    /// The answer to the upgrade request: `101`, or a refusal with its body.
    public typealias Head = TestResponse

    /// Reads an HTTP response head (and a Content-Length body, for refusals).
    public func readHead() throws -> Head { try connection.readResponse() }

    /// The next frame from the server (which must not mask).
    public func readFrame() throws -> Frame {
        let start = try connection.read(count: 2)
        guard start[1] & 0x80 == 0 else { throw TestFailure("server frames must not be masked") }
        var length = Int(start[1] & 0x7F)
        if length >= 126 {
            length = try connection.read(count: length == 126 ? 2 : 8).reduce(0) { $0 << 8 | Int($1) }
        }
        return Frame(fin: start[0] & 0x80 != 0, opcode: start[0] & 0x0F, payload: try connection.read(count: length))
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
    public func readsEOF() -> Bool { connection.readsEOF() }
}
