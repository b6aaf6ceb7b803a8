import COpenSSL
import Foundation

/// The server side of the RFC 6455 opening handshake.
///
/// SHA-1 comes from the system's libcrypto (OpenSSL 3, `EVP_Digest` with `EVP_sha1`): Foundation
/// on Linux has no SHA-1, and a vetted library beats a hand-rolled digest.
enum WebSocketHandshake {
    /// The GUID RFC 6455 section 1.3 appends to the client's key.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Why a handshake was refused: the status, the header at fault and extra response headers.
    struct Refusal: Error {
        let status: Int
        let detail: String
        let headers: [(String, String)]
    }

    /// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
    static func accept(key: String) -> String {
        Data(sha1(Array((key + guid).utf8))).base64EncodedString()
    }

    /// SHA-1 of `bytes` (20 bytes).
    static func sha1(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = bytes.withUnsafeBytes { input in
            EVP_Digest(input.baseAddress, input.count, &digest, &length, EVP_sha1(), nil)
        }
        precondition(ok == 1 && length == 20, "libcrypto SHA-1 failed")
        return Array(digest[..<20])
    }

    /// Checks the upgrade request and returns the `Sec-WebSocket-Accept` value.
    static func validate(_ exchange: HTTPExchange) throws(Refusal) -> String {
        func header(_ value: UnsafeRawBufferPointer?) -> String? {
            value.map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespaces) }
        }
        func tokens(_ text: String?) -> [String] {
            (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        }
        guard tokens(header(exchange.header("upgrade"))).contains("websocket") else {
            throw Refusal(status: 426, detail: "this endpoint speaks WebSocket only: send 'Upgrade: websocket' and 'Connection: Upgrade'",
                          headers: [("Upgrade", "websocket"), ("Connection", "Upgrade")])
        }
        guard exchange.httpMinor >= 1 else {
            throw Refusal(status: 400, detail: "a WebSocket upgrade needs HTTP/1.1", headers: [])
        }
        guard tokens(header(exchange.header("connection"))).contains("upgrade") else {
            throw Refusal(status: 400, detail: "header 'Connection' must contain 'Upgrade'", headers: [])
        }
        guard header(exchange.header("sec-websocket-version")) == "13" else {
            throw Refusal(status: 400, detail: "header 'Sec-WebSocket-Version' must be 13", headers: [("Sec-WebSocket-Version", "13")])
        }
        guard let key = header(exchange.header("sec-websocket-key")), let nonce = Data(base64Encoded: key), nonce.count == 16 else {
            throw Refusal(status: 400, detail: "header 'Sec-WebSocket-Key' must be 16 bytes in base64", headers: [])
        }
        return accept(key: key)
    }
}
