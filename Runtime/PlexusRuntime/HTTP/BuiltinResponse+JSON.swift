import Foundation

extension HTTPServer.BuiltinResponse {
    /// A JSON response (sorted keys, slashes unescaped).
    static func json(status: Int = 200, _ value: Any) -> Self {
        let body = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Self(status: status, headers: [("Content-Type", "application/json")], body: Array(body))
    }

    /// An RFC 9457 problem+json answer to `exchange`.
    static func problem(_ status: Int, _ detail: String, _ exchange: HTTPExchange) -> Self {
        Self(status: status, headers: [("Content-Type", "application/problem+json")],
             body: ProblemJSON.body(status: status, detail: detail, instance: exchange.requestID))
    }
}

/// The body of every problem+json response the runtime writes itself (RFC 9457).
enum ProblemJSON {
    static func body(status: Int, detail: String, instance: String) -> [UInt8] {
        let object: [String: Any] = ["type": "about:blank", "status": status, "title": HTTPReason.phrase(status),
                                     "detail": detail, "instance": instance]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }
}
