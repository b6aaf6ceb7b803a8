import Glibc

/// Writes access records as bytes, straight into the batch being filled: no dictionary, no
/// `String` built per record. Loop thread only (it keeps scratch space between records).
struct AccessLogFormatter {
    let format: AccessLogSettings.Format
    private var clock = AccessLogClock()
    private var target: [UInt8] = []
    private var scratch: [UInt8] = []

    init(format: AccessLogSettings.Format) {
        self.format = format
        target.reserveCapacity(256)
        scratch.reserveCapacity(64)
    }

    /// Appends `record` as one line (ending in `\n`) to `out`.
    mutating func append(_ record: AccessRecord, to out: inout [UInt8]) {
        clock.update(seconds: record.time.tv_sec)
        target.removeAll(keepingCapacity: true)
        AccessLogTarget.append(record.target, to: &target, name: &scratch)
        switch format {
        case .kv: appendKeyValue(record, to: &out)
        case .json: appendJSON(record, to: &out)
        case .combined: appendCombined(record, to: &out)
        }
    }

    // MARK: key=value

    private func appendKeyValue(_ record: AccessRecord, to out: inout [UInt8]) {
        out.append(contentsOf: Self.kvTime)
        out.append(contentsOf: clock.iso)
        appendMilliseconds(record.time, to: &out)
        out.append(UInt8(ascii: "Z"))
        text(Self.kvMethod, record.method, &out)
        out.append(contentsOf: Self.kvTarget)
        target.withUnsafeBytes { AccessLogEscaping.appendKeyValue($0, to: &out) }
        number(Self.kvStatus, UInt64(max(0, record.status)), &out)
        number(Self.kvBytes, UInt64(max(0, record.bytes)), &out)
        number(Self.kvDuration, record.durationMicroseconds, &out)
        text(Self.kvRequestID, record.requestID, &out)
        text(Self.kvPeer, record.peer, &out)
        text(Self.kvPlugin, record.plugin, &out)
        text(Self.kvRoute, record.route, &out)
        text(Self.kvTenant, record.tenant, &out)
        text(Self.kvSubject, record.subject, &out)
        out.append(contentsOf: Self.kvUserAgent)
        if let agent = record.userAgent { AccessLogEscaping.appendKeyValue(agent, to: &out) } else { out.append(UInt8(ascii: "-")) }
        out.append(UInt8(ascii: "\n"))
    }

    private func text(_ key: [UInt8], _ value: String?, _ out: inout [UInt8]) {
        out.append(contentsOf: key)
        guard var value else {
            out.append(UInt8(ascii: "-"))
            return
        }
        value.withUTF8 { AccessLogEscaping.appendKeyValue(UnsafeRawBufferPointer($0), to: &out) }
    }

    private func number(_ key: [UInt8], _ value: UInt64, _ out: inout [UInt8]) {
        out.append(contentsOf: key)
        Self.decimal(value, &out)
    }

    private static let kvTime = Array("time=".utf8), kvMethod = Array(" method=".utf8), kvTarget = Array(" target=".utf8)
    private static let kvStatus = Array(" status=".utf8), kvBytes = Array(" bytes=".utf8), kvDuration = Array(" duration_us=".utf8)
    private static let kvRequestID = Array(" request_id=".utf8), kvPeer = Array(" peer=".utf8), kvPlugin = Array(" plugin=".utf8)
    private static let kvRoute = Array(" route=".utf8), kvTenant = Array(" tenant=".utf8), kvSubject = Array(" subject=".utf8)
    private static let kvUserAgent = Array(" user_agent=".utf8)

    // MARK: JSON lines

    private func appendJSON(_ record: AccessRecord, to out: inout [UInt8]) {
        out.append(contentsOf: Self.jsonTime)
        out.append(contentsOf: clock.iso)
        appendMilliseconds(record.time, to: &out)
        out.append(contentsOf: Self.jsonTimeEnd)
        json(Self.jsonMethod, record.method, &out)
        out.append(contentsOf: Self.jsonTarget)
        target.withUnsafeBytes { AccessLogEscaping.appendJSONString($0, to: &out) }
        out.append(contentsOf: Self.jsonStatus); Self.decimal(UInt64(max(0, record.status)), &out)
        out.append(contentsOf: Self.jsonBytes); Self.decimal(UInt64(max(0, record.bytes)), &out)
        out.append(contentsOf: Self.jsonDuration); Self.decimal(record.durationMicroseconds, &out)
        json(Self.jsonRequestID, record.requestID, &out)
        json(Self.jsonPeer, record.peer, &out)
        json(Self.jsonPlugin, record.plugin, &out)
        json(Self.jsonRoute, record.route, &out)
        json(Self.jsonTenant, record.tenant, &out)
        json(Self.jsonSubject, record.subject, &out)
        out.append(contentsOf: Self.jsonUserAgent)
        if let agent = record.userAgent { AccessLogEscaping.appendJSONString(agent, to: &out) } else { out.append(contentsOf: Self.null) }
        out.append(UInt8(ascii: "}"))
        out.append(UInt8(ascii: "\n"))
    }

    private func json(_ key: [UInt8], _ value: String?, _ out: inout [UInt8]) {
        out.append(contentsOf: key)
        guard var value else {
            out.append(contentsOf: Self.null)
            return
        }
        value.withUTF8 { AccessLogEscaping.appendJSONString(UnsafeRawBufferPointer($0), to: &out) }
    }

    private static let jsonTime = Array(#"{"time":""#.utf8), jsonTimeEnd = Array(#"Z""#.utf8), jsonMethod = Array(#","method":"#.utf8)
    private static let jsonTarget = Array(#","target":"#.utf8), jsonStatus = Array(#","status":"#.utf8), jsonBytes = Array(#","bytes":"#.utf8)
    private static let jsonDuration = Array(#","duration_us":"#.utf8), jsonRequestID = Array(#","request_id":"#.utf8)
    private static let jsonPeer = Array(#","peer":"#.utf8), jsonPlugin = Array(#","plugin":"#.utf8), jsonRoute = Array(#","route":"#.utf8)
    private static let jsonTenant = Array(#","tenant":"#.utf8), jsonSubject = Array(#","subject":"#.utf8)
    private static let jsonUserAgent = Array(#","user_agent":"#.utf8), null = Array("null".utf8)

    // MARK: combined

    /// `$remote_addr - $remote_user [$time_local] "$request" $status $bytes_sent "$http_referer" "$http_user_agent"`.
    private func appendCombined(_ record: AccessRecord, to out: inout [UInt8]) {
        combined(record.peerIP, &out)
        out.append(contentsOf: Self.combinedUser)
        combined(record.subject, &out)
        out.append(contentsOf: Self.combinedTime)
        out.append(contentsOf: clock.combined)
        out.append(contentsOf: Self.combinedRequest)
        combined(record.method, &out)
        out.append(UInt8(ascii: " "))
        target.withUnsafeBytes { AccessLogEscaping.appendCombined($0, to: &out) }
        out.append(contentsOf: record.httpMinor == 0 ? Self.http10 : Self.http11)
        Self.decimal(UInt64(max(0, record.status)), &out)
        out.append(UInt8(ascii: " "))
        Self.decimal(UInt64(max(0, record.bytes)), &out)
        out.append(contentsOf: Self.spaceQuote)
        if let referer = record.referer { AccessLogEscaping.appendCombined(referer, to: &out) } else { out.append(UInt8(ascii: "-")) }
        out.append(contentsOf: Self.quoteSpaceQuote)
        if let agent = record.userAgent { AccessLogEscaping.appendCombined(agent, to: &out) } else { out.append(UInt8(ascii: "-")) }
        out.append(UInt8(ascii: "\""))
        out.append(UInt8(ascii: "\n"))
    }

    private func combined(_ value: String?, _ out: inout [UInt8]) {
        guard var value, !value.isEmpty else {
            out.append(UInt8(ascii: "-"))
            return
        }
        value.withUTF8 { AccessLogEscaping.appendCombined(UnsafeRawBufferPointer($0), to: &out) }
    }

    private static let combinedUser = Array(" - ".utf8), combinedTime = Array(" [".utf8), combinedRequest = Array("] \"".utf8)
    private static let http10 = Array(" HTTP/1.0\" ".utf8), http11 = Array(" HTTP/1.1\" ".utf8), spaceQuote = Array(" \"".utf8), quoteSpaceQuote = Array("\" \"".utf8)

    // MARK: numbers

    private func appendMilliseconds(_ time: timespec, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "."))
        AccessLogClock.digits(Int(time.tv_nsec / 1_000_000), 3, &out)
    }

    /// `value` in decimal.
    static func decimal(_ value: UInt64, _ out: inout [UInt8]) {
        if value < 10 {
            out.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            while rest > 0 {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(20 - count)...]))
        }
    }
}
