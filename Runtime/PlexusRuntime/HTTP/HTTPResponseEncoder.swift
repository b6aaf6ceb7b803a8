import CPlexusABI
import Foundation

/// Serialises responses: status line, the handler's headers (minus the ones the server owns),
/// then `Content-Length`, `Date`, `X-Request-Id` and `Connection` as the exchange requires.
struct HTTPResponseEncoder {
    private var date = HTTPDate()
    /// ``ownedNameLengths``, loaded once per encoder rather than once per header.
    private let ownedLengths = HTTPResponseEncoder.ownedNameLengths
    /// ``allStatusLines``, held by each encoder: no lazy global checked per response.
    private let statusLines = HTTPResponseEncoder.allStatusLines

    /// The security headers every response carries, encoded once.
    /// With `policy` false the runtime's `Content-Security-Policy` is left out (a handler that sends its
    /// own, such as a plugin's page with a nonce for its inline script, replaces it rather than being
    /// intersected with `default-src 'none'`).
    static func encodeSecurityHeaders(hsts: Bool, policy: Bool = true) -> [UInt8] {
        var text = "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n"
            + (policy ? "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n" : "") + "Cross-Origin-Opener-Policy: same-origin\r\n"
        if hsts { text += "Strict-Transport-Security: max-age=31536000; includeSubDomains\r\n" }
        return Array(text.utf8)
    }
    /// Headers the server writes itself (lower-case); a handler's copies are dropped.
    static let ownedHeaders: [[UInt8]] = ["content-length", "transfer-encoding", "connection", "date", "x-request-id", "keep-alive"].map { Array($0.utf8) }
    /// Bit `n` set: some name of ``ownedHeaders`` is `n` bytes long, so a handler's header of
    /// another length is kept without a comparison. Derived from the names, never written by hand.
    static let ownedNameLengths: UInt64 = ownedHeaders.reduce(0) { mask, name in
        precondition(name.count < 64, "an owned header name of 64 bytes or more does not fit the length mask")
        return mask | (1 << UInt64(name.count))
    }
    /// `HTTP/1.1 <status> <reason>\r\n` for every status, built once.
    private static let allStatusLines: [[UInt8]] = (0..<1000).map { Array("HTTP/1.1 \($0) \(HTTPReason.phrase($0))\r\n".utf8) }

    /// A response from Swift values, encoded into `exchange`'s ``HTTPExchange/responseBytes``.
    mutating func encode(status: Int, headers: [(String, String)], body: [UInt8], for exchange: HTTPExchange) -> UnsafeRawBufferPointer {
        let date = date.current(), owned = ownedLengths
        let hasBody = Self.mayHaveBody(status) && !exchange.isHead
        var needed = statusLines[status].count + commonBytes(exchange) + Self.finishBytes(date, exchange) + (hasBody ? body.count : 0)
        var ownPolicy = false
        for (name, value) in headers {
            needed += Self.headerBytes(name.utf8.count, value.utf8.count)
            if !ownPolicy {
                var name = name, value = value
                ownPolicy = name.withUTF8 { name in value.withUTF8 { Self.isOwnPolicy(UnsafeRawBufferPointer(name), UnsafeRawBufferPointer($0)) } }
            }
        }
        return exchange.responseBytes.overwrite(atMost: needed) { buffer in
            var out = ByteWriter(buffer)
            out.put(statusLines[status])
            for (name, value) in headers { Self.putHeader(&out, name, value, owned: owned) }
            finish(&out, status: status, bodyCount: body.count, date: date, exchange: exchange, ownPolicy: ownPolicy)
            if hasBody { out.put(body) }
            return out.count
        }
    }

    /// A response handed over the C ABI, encoded into `exchange`'s ``HTTPExchange/responseBytes``.
    mutating func encode(_ response: plexus_response, for exchange: HTTPExchange) -> UnsafeRawBufferPointer {
        var status = Int(response.status)
        if !(200...999).contains(status) { status = 500 }
        let body = UnsafeRawBufferPointer(start: response.body.data, count: response.body.data == nil ? 0 : response.body.length)
        let date = date.current(), owned = ownedLengths
        let hasBody = Self.mayHaveBody(status) && !exchange.isHead
        var needed = statusLines[status].count + commonBytes(exchange) + Self.finishBytes(date, exchange) + (hasBody ? body.count : 0)
        var ownPolicy = false
        for index in 0..<response.header_count {
            let pair = response.headers[index]
            needed += Self.headerBytes(pair.name.length, pair.value.length)
            if !ownPolicy {
                ownPolicy = Self.isOwnPolicy(UnsafeRawBufferPointer(start: pair.name.data, count: pair.name.length),
                                             UnsafeRawBufferPointer(start: pair.value.data, count: pair.value.data == nil ? 0 : pair.value.length))
            }
        }
        return exchange.responseBytes.overwrite(atMost: needed) { buffer in
            var out = ByteWriter(buffer)
            out.put(statusLines[status])
            for index in 0..<response.header_count {
                let pair = response.headers[index]
                Self.putHeader(&out, UnsafeRawBufferPointer(start: pair.name.data, count: pair.name.length),
                               UnsafeRawBufferPointer(start: pair.value.data, count: pair.value.length), owned: owned)
            }
            finish(&out, status: status, bodyCount: body.count, date: date, exchange: exchange, ownPolicy: ownPolicy)
            if hasBody { out.put(body) }
            return out.count
        }
    }

    /// Whether a handler's header is a `Content-Security-Policy` (any case) that will be written:
    /// a response that sets its own policy replaces the runtime's (a refused one does not).
    private static func isOwnPolicy(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Bool {
        ASCIICase.equal(name, "content-security-policy") && !value.isEmpty && isFieldValue(value)
    }

    /// The head of a chunked streaming response; the body follows as chunks.
    mutating func encodeStreamHead(status: Int, headers: [(String, String)], for exchange: HTTPExchange) -> [UInt8] {
        let date = date.current(), owned = ownedLengths
        var needed = statusLines[status].count + commonBytes(exchange) + Self.chunked.utf8CodeUnitCount + Self.finishBytes(date, exchange)
        for (name, value) in headers { needed += Self.headerBytes(name.utf8.count, value.utf8.count) }
        return [UInt8](unsafeUninitializedCapacity: needed) { buffer, count in
            var out = ByteWriter(buffer)
            out.put(statusLines[status])
            for (name, value) in headers { Self.putHeader(&out, name, value, owned: owned) }
            putCommon(&out, exchange)
            out.put(Self.chunked)
            out.put(Self.dateName)
            out.put(date)
            putRequestID(&out, exchange)
            out.put(Self.plainEnd)
            count = out.count
        }
    }

    /// A problem+json error generated by the server itself (RFC 9457).
    mutating func problem(status: Int, detail: String, for exchange: HTTPExchange, extraHeaders: [(String, String)] = []) -> UnsafeRawBufferPointer {
        let body = ProblemJSON.body(status: status, detail: detail, instance: exchange.requestID)
        return encode(status: status, headers: [("Content-Type", "application/problem+json")] + extraHeaders, body: body, for: exchange)
    }

    /// The most bytes one header line takes: `name: value` and CRLF.
    private static func headerBytes(_ name: Int, _ value: Int) -> Int { name + value + 4 }

    private static func putHeader(_ out: inout ByteWriter, _ name: String, _ value: String, owned: UInt64) {
        var name = name, value = value
        name.withUTF8 { name in value.withUTF8 { value in putHeader(&out, UnsafeRawBufferPointer(name), UnsafeRawBufferPointer(value), owned: owned) } }
    }

    /// Writes `name: value` unless the name is not a token, the value could split the header,
    /// or the server owns that header (`owned`: ``ownedNameLengths``).
    private static func putHeader(_ out: inout ByteWriter, _ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, owned: UInt64) {
        guard RequestHeadRules.isToken(name), isFieldValue(value), !isOwned(name, lengths: owned) else { return }
        out.put(name)
        out.put(0x3A)
        out.put(0x20)
        out.put(value)
        out.put(0x0D)
        out.put(0x0A)
    }

    /// Whether the server owns the header `name` (any case); `lengths` is ``ownedNameLengths``.
    static func isOwned(_ name: UnsafeRawBufferPointer, lengths: UInt64) -> Bool {
        // Most names have none of the owned names' lengths: no comparison then.
        guard name.count < 64, lengths & (1 << UInt64(name.count)) != 0 else { return false }
        let owned = ownedHeaders
        for candidate in owned where candidate.count == name.count {
            if candidate.withUnsafeBytes({ ASCIICase.equal(name, $0) }) { return true }
        }
        return false
    }

    /// Headers on every response (`[security] headers`), pre-encoded.
    var securityHeaders: [UInt8] = []
    /// The same without `Content-Security-Policy`, for a response that carries its own.
    var securityHeadersWithoutPolicy: [UInt8] = []

    /// The most bytes ``finish(_:status:bodyCount:date:exchange:)`` writes.
    private static func finishBytes(_ date: [UInt8], _ exchange: HTTPExchange) -> Int {
        contentLength.utf8CodeUnitCount + 20 + 2 + dateName.utf8CodeUnitCount + date.count + requestIDName.utf8CodeUnitCount + exchange.requestIDByteCount
            + keepAliveEnd.utf8CodeUnitCount
    }

    private func finish(_ out: inout ByteWriter, status: Int, bodyCount: Int, date: [UInt8], exchange: HTTPExchange, ownPolicy: Bool = false) {
        putCommon(&out, exchange, ownPolicy: ownPolicy)
        if Self.mayHaveBody(status) {
            out.put(Self.contentLength)
            out.putDecimal(bodyCount)
            out.put(0x0D)
            out.put(0x0A)
        }
        out.put(Self.dateName)
        out.put(date)
        putRequestID(&out, exchange)
        if exchange.closeAfterResponse || !exchange.keepAlive {
            out.put(Self.closeEnd)
        } else if exchange.httpMinor == 0 {
            out.put(Self.keepAliveEnd)
        } else {
            out.put(Self.plainEnd)
        }
    }

    private func putRequestID(_ out: inout ByteWriter, _ exchange: HTTPExchange) {
        out.put(Self.requestIDName)
        exchange.withRequestIDBytes { out.put($0) }
    }

    /// The most bytes ``putCommon(_:_:)`` writes.
    private func commonBytes(_ exchange: HTTPExchange) -> Int {
        var count = securityHeaders.count
        for (name, value) in exchange.extraHeaders { count += Self.headerBytes(name.utf8.count, value.utf8.count) }
        return count
    }

    /// The security headers and the gateway's per-request headers.
    private func putCommon(_ out: inout ByteWriter, _ exchange: HTTPExchange, ownPolicy: Bool = false) {
        out.put(ownPolicy ? securityHeadersWithoutPolicy : securityHeaders)
        let owned = ownedLengths
        for (name, value) in exchange.extraHeaders { Self.putHeader(&out, name, value, owned: owned) }
    }

    // Constant text as `StaticString`: a pointer into the binary, with no lazy global (and its
    // `swift_once` check) loaded per use, as an array would need.
    private static let chunked: StaticString = "Transfer-Encoding: chunked\r\n"
    private static let contentLength: StaticString = "Content-Length: "
    private static let dateName: StaticString = "Date: "
    private static let requestIDName: StaticString = "\r\nX-Request-Id: "
    private static let closeEnd: StaticString = "\r\nConnection: close\r\n\r\n"
    private static let keepAliveEnd: StaticString = "\r\nConnection: keep-alive\r\n\r\n"
    private static let plainEnd: StaticString = "\r\n\r\n"

    static func mayHaveBody(_ status: Int) -> Bool { status != 204 && status != 304 && status >= 200 }

    /// No CR, LF or NUL: nothing that could split a header.
    static func isFieldValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        for byte in bytes where byte == 0x0D || byte == 0x0A || byte == 0 { return false }
        return true
    }
}

/// Reason phrases for the status line.
/// The reason phrase of a status line: the registered one (RFC 9110 and the IANA registry), or
/// for an unregistered code the name of its class, never a made-up "Status NNN".
enum HTTPReason {
    static func phrase(_ status: Int) -> String {
        if let registered = plexus_reason_phrase(Int32(clamping: status)) { return String(cString: registered) }
        switch status {
        case 100..<200: return "Informational"
        case 200..<300: return "Success"
        case 300..<400: return "Redirection"
        case 400..<500: return "Client Error"
        default: return "Server Error"
        }
    }
}

/// Writes bytes into a buffer sized beforehand for everything written (callers add up the
/// most each part takes), with plain copies and no capacity checks of its own.
struct ByteWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    mutating func put(_ byte: UInt8) {
        precondition(count < capacity, "ByteWriter: more written than sized for")
        base[count] = byte
        count += 1
    }

    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(count + bytes.count <= capacity, "ByteWriter: more written than sized for")
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { put($0) }
    }

    /// Writes `value` in decimal (a negative value as 0): the digits are counted first, then
    /// written straight into the buffer from the last one (no scratch space, no copy).
    mutating func putDecimal(_ value: Int) {
        var rest = UInt(max(0, value))
        // A status code and most small lengths: three digits or fewer, written without a loop.
        if rest < 1000 {
            let length = rest < 10 ? 1 : rest < 100 ? 2 : 3
            precondition(count + length <= capacity, "ByteWriter: more written than sized for")
            let end = base + count + length
            end[-1] = UInt8(truncatingIfNeeded: 48 &+ rest % 10)
            if length > 1 { end[-2] = UInt8(truncatingIfNeeded: 48 &+ rest / 10 % 10) }
            if length > 2 { end[-3] = UInt8(truncatingIfNeeded: 48 &+ rest / 100) }
            count += length
            return
        }
        var length = 1, scale: UInt = 10
        while length < 20 && rest >= scale {
            length += 1
            scale = scale &* 10
        }
        precondition(count + length <= capacity, "ByteWriter: more written than sized for")
        var index = count + length
        repeat {
            index -= 1
            base[index] = UInt8(truncatingIfNeeded: 48 &+ rest % 10)
            rest /= 10
        } while rest > 0
        count += length
    }
}
