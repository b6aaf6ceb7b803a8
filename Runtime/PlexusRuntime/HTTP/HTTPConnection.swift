import CLLHTTP
import CLibUV
import CPlexusShims
import Foundation

/// One client connection: reads with libuv, parses with llhttp (strict mode), answers in request order.
///
/// Requests are parsed as they arrive (pipelining) and queued; each is dispatched as soon as its
/// body is complete, and responses leave strictly in the order the requests came. Reading pauses
/// when too many requests wait for answers. Loop thread only.
final class HTTPConnection {
    enum Phase { case idle, head, body }

    /// The pipeline, the body budget and the server's bookkeeping, as closures.
    let hooks: ConnectionHooks
    let id: Int
    let tcp: UnsafeMutablePointer<uv_tcp_t>
    private let parser: UnsafeMutablePointer<llhttp_t>
    private(set) var queue: [HTTPExchange] = []
    private var queueHead = 0
    private var current: HTTPExchange? {
        didSet { currentRef = current.map { Unmanaged.passUnretained($0) } }
    }
    /// ``current`` for the parser's callbacks, which borrow it (``current`` holds it) instead of
    /// retaining and releasing it for every piece of the head.
    private var currentRef: Unmanaged<HTTPExchange>?
    /// The last exchange answered: the next request reuses it when by then nothing else holds
    /// it (while it is being answered, the responder's call still does).
    private var spare: HTTPExchange?
    private var lastCallbackWasValue = false
    /// Bytes of trailer fields (after a chunked body) in the current message: skipped, but bounded.
    private var trailerBytes = 0
    /// The line framing of the head being read (bare LF, obs-fold).
    private var framing = HeadFraming()
    /// Where the head bytes of the current read begin (the read's start while a head continues).
    private var headScanStart: UnsafePointer<CChar>?
    /// The next `on_method` starts a head: its first byte is where the framing check begins.
    private var headScanPending = false
    /// `on_headers_complete` paused llhttp so the head can be checked and routed (``didRead(_:_:)``).
    private var headPaused = false
    private var pendingError: (status: Int, detail: String, headers: [(String, String)])?
    /// A head whose admission waits for an answer from elsewhere (``holdHead(_:)``), and the
    /// bytes read after it, parsed once it is let go (``releaseHead(_:refuse:)``).
    private var holdRequested: HTTPExchange?
    private var heldBytes: [CChar]?
    /// A held head was refused with its body possibly unread: after the answer, the write side is
    /// shut and input is discarded for a while before the close (``closeOrLinger()``), so the
    /// kernel does not reset the connection (and lose the answer) over unread bytes.
    private var lingerBeforeClose = false
    /// Discarding input after the write side was shut: since when (loop ms) and how much so far.
    private var discardingSince: UInt64?
    private var discarded = 0
    /// How long and how much a lingering close reads and discards before it closes anyway.
    static let lingerMilliseconds: UInt64 = 2_000
    static let lingerBytes = 64 * 1024

    private(set) var phase = Phase.idle
    /// The connection's slot in the master's table (supervised workers), or `ConnectionHandover.noSlot`.
    var handoverSlot = ConnectionHandover.noSlot
    /// Draining: kept open for a request already on its way, closed after it or the linger time.
    private(set) var lingering = false
    private(set) var phaseStarted: UInt64 = 0
    private(set) var lastActivity: UInt64 = 0
    private var readingPaused = false
    private var stopReading = false
    private(set) var closing = false
    private var closed = false
    private var peerEnded = false
    private var writesInFlight = 0
    /// The client end, shared with the connection's requests.
    let peer: ConnectionPeer
    var peerIsLoopback: Bool { peer.isLoopback }
    var peerAddress: String { peer.address }
    /// The peer's IP address without the port (rate limits, audit).
    var peerIP: String { peer.ip }

    static let readBufferSize = 64 * 1024
    /// Where every connection reads into (one loop thread: one read at a time).
    nonisolated(unsafe) static let readBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: readBufferSize)

    init(hooks: ConnectionHooks, id: Int, tcp: UnsafeMutablePointer<uv_tcp_t>) {
        self.hooks = hooks
        self.id = id
        self.tcp = tcp
        parser = .allocate(capacity: 1)
        llhttp_init(parser, HTTP_REQUEST, HTTPConnection.settings)
        // Any digit.digit version parses; ``RequestHeadRules`` answers 505 for all but HTTP/1.x.
        parser.pointee.lenient_flags |= UInt8(LENIENT_VERSION.rawValue)
        let address = SocketAddress(of: tcp, peer: true)
        peer = ConnectionPeer(address: address?.description ?? "unknown", ip: address?.host ?? "unknown", isLoopback: address?.isLoopback ?? false)
        lastActivity = hooks.loop.now
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        tcp.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    deinit {
        parser.deallocate()
        tcp.deallocate()
    }

    /// The stream this connection carries, once a request turned into one.
    private(set) var stream: HTTPStream?

    /// Who owns the socket after a protocol upgrade: every later byte and the end go there.
    private(set) var takeover: ConnectionTakeover?
    /// The last request llhttp flagged as an upgrade (`parser.upgrade`).
    private weak var upgradeExchange: HTTPExchange?

    /// Writes `head` (a `101 Switching Protocols`) and hands the socket to `handler`: the HTTP
    /// parser stops, and every byte read afterwards (including any that arrived with the
    /// upgrade request) goes to `handler`. Writes go through `writeStream`.
    func takeOver(by handler: ConnectionTakeover, head: [UInt8]) {
        stopReading = true
        takeover = handler
        publishHandoverState()
        write(head)
    }

    /// Closes once everything written so far has left (a takeover's orderly end).
    func closeWhenWritten() {
        guard !closed else { return }
        stopReading = true
        closing = true
        if writesInFlight == 0 { close() }
    }

    /// Whether `exchange` still waits in the queue (not yet written).
    private func isQueued(_ exchange: HTTPExchange) -> Bool {
        queue[queueHead...].contains { $0 === exchange }
    }

    /// Whether `exchange` is the oldest unanswered request (the only one allowed to stream).
    func isHead(_ exchange: HTTPExchange) -> Bool {
        queueHead < queue.count && queue[queueHead] === exchange
    }

    /// Writes the head and hands the rest of the connection to a stream. Further requests on
    /// this connection are not read.
    func startStream(_ exchange: HTTPExchange, head: [UInt8]) -> HTTPStream {
        stopReading = true
        let stream = HTTPStream(connection: self, exchange: exchange)
        self.stream = stream
        publishHandoverState()
        write(head)
        return stream
    }

    /// Writes raw bytes of a stream; false when the connection is gone or the peer reads too slowly.
    func writeStream(_ bytes: [UInt8], limit: Int) -> Bool {
        guard !closed else { return false }
        if uv_stream_get_write_queue_size(uvStream) > limit {
            close()
            return false
        }
        write(bytes)
        return true
    }

    /// Ends a stream: the terminating chunk, then close once written.
    func endStream() {
        guard !closed else { return }
        write(Array("0\r\n\r\n".utf8))
        closing = true
        if writesInFlight == 0 { close() }
    }

    /// Requests read but not yet answered (or answered but not yet written).
    var unanswered: Int { queue.count - queueHead }

    func startReading() {
        uv_read_start(uvStream, { _, suggested, buffer in
            buffer!.pointee = uv_buf_init(HTTPConnection.readBuffer, UInt32(HTTPConnection.readBufferSize))
        }, { stream, count, buffer in
            let connection = Unmanaged<HTTPConnection>.fromOpaque(stream!.pointee.data).takeUnretainedValue()
            connection.didRead(count, buffer!.pointee.base)
        })
    }

    private func didRead(_ count: Int, _ base: UnsafeMutablePointer<CChar>?) {
        guard count != 0 else { return }
        if discardingSince != nil {
            discarded += max(count, 0)
            if count < 0 || discarded > Self.lingerBytes { close() }
            return
        }
        if let takeover {
            if count < 0 {
                close()
            } else if let base {
                lastActivity = hooks.loop.now
                takeover.connectionRead(UnsafeRawBufferPointer(start: base, count: count))
            }
            return
        }
        if count < 0 {
            if count == Int(UV_EOF.rawValue) && unanswered > 0 && stream == nil {
                peerEnded = true
                uv_read_stop(uvStream)
                if phase != .idle { close() }
            } else {
                close()
            }
            return
        }
        lastActivity = hooks.loop.now
        guard !stopReading, let base else { return }
        parse(UnsafePointer(base), count)
    }

    /// Parses `count` bytes read (or held) at `base`. `count` may be 0: llhttp then finishes a
    /// body-less message whose head it was paused after (``releaseHead(_:refuse:)``).
    private func parse(_ base: UnsafePointer<CChar>, _ count: Int) {
        let end = base + count
        var cursor = base
        headScanStart = phase == .head ? cursor : nil
        while true {
            let error = llhttp_execute(parser, cursor, end - cursor)
            switch error {
            case HPE_OK:
                // Every byte parsed; the part of a head still arriving is checked so far.
                if phase == .head, let start = headScanStart,
                   let violation = framing.scan(UnsafeRawBufferPointer(start: start, count: end - start)) {
                    failRequest(status: 400, detail: violation.detail)
                }
                return
            case HPE_PAUSED where headPaused:
                // A head is complete (``headersComplete()``): check it, route it, go on with the body.
                headPaused = false
                let headEnd = llhttp_get_error_pos(parser)!
                guard admitHead(end: headEnd) else {
                    holdRequested = nil
                    failRequest(status: pendingError?.status ?? 400, detail: pendingError?.detail ?? "malformed request head",
                                headers: pendingError?.headers ?? [])
                    return
                }
                guard !closed else { holdRequested = nil; return }
                if let held = holdRequested, held === current {
                    // Nothing after the head is parsed (or read) until ``releaseHead(_:refuse:)``.
                    holdRequested = nil
                    heldBytes = Array(UnsafeBufferPointer(start: headEnd, count: end - headEnd))
                    uv_read_stop(uvStream)
                    return
                }
                holdRequested = nil
                llhttp_resume(parser)
                cursor = headEnd
            case HPE_PAUSED:
                return  // a `Connection: close` request ended the stream (``messageComplete()``)
            case HPE_PAUSED_UPGRADE:
                upgraded(rest: UnsafeRawBufferPointer(start: llhttp_get_error_pos(parser)!, count: end - llhttp_get_error_pos(parser)!))
                return
            case HPE_PAUSED_H2_UPGRADE:
                failRequest(status: 505, detail: "HTTP/2 is not supported; this server speaks HTTP/1.1 and HTTP/1.0")
                return
            default:
                let reason = llhttp_get_error_reason(parser).map { String(cString: $0) } ?? String(cString: llhttp_errno_name(error))
                failRequest(status: pendingError?.status ?? 400, detail: pendingError?.detail ?? "malformed request: \(reason)",
                            headers: pendingError?.headers ?? [])
                return
            }
        }
    }

    /// After a request llhttp flagged as an upgrade: `rest` is what followed its head.
    private func upgraded(rest: UnsafeRawBufferPointer) {
        if let takeover {
            // Upgraded: what followed the request head already belongs to the new protocol.
            if !rest.isEmpty { takeover.connectionRead(rest) }
        } else if let exchange = upgradeExchange {
            // The request was answered (or is being answered) in plain HTTP, ignoring the
            // upgrade: nothing after it is parsed, and the connection closes after the answer.
            stopReading = true
            uv_read_stop(uvStream)
            exchange.closeAfterResponse = true
            if unanswered == 0 {
                closing = true
                if writesInFlight == 0 { close() }
            }
        } else {
            failRequest(status: 501, detail: "protocol upgrade is not supported on this endpoint")
        }
    }

    /// Answers the request being parsed with an error, then closes the connection.
    func failRequest(status: Int, detail: String, headers: [(String, String)] = []) {
        stopReading = true
        heldBytes = nil  // a request answered here is no longer held: its decision, when it comes, is ignored
        uv_read_stop(uvStream)
        if let answered = current, answered.response != nil || !isQueued(answered) {
            // Already answered at head time (404/405) and then refused for its body: the answer
            // stands; stop here and close once it is written.
            current = nil
            phase = .idle
            answered.closeAfterResponse = true
            if !isQueued(answered) {
                // Its answer is already written; close once the writes drain (flush may not run again).
                closing = true
                if writesInFlight == 0 && unanswered == 0 { close() }
            }
            return
        }
        let exchange: HTTPExchange
        if let current {
            exchange = current
        } else {
            exchange = makeExchange()
            queue.append(exchange)
        }
        current = nil
        if exchange.requestIDByteCount == 0 { hooks.generateRequestID(for: exchange) }
        if exchange.method.isEmpty { exchange.method = "-" }
        exchange.closeAfterResponse = true
        hooks.fail(exchange, status, detail, headers)
    }

    /// Asks, during ``ConnectionHooks/headComplete``, that nothing after `exchange`'s head be
    /// read until ``releaseHead(_:refuse:)`` (a decision made elsewhere, before the body is read).
    func holdHead(_ exchange: HTTPExchange) {
        holdRequested = exchange
    }

    /// Whether a head waits for ``releaseHead(_:refuse:)``: the wait is bounded by whoever decides
    /// (the Redis command timeout), so the sweeper does not count it against the client's body timeouts.
    var isHoldingHead: Bool { heldBytes != nil }

    /// Lets a held head go on: with `refuse`, it is answered by `refuse` without its body being
    /// read and the connection closes after that answer; without, parsing and reading resume.
    func releaseHead(_ exchange: HTTPExchange, refuse: (() -> Void)?) {
        guard let held = heldBytes, current === exchange, !closed else { return }
        heldBytes = nil
        if let refuse {
            stopReading = true
            current = nil
            phase = .idle
            exchange.bodyLimit = 0
            exchange.closeAfterResponse = true
            // The body may still be on its way: close gently after the answer (``lingerBeforeClose``).
            lingerBeforeClose = true
            return refuse()
        }
        llhttp_resume(parser)
        let now = hooks.loop.now
        lastActivity = now
        phaseStarted = now  // the body's own deadline starts when its reading may start
        // `100 Continue` only now that the request is admitted (``admitHead(end:)`` held it back).
        if exchange.header(.expect) != nil && unanswered == 1 && exchange.response == nil {
            write([UInt8]("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        // Parsed even when empty (a body-less request completes), and also during a graceful drain
        // (`stopReading`): these bytes were read before it. The next pipelined head may be held in turn.
        held.withUnsafeBufferPointer { bytes in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: 1) { empty in parse(bytes.baseAddress ?? UnsafePointer(empty.baseAddress!), bytes.count) }
        }
        guard !closed, heldBytes == nil else { return }
        // Answers flushed during the hold did not resume a read paused for pipelining (``flush()``).
        if readingPaused && !stopReading && unanswered < hooks.limits.maxPipelinedRequests / 2 { readingPaused = false }
        // A takeover (WebSocket) or a stream (SSE) started by the dispatch above still needs the
        // socket's reads (its frames, the client's end), although HTTP parsing stopped.
        if takeover != nil || stream != nil || (!stopReading && !readingPaused) { startReading() }
    }

    // MARK: Parser callbacks

    /// The exchange for a new request: the spare one, reset, or a new one.
    private func makeExchange() -> HTTPExchange {
        if spare != nil, isKnownUniquelyReferenced(&spare!), spare! !== upgradeExchange {
            let reused = spare!
            spare = nil
            reused.reset(token: hooks.nextToken())
            return reused
        }
        spare = nil
        return HTTPExchange(token: hooks.nextToken(), connection: self)
    }

    fileprivate func messageBegin() -> Int32 {
        let exchange = makeExchange()
        current = exchange
        queue.append(exchange)
        lastCallbackWasValue = false
        trailerBytes = 0
        framing.reset()
        headScanPending = true
        phase = .head
        phaseStarted = hooks.loop.now
        publishHandoverState()
        return 0
    }

    /// The method's bytes: the first call of a message marks where its head starts.
    fileprivate func method(_ data: UnsafePointer<CChar>) -> Int32 {
        if headScanPending {
            headScanPending = false
            headScanStart = data
        }
        return 0
    }

    fileprivate func url(_ data: UnsafePointer<CChar>, _ length: Int) -> Int32 {
        guard let currentRef else { return refused }
        return currentRef._withUnsafeGuaranteedRef { exchange in
            if exchange.appendTarget(data, length) > hooks.limits.maxURLBytes {
                pendingError = (414, "request target is longer than \(hooks.limits.maxURLBytes) bytes", [])
                return refused
            }
            return checkHeadSize(exchange)
        }
    }

    fileprivate func headerField(_ data: UnsafePointer<CChar>, _ length: Int) -> Int32 {
        guard let currentRef else { return refused }
        if phase == .body { return skipTrailer(length) }
        return currentRef._withUnsafeGuaranteedRef { exchange in
            guard exchange.appendFieldName(data, length, newField: lastCallbackWasValue, maxFields: hooks.limits.maxHeaderCount) else {
                pendingError = (431, "more than \(hooks.limits.maxHeaderCount) header fields", [])
                return refused
            }
            lastCallbackWasValue = false
            return checkHeadSize(exchange)
        }
    }

    fileprivate func headerValue(_ data: UnsafePointer<CChar>, _ length: Int) -> Int32 {
        guard let currentRef else { return refused }
        return currentRef._withUnsafeGuaranteedRef { exchange in
            guard !exchange.headerRanges.isEmpty else { return refused }
            if phase == .body { return skipTrailer(length) }
            // llhttp's strict mode admits only token characters in a name (RFC 9110 §5.6.2), but an empty name too.
            guard exchange.appendFieldValue(data, length, continuing: lastCallbackWasValue) else {
                pendingError = Self.badFieldName
                return refused
            }
            lastCallbackWasValue = true
            return checkHeadSize(exchange)
        }
    }

    /// A trailer field's bytes (llhttp reports trailers of a chunked body through the header
    /// callbacks): never merged into the head the gateway authenticated and the plugin reads
    /// (RFC 9110 §6.5.1), only counted against the head's size limit.
    private func skipTrailer(_ length: Int) -> Int32 {
        trailerBytes += length
        guard trailerBytes > hooks.limits.maxHeaderBytes else { return 0 }
        pendingError = (431, "trailer fields are larger than \(hooks.limits.maxHeaderBytes) bytes", [])
        return refused
    }

    private func checkHeadSize(_ exchange: HTTPExchange) -> Int32 {
        guard exchange.headBytes > hooks.limits.maxHeaderBytes else { return 0 }
        pendingError = (431, "request line and headers are larger than \(hooks.limits.maxHeaderBytes) bytes", [])
        return refused
    }

    /// What a callback returns to stop llhttp over a refusal in ``pendingError``.
    private let refused = Int32(HPE_USER.rawValue)

    /// Pauses llhttp at the end of a head: ``didRead(_:_:)`` then knows where the head ends,
    /// checks its framing and admits it (``admitHead(end:)``) before parsing goes on.
    fileprivate func headersComplete() -> Int32 {
        guard current != nil else { return -1 }
        headPaused = true
        return Int32(HPE_PAUSED.rawValue)
    }

    /// Checks and routes a complete head whose bytes in this read end at `end`; false (with
    /// ``pendingError`` set) to refuse it.
    private func admitHead(end: UnsafePointer<CChar>) -> Bool {
        guard let exchange = current else { return false }
        if let start = headScanStart, let violation = framing.scan(UnsafeRawBufferPointer(start: start, count: end - start)) {
            pendingError = (400, violation.detail, [])
            return false
        }
        framing.reset()
        headScanStart = nil
        exchange.method = HTTPMethodNames.name(of: parser.pointee.method)
        exchange.httpMinor = UInt16(parser.pointee.http_minor)
        exchange.keepAlive = llhttp_should_keep_alive(parser) != 0
        // Known now, so an answer written before the body (404, 405, a refusal) closes too.
        if !exchange.keepAlive { exchange.closeAfterResponse = true }
        let hostCount = exchange.headerRanges.count(where: { range in
            ASCIICase.equal(exchange.head.slice(range.name), "host")
        })
        if let violation = RequestHeadRules.check(major: UInt16(parser.pointee.http_major), minor: UInt16(parser.pointee.http_minor), hostCount: hostCount) {
            pendingError = (violation.status, violation.detail, [])
            return false
        }
        if parser.pointee.flags & UInt16(F_TRANSFER_ENCODING.rawValue) != 0 && !Self.onlyChunked(exchange) {
            // llhttp refuses a coding after `chunked` and one without it; this is one before it.
            pendingError = (501, "only the chunked transfer coding is supported; send 'Transfer-Encoding: chunked' alone", [])
            return false
        }
        let target: RequestTarget
        do {
            target = try RequestTarget.parse(exchange.head.slice(exchange.urlRange), method: exchange.method)
        } catch {
            pendingError = (error.status, error.detail, [])
            return false
        }
        switch target.form {
        case .authority:
            pendingError = (501, "CONNECT is not supported: this server is an origin server, not a proxy", [])
            return false
        case .absolute:
            // RFC 9112 §3.2.2 lets the target's authority override Host; this server routes and
            // picks tenants by Host, so the two must agree.
            guard let host = exchange.header(.host), Self.sameHost(host, target.authority) else {
                pendingError = (400, "the absolute-form target names '\(target.authority)' but the Host field names another host; they must agree", [])
                return false
            }
        case .origin, .asterisk:
            break
        }
        exchange.path = target.path
        exchange.rawPath = target.rawPath
        exchange.query = target.query
        // The whole target is the path when it has no `?` (a query, even an empty one, adds bytes).
        exchange.targetIsPlainPath = target.form == .origin && target.rawPath.utf8.count == exchange.urlRange.count
        if let given = exchange.header(.requestID), RequestIDGenerator.isSane(given) {
            exchange.requestID = String(decoding: given, as: UTF8.self)
        } else {
            hooks.generateRequestID(for: exchange)
        }
        hooks.headComplete(exchange)
        // llhttp: the declared Content-Length (0 when there is none or the body is chunked).
        let declared = parser.pointee.content_length
        if declared > exchange.bodyLimit {
            pendingError = (413, "body of \(declared) bytes is larger than the \(exchange.bodyLimit) bytes this route accepts", [])
            return false
        }
        if declared != 0 && !hooks.bodies.reserve(declared, for: exchange) {
            pendingError = Self.overBudget(hooks.bodies.limit)
            return false
        }
        // A declared length (within the route's limit and the budget) is allocated once, at its size.
        if declared != 0 { exchange.body.reserve(Int(declared)) }
        if let expect = exchange.header(.expect) {
            guard String(decoding: expect, as: UTF8.self).lowercased() == "100-continue" else {
                pendingError = (417, "only 'Expect: 100-continue' is supported", [])
                return false
            }
            // A held head gets its `100 Continue` only once admitted (``releaseHead(_:refuse:)``).
            if unanswered == 1 && exchange.response == nil && holdRequested !== exchange { write([UInt8]("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
        }
        phase = .body
        phaseStarted = hooks.loop.now
        return true
    }

    /// Whether every `Transfer-Encoding` field of the request says exactly `chunked` (ASCII case-insensitive).
    private static func onlyChunked(_ exchange: HTTPExchange) -> Bool {
        exchange.headerRanges.allSatisfy { range in
            let name = exchange.head.slice(range.name)
            guard ASCIICase.equal(name, "transfer-encoding") else { return true }
            var value = exchange.head.slice(range.value)[...]
            while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
            return ASCIICase.equal(UnsafeRawBufferPointer(rebasing: value), "chunked")
        }
    }

    /// Whether a `Host` value and an authority name the same host and port (ASCII case-insensitive).
    private static func sameHost(_ host: UnsafeRawBufferPointer, _ authority: String) -> Bool {
        var authority = authority
        return authority.withUTF8 { ASCIICase.equal(host, UnsafeRawBufferPointer($0)) }
    }

    fileprivate func bodyData(_ data: UnsafePointer<CChar>, _ length: Int) -> Int32 {
        guard let exchange = current else { return refused }
        let total = UInt64(exchange.body.count + length)
        if total > exchange.bodyLimit {
            pendingError = (413, "body is larger than the \(exchange.bodyLimit) bytes this route accepts", [])
            return refused
        }
        // A body without `Content-Length` (chunked) reserves its budget as it arrives.
        if total > exchange.reservedBodyBytes && !hooks.bodies.reserve(total - exchange.reservedBodyBytes, for: exchange) {
            pendingError = Self.overBudget(hooks.bodies.limit)
            return refused
        }
        exchange.body.append(data, length)
        return 0
    }

    /// 400 for a header field name with whitespace, a separator or a control character in it.
    private static let badFieldName = (status: 400, detail: "a header field name is not a token: it contains whitespace, a separator or a control character",
                                       headers: [(String, String)]())

    /// 503 for a body the server's body budget cannot hold now.
    private static func overBudget(_ budget: UInt64) -> (status: Int, detail: String, headers: [(String, String)]) {
        (503, "the server holds as many request bodies as its \(budget)-byte body budget allows; retry shortly", [("Retry-After", "1")])
    }

    /// Returns `HPE_PAUSED` when the connection reads no further request (it closes after this one).
    fileprivate func messageComplete() -> Int32 {
        guard let exchange = current else { return refused }
        current = nil
        phase = .idle
        var last = false
        if !exchange.keepAlive || lingering {
            lingering = false
            exchange.closeAfterResponse = true
            stopReading = true
            uv_read_stop(uvStream)
            last = true
        }
        if unanswered >= hooks.limits.maxPipelinedRequests && !readingPaused && !stopReading {
            readingPaused = true
            uv_read_stop(uvStream)
        }
        if parser.pointee.upgrade != 0 { upgradeExchange = exchange }
        hooks.bodyComplete(exchange)
        return last ? Int32(HPE_PAUSED.rawValue) : 0
    }

    // MARK: Writing

    /// Writes every answered response at the head of the queue, in order.
    func flush() {
        guard !closed else { return }
        // One answer (the common case) is written from its exchange's buffer; several are
        // gathered into one write.
        var single: UnsafeRawBufferPointer?
        // `single` points into this exchange's buffer: held here, so the compaction below (which
        // may drop it from the queue) cannot free the bytes before they are written.
        var singleOwner: HTTPExchange?
        var out: [UInt8] = []
        while queueHead < queue.count, let response = queue[queueHead].response {
            let exchange = queue[queueHead]
            queueHead += 1
            hooks.bodies.release(exchange)
            if single == nil && out.isEmpty {
                single = response
                singleOwner = exchange
            } else {
                if let first = single {
                    out.append(contentsOf: first)
                    single = nil
                    singleOwner = nil
                }
                out.append(contentsOf: response)
            }
            hooks.written(exchange, response.count)
            if exchange.closeAfterResponse {
                closing = true
                break
            }
        }
        if queueHead == queue.count {
            // The last exchange answered is kept as the spare: a keep-alive connection reads
            // its next request into the same buffers (``makeExchange()``).
            if queue.count == 1 {
                spare = queue.removeLast()
            } else {
                spare = queue.last
                queue.removeAll(keepingCapacity: true)
            }
            queueHead = 0
        } else if queueHead > 32 {
            queue.removeFirst(queueHead)
            queueHead = 0
        }
        // A single answer's buffer is alive: ``singleOwner`` holds its exchange (the compaction
        // above may have removed it from the queue); ``write(_:)`` copies what the socket did not take.
        if let single { withExtendedLifetime(singleOwner) { write(single) } } else if !out.isEmpty { out.withUnsafeBytes { write($0) } }
        // An idle keep-alive connection holds no large answer: past 4 KiB, the buffer is freed once
        // written (what the socket did not take was copied), and the next answer allocates again.
        if let spare, spare.responseBytes.capacity > HTTPExchange.keptResponseBytes {
            spare.response = nil
            spare.responseBytes.release()
        }
        defer { publishHandoverState() }
        if closing || (peerEnded && unanswered == 0) {
            closing = true
            if writesInFlight == 0 { closeOrLinger() }
        } else if readingPaused && heldBytes == nil && unanswered < hooks.limits.maxPipelinedRequests / 2 {
            readingPaused = false
            startReading()
        }
    }

    /// Writes `bytes`: first synchronously with `uv_try_write` (the common case: the socket
    /// buffer has room, so no request, no callback and no epoll change are needed), then queues
    /// whatever is left with `uv_write`.
    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Writes `bytes` (they need to stay valid only during the call: what the socket does not
    /// take at once is copied).
    private func write(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var written = 0
        if writesInFlight == 0 {
            var buffer = uv_buf_init(UnsafeMutableRawPointer(mutating: base).assumingMemoryBound(to: CChar.self), UInt32(bytes.count))
            let result = uv_try_write(uvStream, &buffer, 1)
            written = result > 0 ? Int(result) : 0
            if written == bytes.count { return }
        }
        let remaining = bytes.count - written
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        let storage = malloc(remaining)!
        storage.copyMemory(from: base + written, byteCount: remaining)
        request.pointee.data = storage
        var buffer = uv_buf_init(storage.assumingMemoryBound(to: CChar.self), UInt32(remaining))
        writesInFlight += 1
        publishHandoverState()
        let status = uv_write(request, uvStream, &buffer, 1) { request, status in
            let request = request!
            let connection = Unmanaged<HTTPConnection>.fromOpaque(request.pointee.handle.pointee.data).takeUnretainedValue()
            free(request.pointee.data)
            request.deallocate()
            connection.didWrite(status)
        }
        if status != 0 {
            free(storage)
            request.deallocate()
            writesInFlight -= 1
            close()
        }
    }

    private func didWrite(_ status: Int32) {
        writesInFlight -= 1
        if status != 0 { close(); return }
        if closing && writesInFlight == 0 { closeOrLinger() }
        publishHandoverState()
    }

    /// Closes, or (after a refused held head, ``lingerBeforeClose``) shuts the write side once
    /// everything is written and reads and discards what the client still sends, for at most
    /// ``lingerMilliseconds`` and ``lingerBytes`` (the sweeper ends it, ``lingerExpired(now:)``).
    private func closeOrLinger() {
        guard lingerBeforeClose, discardingSince == nil, !closed, !peerEnded else { return close() }
        lingerBeforeClose = false
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        guard uv_shutdown(request, uvStream, { request, _ in request?.deallocate() }) == 0 else {
            request.deallocate()
            return close()
        }
        discardingSince = hooks.loop.now
        startReading()
    }

    /// Whether a lingering close has read and discarded for long enough: then it should close.
    func lingerExpired(now: UInt64) -> Bool {
        guard let since = discardingSince, !closed else { return false }
        return now - since > Self.lingerMilliseconds
    }

    /// Closes the connection once the current response is written (used by shutdown).
    func closeWhenIdle(linger: Bool = false) {
        if linger && takeover == nil && stream == nil && unanswered == 0 && writesInFlight == 0 && !closing {
            lingering = true  // the next request (if one comes) is answered with `Connection: close`
            return
        }
        lingering = false
        if let takeover {
            takeover.connectionShutdown()
            return
        }
        if let stream {
            stream.finish()
            return
        }
        if unanswered == 0 && phase == .idle && writesInFlight == 0 {
            close()
        } else {
            stopReading = true
            uv_read_stop(uvStream)
            for exchange in queue[queueHead...] { exchange.closeAfterResponse = true }
            if unanswered == 0 { closing = true }
        }
    }

    /// Closes at once; unanswered requests are abandoned.
    func close() {
        guard !closed else { return }
        closed = true
        closing = true
        heldBytes = nil
        holdRequested = nil
        for exchange in queue[queueHead...] {
            hooks.bodies.release(exchange)
            exchange.abandoned = true
            hooks.abandoned(exchange)
        }
        let stream = self.stream
        self.stream = nil
        stream?.connectionClosed()
        let takeover = self.takeover
        self.takeover = nil
        takeover?.connectionClosed()
        hooks.closed(self)
        uv_close(UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_handle_t.self)) { handle in
            Unmanaged<HTTPConnection>.fromOpaque(handle!.pointee.data).release()
        }
    }

    private var uvStream: UnsafeMutablePointer<uv_stream_t> {
        UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_stream_t.self)
    }

    // MARK: Handover (supervised workers)

    /// Publishes where this connection stands for the master (``ConnectionHandover``): at a
    /// request boundary with nothing unread or unwritten (another worker may take it over), a
    /// request in flight (in which plugin), or mid-answer, streaming or closing (only closing is safe).
    func publishHandoverState() {
        guard handoverSlot != ConnectionHandover.noSlot, !closed, let handover = hooks.handover() else { return }
        handover.publish(handoverSlot, handoverState(handover))
    }

    /// ``publishHandoverState()`` as `exchange` is handed to `plugin`: when it is the only request
    /// of the connection not answered yet (no pipelining: the common case), the state is that
    /// plugin's without walking the queue.
    func publishHandoverState(handingOver exchange: HTTPExchange, to plugin: PluginInstance) {
        guard handoverSlot != ConnectionHandover.noSlot, !closed, let handover = hooks.handover() else { return }
        if queue.count - queueHead == 1, queue[queueHead] === exchange, exchange !== current,
           stream == nil, takeover == nil, writesInFlight == 0 {
            handover.publish(handoverSlot, handover.state(inFlightIn: plugin))
        } else {
            handover.publish(handoverSlot, handoverState(handover))
        }
    }

    private func handoverState(_ handover: ConnectionHandover) -> UInt32 {
        if stream != nil || takeover != nil || writesInFlight > 0 { return plexus_slot_unsafe }
        if unanswered == 0 { return phase == .idle && !closing && !stopReading && !peerEnded ? plexus_slot_idle : plexus_slot_unsafe }
        // The newest request handed to a plugin and not answered yet (plain indices: this runs
        // several times per request).
        var index = queue.count - 1
        while index >= queueHead {
            let exchange = queue[index]
            index -= 1
            guard exchange.response == nil, exchange !== current, let route = exchange.route else { continue }
            return handover.state(inFlightIn: route.plugin)
        }
        return plexus_slot_busy
    }

    // MARK: llhttp settings

    /// The callbacks every connection's parser shares (llhttp keeps the pointer: it lives forever).
    nonisolated(unsafe) static let settings: UnsafeMutablePointer<llhttp_settings_t> = {
        let settings = UnsafeMutablePointer<llhttp_settings_t>.allocate(capacity: 1)
        llhttp_settings_init(settings)
        settings.pointee.on_message_begin = { parser in from(parser) { $0.messageBegin() } }
        settings.pointee.on_method = { parser, data, _ in from(parser) { $0.method(data!) } }
        settings.pointee.on_url = { parser, data, length in from(parser) { $0.url(data!, length) } }
        settings.pointee.on_header_field = { parser, data, length in from(parser) { $0.headerField(data!, length) } }
        settings.pointee.on_header_value = { parser, data, length in from(parser) { $0.headerValue(data!, length) } }
        settings.pointee.on_headers_complete = { parser in from(parser) { $0.headersComplete() } }
        settings.pointee.on_body = { parser, data, length in from(parser) { $0.bodyData(data!, length) } }
        settings.pointee.on_message_complete = { parser in from(parser) { $0.messageComplete() } }
        return settings
    }()

    /// Runs `body` with the parser's connection, borrowed (the connection outlives its parser's calls).
    @inline(__always)
    private static func from(_ parser: UnsafeMutablePointer<llhttp_t>?, _ body: (HTTPConnection) -> Int32) -> Int32 {
        Unmanaged<HTTPConnection>.fromOpaque(parser!.pointee.data)._withUnsafeGuaranteedRef(body)
    }
}
