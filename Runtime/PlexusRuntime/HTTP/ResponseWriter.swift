import CPlexusABI

/// Puts an answer on an exchange and lets its connection write it: the one place responses
/// are encoded (security headers, date, request id), shared by the pipeline, the responders and
/// the streams. Loop thread only.
final class ResponseWriter {
    private var encoder = HTTPResponseEncoder()

    /// Turns the security headers on every response on or off.
    func setSecurityHeaders(_ enabled: Bool, hsts: Bool) {
        encoder.securityHeaders = enabled ? HTTPResponseEncoder.encodeSecurityHeaders(hsts: hsts) : []
        encoder.securityHeadersWithoutPolicy = enabled ? HTTPResponseEncoder.encodeSecurityHeaders(hsts: hsts, withPolicy: false) : []
    }

    /// Answers `exchange` with a problem+json error from the server itself.
    func problem(_ exchange: HTTPExchange, status: Int, detail: String, headers: [(String, String)] = []) {
        exchange.status = status
        exchange.response = encoder.problem(status: status, detail: detail, for: exchange, extraHeaders: headers)
        exchange.connection.flush()
    }

    /// Answers `exchange` from Swift values.
    func send(_ exchange: HTTPExchange, status: Int, headers: [(String, String)], body: [UInt8]) {
        exchange.status = status
        exchange.response = encoder.encode(status: status, headers: headers, body: body, for: exchange)
        exchange.connection.flush()
    }

    /// Answers `exchange` with a plugin's response (an invalid status is logged and sent as 500).
    func send(_ exchange: HTTPExchange, _ response: UnsafePointer<plexus_response>) {
        exchange.status = Int(response.pointee.status)
        exchange.response = encoder.encode(response.pointee, for: exchange)
        if !(100...999).contains(exchange.status) || exchange.status < 200 { exchange.status = 500 }
        exchange.connection.flush()
    }

    /// The head of a chunked streaming response for `exchange`.
    func streamHead(_ exchange: HTTPExchange, status: Int, headers: [(String, String)]) -> [UInt8] {
        encoder.encodeStreamHead(status: status, headers: headers, for: exchange)
    }
}
