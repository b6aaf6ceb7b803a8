import Glibc

/// Writes access records as bytes: no dictionary, no `String` built per record, no array grown
/// piece by piece. Each record is written with plain copies into one buffer the formatter keeps,
/// sized beforehand for the most the record can take (every escape included); the caller appends
/// the finished line to the ring whole. Constant text is `StaticString` (no lazy static to load,
/// no reference to count). Loop thread only (it keeps scratch space between records).
final class AccessLogFormatter {
    let format: AccessLogSettings.Format
    private var clock = AccessLogClock()
    /// The loggable target (``AccessLogTarget``) of the record being written.
    private var target: [UInt8] = []
    private var scratch: [UInt8] = []
    private var line: UnsafeMutablePointer<UInt8>
    private var lineCapacity = AccessLogFormatter.keptLineBytes
    /// The line buffer's usual size, and the size past which it shrinks back to it.
    static let keptLineBytes = 1024, shrinkAboveBytes = 64 * 1024
    /// The line buffer's size now (for tests).
    var lineBufferCapacity: Int { lineCapacity }

    init(format: AccessLogSettings.Format) {
        self.format = format
        target.reserveCapacity(256)
        scratch.reserveCapacity(64)
        line = .allocate(capacity: lineCapacity)
    }

    deinit { line.deallocate() }

    /// Appends `record` as one line (ending in `\n`) to `out`.
    func append(_ record: AccessRecord, to out: inout [UInt8]) {
        out.append(contentsOf: format(record))
    }

    /// `record` as one line ending in `\n`; the bytes stay valid until the next call.
    func format(_ record: AccessRecord) -> UnsafeRawBufferPointer {
        clock.update(seconds: record.time.tv_sec)
        // The common target, a path with no query and no fragment, is logged as sent (escaped);
        // any other is first reduced to what may be logged (``AccessLogTarget``).
        if record.targetIsPlainPath || AccessLogTarget.isPlainPath(record.target) { return format(record, target: record.target) }
        target.removeAll(keepingCapacity: true)
        AccessLogTarget.append(record.target, to: &target, name: &scratch)
        return target.withUnsafeBytes { format(record, target: $0) }
    }

    private func format(_ record: AccessRecord, target: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        // The most any field's escaping makes of a byte is 6 (JSON's `\u00XX`); the constant text,
        // numbers and time take less than 512 bytes.
        var variable = target.count + (record.userAgent?.count ?? 0) + (record.referer?.count ?? 0)
        variable += record.method.utf8.count + record.requestID.utf8.count + record.peer.utf8.count + record.peerIP.utf8.count
        variable += (record.plugin?.utf8.count ?? 0) + (record.route?.utf8.count ?? 0) + (record.tenant?.utf8.count ?? 0)
            + (record.subject?.utf8.count ?? 0)
        let needed = 6 * variable + 512
        if needed > lineCapacity {
            line.deallocate()
            lineCapacity = max(needed, 2 * lineCapacity)
            line = .allocate(capacity: lineCapacity)
        } else if needed <= Self.keptLineBytes && lineCapacity > Self.shrinkAboveBytes {
            // One huge record (a 64 KiB User-Agent) does not keep ~400 KiB per worker for good.
            line.deallocate()
            lineCapacity = Self.keptLineBytes
            line = .allocate(capacity: lineCapacity)
        }
        var out = ByteWriter(UnsafeMutableBufferPointer(start: line, count: lineCapacity))
        switch format {
        case .kv: appendKeyValue(record, target, to: &out)
        case .json: appendJSON(record, target, to: &out)
        case .combined: appendCombined(record, target, to: &out)
        }
        return UnsafeRawBufferPointer(start: line, count: out.count)
    }

    // MARK: key=value

    private func appendKeyValue(_ record: AccessRecord, _ target: UnsafeRawBufferPointer, to out: inout ByteWriter) {
        out.put("time=")
        out.put(clock.iso)
        appendMilliseconds(record.time, to: &out)
        out.put(UInt8(ascii: "Z"))
        text(" method=", record.method, &out)
        out.put(" target=")
        AccessLogEscaping.appendKeyValue(target, to: &out)
        out.put(" status=")
        out.putDecimal(max(0, record.status))
        out.put(" bytes=")
        out.putDecimal(max(0, record.bytes))
        out.put(" duration_us=")
        out.putDecimal(Int(clamping: record.durationMicroseconds))
        text(" request_id=", record.requestID, &out)
        text(" peer=", record.peer, &out)
        text(" plugin=", record.plugin, &out)
        text(" route=", record.route, &out)
        text(" tenant=", record.tenant, &out)
        text(" subject=", record.subject, &out)
        out.put(" user_agent=")
        if let agent = record.userAgent { AccessLogEscaping.appendKeyValue(agent, to: &out) } else { out.put(UInt8(ascii: "-")) }
        out.put(UInt8(ascii: "\n"))
    }

    private func text(_ key: StaticString, _ value: String?, _ out: inout ByteWriter) {
        out.put(key)
        guard var value else {
            out.put(UInt8(ascii: "-"))
            return
        }
        value.withUTF8 { AccessLogEscaping.appendKeyValue(UnsafeRawBufferPointer($0), to: &out) }
    }

    // MARK: JSON lines

    private func appendJSON(_ record: AccessRecord, _ target: UnsafeRawBufferPointer, to out: inout ByteWriter) {
        out.put(#"{"time":""#)
        out.put(clock.iso)
        appendMilliseconds(record.time, to: &out)
        out.put(#"Z""#)
        json(#","method":"#, record.method, &out)
        out.put(#","target":"#)
        AccessLogEscaping.appendJSONString(target, to: &out)
        out.put(#","status":"#)
        out.putDecimal(max(0, record.status))
        out.put(#","bytes":"#)
        out.putDecimal(max(0, record.bytes))
        out.put(#","duration_us":"#)
        out.putDecimal(Int(clamping: record.durationMicroseconds))
        json(#","request_id":"#, record.requestID, &out)
        json(#","peer":"#, record.peer, &out)
        json(#","plugin":"#, record.plugin, &out)
        json(#","route":"#, record.route, &out)
        json(#","tenant":"#, record.tenant, &out)
        json(#","subject":"#, record.subject, &out)
        out.put(#","user_agent":"#)
        if let agent = record.userAgent { AccessLogEscaping.appendJSONString(agent, to: &out) } else { out.put("null") }
        out.put("}\n")
    }

    private func json(_ key: StaticString, _ value: String?, _ out: inout ByteWriter) {
        out.put(key)
        guard var value else {
            out.put("null")
            return
        }
        value.withUTF8 { AccessLogEscaping.appendJSONString(UnsafeRawBufferPointer($0), to: &out) }
    }

    // MARK: combined

    /// `$remote_addr - $remote_user [$time_local] "$request" $status $bytes_sent "$http_referer" "$http_user_agent"`.
    private func appendCombined(_ record: AccessRecord, _ target: UnsafeRawBufferPointer, to out: inout ByteWriter) {
        // The address and the method need no escaping: an IP address's text (digits, hex, dots,
        // colons) and a method llhttp admitted (a token) hold no byte the format escapes.
        plain(record.peerIP, &out)
        out.put(" - ")
        combined(record.subject, &out)
        out.put(" [")
        out.put(clock.combined)
        out.put("] \"")
        plain(record.method, &out)
        out.put(UInt8(ascii: " "))
        // A path the target parser admitted holds no byte the format escapes.
        if record.targetIsPlainPath { out.put(target) } else { AccessLogEscaping.appendCombined(target, to: &out) }
        if record.httpMinor == 0 { out.put(" HTTP/1.0\" ") } else { out.put(" HTTP/1.1\" ") }
        out.putDecimal(max(0, record.status))
        out.put(UInt8(ascii: " "))
        out.putDecimal(max(0, record.bytes))
        out.put(" \"")
        if let referer = record.referer { AccessLogEscaping.appendCombined(referer, to: &out) } else { out.put(UInt8(ascii: "-")) }
        out.put("\" \"")
        if let agent = record.userAgent { AccessLogEscaping.appendCombined(agent, to: &out) } else { out.put(UInt8(ascii: "-")) }
        out.put("\"\n")
    }

    /// `value` as it is, or `-` when empty; only for text that holds no byte the combined format escapes.
    private func plain(_ value: String, _ out: inout ByteWriter) {
        if value.isEmpty {
            out.put(UInt8(ascii: "-"))
            return
        }
        if value.utf8.withContiguousStorageIfAvailable({ out.put(UnsafeRawBufferPointer($0)) }) == nil {
            var value = value
            value.withUTF8 { out.put(UnsafeRawBufferPointer($0)) }
        }
    }

    private func combined(_ value: String?, _ out: inout ByteWriter) {
        guard var value, !value.isEmpty else {
            out.put(UInt8(ascii: "-"))
            return
        }
        value.withUTF8 { AccessLogEscaping.appendCombined(UnsafeRawBufferPointer($0), to: &out) }
    }

    // MARK: numbers

    /// `.mmm`: the milliseconds of `time`.
    private func appendMilliseconds(_ time: timespec, to out: inout ByteWriter) {
        let milliseconds = Int(time.tv_nsec / 1_000_000)
        out.put(UInt8(ascii: "."))
        out.put(UInt8(ascii: "0") + UInt8(milliseconds / 100 % 10))
        out.put(UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
        out.put(UInt8(ascii: "0") + UInt8(milliseconds % 10))
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

extension ByteWriter {
    /// Writes the bytes of `literal`.
    mutating func put(_ literal: StaticString) {
        put(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}
