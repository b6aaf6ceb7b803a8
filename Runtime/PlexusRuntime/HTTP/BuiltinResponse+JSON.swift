import Foundation
import Logging

extension BuiltinResponse {
    /// A JSON response (sorted keys, slashes unescaped).
    static func json(status: Int = 200, _ value: Any) -> Self {
        let body = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Self(status: status, headers: [("Content-Type", "application/json")], body: Array(body))
    }

    /// A 5xx problem for a failure inside the server (storage, the audit log, the event log):
    /// `error` goes to `logger` with the request id, the client gets `what` and the request id
    /// only, never the error's text (it can name server paths).
    static func internalFailure(_ status: Int, _ what: String, _ error: Error, _ exchange: HTTPExchange, logger: Logger) -> Self {
        logger.error("\(what)", metadata: ["error": "\(error)", "request_id": "\(exchange.requestID)", "path": "\(exchange.path)"])
        return problem(status, "\(what); the server log has the details under request id \(exchange.requestID)", exchange)
    }

    /// An RFC 9457 problem+json answer to `exchange`.
    static func problem(_ status: Int, _ detail: String, _ exchange: HTTPExchange) -> Self {
        Self(status: status, headers: [("Content-Type", "application/problem+json")],
             body: ProblemJSON.body(status: status, detail: detail, instance: exchange.requestID))
    }
}

/// The body of every problem+json response the runtime writes itself (RFC 9457).
enum ProblemJSON {
    /// `{"detail","instance","status","title","type"}` (keys sorted), encoded by hand: the
    /// gateway answers floods of refusals with it, and JSONSerialization costs far more.
    static func body(status: Int, detail: String, instance: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + detail.utf8.count + instance.utf8.count)
        out.append(contentsOf: #"{"detail":"#.utf8)
        appendString(&out, detail)
        out.append(contentsOf: #","instance":"#.utf8)
        appendString(&out, instance)
        out.append(contentsOf: #","status":\#(status),"title":"#.utf8)
        appendString(&out, HTTPReason.phrase(status))
        out.append(contentsOf: #","type":"about:blank"}"#.utf8)
        return out
    }

    /// A JSON string literal of `text` (RFC 8259 escapes; `/` left as is).
    static func appendString(_ out: inout [UInt8], _ text: String) {
        out.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, 0x6E])
            case 0x0D: out.append(contentsOf: [0x5C, 0x72])
            case 0x09: out.append(contentsOf: [0x5C, 0x74])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(0x22)
    }
}
