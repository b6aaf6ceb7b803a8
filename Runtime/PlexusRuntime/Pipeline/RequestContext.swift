import CLibUV
import Foundation
import PlexusPolicy

/// What the pipeline's stages see of one request: its head, where it came from, the route it
/// matched, and what the stages found out about it (caller, tenant, headers for the answer).
///
/// It knows nothing of sockets, so a stage can be driven in a test with a context built by
/// hand. ``HTTPExchange`` is the connection's subclass, adding the body and the response; one
/// object per request either way. Every member is `final`: the request path reads them
/// directly, with no dispatch and no extra reference counting. Loop thread only.
class RequestContext {
    /// Identifies the request among those waiting for a plugin's answer.
    final private(set) var token: UInt64
    /// The client end of the connection the request came on.
    let peer: ConnectionPeer
    /// When the request began (monotonic nanoseconds, `uv_hrtime`: a vDSO clock read, without
    /// Dispatch's conversions).
    final private(set) var startNanoseconds: UInt64

    // The head, filled by the parser.
    /// The request line's target and the header fields, as sent (``headerRanges`` point into it).
    let head = RawBytes(capacity: 512)
    final var urlRange = 0..<0
    final var headerRanges: [(name: Range<Int>, value: Range<Int>)] = [] {
        didSet { commonFieldsIndexed = false }
    }
    /// Where the first field of each ``CommonField`` is in ``headerRanges`` (its index + 1; 0:
    /// absent), found in one pass over the names at the first lookup after the head changed.
    private final var commonFieldIndex = InlineArray<8, Int32>(repeating: 0)
    private final var commonFieldsIndexed = false
    final var method = ""
    final var httpMinor: UInt16 = 1
    final var path = ""
    /// The path as sent, percent-escapes not decoded: routes match it segment by segment.
    final var rawPath = ""
    final var query = ""
    /// The target is an origin-form path the target parser admitted, with no query: path
    /// characters and percent escapes only, which no access log format escapes or redacts.
    final var targetIsPlainPath = false
    /// The request id: a sane client `X-Request-Id`, or the one generated for the request (made
    /// into a string only when read: the answer and the plugin's request copy its bytes, see
    /// ``withRequestIDBytes(_:)``). Setting it replaces a generated one.
    final var requestID: String {
        get {
            guard generatedIDLength > 0 else { return givenRequestID }
            return withUnsafeBytes(of: generatedID) { String(decoding: UnsafeRawBufferPointer(rebasing: $0[..<generatedIDLength]), as: UTF8.self) }
        }
        set {
            givenRequestID = newValue
            generatedIDLength = 0
        }
    }
    private final var givenRequestID = ""
    /// A generated id's bytes (``RequestIDGenerator/longest`` at most), held inline: no string to
    /// make or free per request.
    private final var generatedID: RequestIDGenerator.Bytes = (0, 0, 0, 0)
    private final var generatedIDLength = 0

    /// Gives the request a new id from `generator`.
    final func generateRequestID(_ generator: inout RequestIDGenerator) {
        givenRequestID = ""
        (generatedID, generatedIDLength) = generator.nextBytes()
    }

    /// Calls `body` with the UTF-8 bytes of ``requestID``.
    final func withRequestIDBytes<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        if generatedIDLength > 0 {
            return withUnsafeBytes(of: generatedID) { body(UnsafeRawBufferPointer(rebasing: $0[..<generatedIDLength])) }
        }
        var given = givenRequestID
        return given.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    /// How many bytes ``requestID`` has.
    final var requestIDByteCount: Int { generatedIDLength > 0 ? generatedIDLength : givenRequestID.utf8.count }

    // Routing.
    /// The route the request matched (nil: none, or not routed yet).
    final var target: RouteTarget? {
        didSet {
            if case .plugin(let route) = target { pluginRoute = route } else { pluginRoute = nil }
            routeID = target?.id ?? -1
        }
    }
    /// ``target``'s route id (-1: none), read without copying the target.
    final private(set) var routeID = -1
    /// ``target``'s plugin route, held `unowned(unsafe)`: ``target`` holds it, and the request
    /// path's stages read it without copying the enum (each copy retains and releases the route).
    private final unowned(unsafe) var pluginRoute: RegisteredRoute?
    final var parameters: [(name: String, value: String)] = []
    /// The most body bytes the matched route accepts.
    final var bodyLimit: UInt64 = 0

    // What the stages found out.
    /// The verified caller (nil: anonymous).
    final var caller: Caller?
    /// The request's tenant: a verified caller's own (nil when its credentials carry none), or
    /// for an anonymous request the one the `Host` maps to (unverified: no caller goes with it).
    final var tenant: String?
    /// Headers the stages add to whatever response this request gets (CORS, rate limits).
    final var extraHeaders: [(String, String)] = []
    /// The request holds a bulkhead slot and a breaker permit to give back when it is answered.
    final var guarded = false
    /// The circuit breaker's permit for this request.
    final var permit: CircuitPermit?
    /// When the runtime answers 504 instead of the plugin (loop milliseconds; 0: never).
    final var deadline: UInt64 = 0

    // The answer.
    /// The status answered (0 while there is none).
    final var status = 0

    init(token: UInt64, peer: ConnectionPeer) {
        self.token = token
        self.peer = peer
        self.startNanoseconds = uv_hrtime()
    }

    /// Makes this context a fresh one for the next request of the same peer (a connection reuses
    /// its last exchange): every field as ``init(token:peer:)`` leaves it, the head's buffer and
    /// the arrays keeping their capacity (a head grown past 8 KiB gives its memory back).
    final func resetContext(token: UInt64) {
        self.token = token
        startNanoseconds = uv_hrtime()
        if head.capacity > 8192 {
            head.release()
            head.reserve(512)
        } else {
            head.removeAll()
        }
        urlRange = 0..<0
        headerRanges.removeAll(keepingCapacity: true)
        method = ""
        httpMinor = 1
        path = ""
        rawPath = ""
        query = ""
        targetIsPlainPath = false
        if !givenRequestID.isEmpty { givenRequestID = "" }
        generatedIDLength = 0
        target = nil
        // Most requests capture no parameter and add no header: emptying an empty array still
        // costs a uniqueness check and a replacement.
        if !parameters.isEmpty { parameters.removeAll(keepingCapacity: true) }
        bodyLimit = 0
        caller = nil
        tenant = nil
        if !extraHeaders.isEmpty { extraHeaders.removeAll(keepingCapacity: true) }
        guarded = false
        permit = nil
        deadline = 0
        status = 0
    }

    final var isHead: Bool { method == "HEAD" }

    /// The plugin route the request matched, if it matched one.
    final var route: RegisteredRoute? { pluginRoute }

    /// The built-in endpoint the request matched, if it matched one.
    final var builtin: BuiltinRoute? {
        if case .builtin(let builtin) = target { return builtin }
        return nil
    }

    /// Appends `length` bytes of the request target (llhttp may hand it over in pieces) and
    /// returns the target's length so far (see ``appendFieldName(_:_:newField:maxFields:)`` for why
    /// this is a method of the context).
    final func appendTarget(_ data: UnsafePointer<CChar>, _ length: Int) -> Int {
        let start = urlRange.isEmpty ? head.count : urlRange.lowerBound
        head.append(data, length)
        urlRange = start..<head.count
        return urlRange.count
    }

    /// How many bytes of the head (target and fields) are held.
    final var headBytes: Int { head.count }

    /// Appends `length` bytes of a header field's name (llhttp may hand a name over in pieces);
    /// with `newField` (or no field yet) they begin the next field. False, with nothing appended,
    /// when that field would be one more than `maxFields`. A method of the context rather than code
    /// in the parser's callback: `self` is held for the call, so its `head` and `headerRanges` are
    /// used in place (the callback's own reads retained and released them for each piece).
    final func appendFieldName(_ data: UnsafePointer<CChar>, _ length: Int, newField: Bool, maxFields: Int) -> Bool {
        if newField || headerRanges.isEmpty {
            guard headerRanges.count < maxFields else { return false }
            let start = head.count
            headerRanges.append((start..<start, start..<start))
        }
        head.append(data, length)
        let end = head.count, index = headerRanges.count - 1
        headerRanges[index].name = headerRanges[index].name.lowerBound..<end
        headerRanges[index].value = end..<end
        return true
    }

    /// Appends `length` bytes of the last field's value (`continuing`: the previous piece was of
    /// this value too). False, with nothing appended, when a value begins after an empty name.
    final func appendFieldValue(_ data: UnsafePointer<CChar>, _ length: Int, continuing: Bool) -> Bool {
        let index = headerRanges.count - 1
        if !continuing && headerRanges[index].name.isEmpty { return false }
        head.append(data, length)
        headerRanges[index].value = headerRanges[index].value.lowerBound..<head.count
        return true
    }

    /// Header fields the request path looks up on most requests: found in one pass over the
    /// head's names instead of one pass per lookup.
    enum CommonField: Int {
        case host, authorization, apiKey, requestID, expect, userAgent, referer, origin
    }

    /// The value of the first `field` header (as ``header(_:)-StaticString`` finds it), as raw bytes.
    final func header(_ field: CommonField) -> UnsafeRawBufferPointer? {
        if !commonFieldsIndexed { indexCommonFields() }
        let index = Int(commonFieldIndex[field.rawValue])
        return index == 0 ? nil : head.slice(headerRanges[index - 1].value)
    }

    private final func indexCommonFields() {
        commonFieldIndex = InlineArray(repeating: 0)
        var position = 0
        while position < headerRanges.count {
            let name = head.slice(headerRanges[position].name)
            position += 1
            let field: CommonField
            switch name.count {
            case 4 where ASCIICase.equal(name, "host"): field = .host
            case 6 where ASCIICase.equal(name, "expect"): field = .expect
            case 6 where ASCIICase.equal(name, "origin"): field = .origin
            case 7 where ASCIICase.equal(name, "referer"): field = .referer
            case 9 where ASCIICase.equal(name, "x-api-key"): field = .apiKey
            case 10 where ASCIICase.equal(name, "user-agent"): field = .userAgent
            case 12 where ASCIICase.equal(name, "x-request-id"): field = .requestID
            case 13 where ASCIICase.equal(name, "authorization"): field = .authorization
            default: continue
            }
            if commonFieldIndex[field.rawValue] == 0 { commonFieldIndex[field.rawValue] = Int32(position) }
        }
        commonFieldsIndexed = true
    }

    /// The value of the first header named `name` (ASCII case-insensitive), as raw bytes.
    final func header(_ name: StaticString) -> UnsafeRawBufferPointer? {
        var field = 0
        while field < headerRanges.count {
            let range = headerRanges[field]
            field += 1
            if ASCIICase.equal(head.slice(range.name), name) { return head.slice(range.value) }
        }
        return nil
    }
}

/// The client end of one connection, shared by its requests: its address, and the credential
/// it presented last (keep-alive clients send the same token again and again).
final class ConnectionPeer {
    /// `ip:port` (or `[ip]:port`).
    let address: String
    /// The IP address without the port (rate limits, audit).
    let ip: String
    let isLoopback: Bool
    /// The `Authorization` value verified last on this connection (a JWT or an API key) and its caller.
    var lastAuthorization: [UInt8] = []
    var lastCaller: Caller?
    /// For an API key: its id and SHA-256, checked against the current keys when it comes again.
    var lastKey: (id: String, digest: [UInt8])?

    init(address: String, ip: String, isLoopback: Bool) {
        (self.address, self.ip, self.isLoopback) = (address, ip, isLoopback)
    }
}
