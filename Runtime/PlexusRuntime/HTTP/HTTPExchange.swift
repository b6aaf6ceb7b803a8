import CPlexusABI
import Foundation
import PlexusPolicy

/// One request and, once answered, its response, on one connection.
///
/// The request's bytes live in ``RawBytes`` buffers that do not move after the head is complete,
/// so the C request handed to a plugin can point straight into them until it responds.
final class HTTPExchange {
    let token: UInt64
    /// The connection outlives its exchanges: it drops them all before it is freed.
    unowned(unsafe) let connection: HTTPConnection
    let startNanoseconds: UInt64

    // Request, filled by the parser.
    let head = RawBytes(capacity: 512)
    var urlRange = 0..<0
    var headerRanges: [(name: Range<Int>, value: Range<Int>)] = []
    let body = RawBytes()
    var method = ""
    var keepAlive = true
    var httpMinor: UInt16 = 1
    var expectsContinue = false
    var path = ""
    /// The path as sent, percent-escapes not decoded: routes match it segment by segment.
    var rawPath = ""
    var query = ""
    var requestID = ""
    var bodyLimit: UInt64 = 0
    /// Bytes of the server's body budget this request holds (``HTTPServer/reserveBody(_:for:)``).
    var reservedBodyBytes: UInt64 = 0

    // Dispatch.
    var route: RegisteredRoute?
    var builtin: HTTPServer.Builtin?
    var parameters: [(name: String, value: String)] = []
    private var arena: UnsafeMutableRawPointer?

    // Gateway.
    /// The verified caller (nil: anonymous).
    var caller: Caller?
    /// The request's tenant: a verified caller's own (nil when its credentials carry none), or
    /// for an anonymous request the one the `Host` maps to (unverified: no caller goes with it).
    var tenant: String?
    /// Headers the gateway adds to whatever response this request gets (CORS, rate limits).
    var extraHeaders: [(String, String)] = []
    /// The request holds a bulkhead slot and a breaker permit to give back when it is answered.
    var guarded = false
    /// The circuit breaker's permit for this request.
    var permit: CircuitPermit?
    /// When the gateway answers 504 instead of the plugin (loop milliseconds; 0: never).
    var deadline: UInt64 = 0

    // Response.
    var response: [UInt8]?
    var status = 0
    var closeAfterResponse = false
    /// The connection closed before the answer: nothing may be written for it any more.
    var abandoned = false
    /// The response is a stream owned by an ``HTTPStream``.
    var streaming = false

    init(token: UInt64, connection: HTTPConnection) {
        self.token = token
        self.connection = connection
        self.startNanoseconds = DispatchTime.now().uptimeNanoseconds
    }

    deinit { free(arena) }

    var isHead: Bool { method == "HEAD" }

    /// The value of the first header named `name` (ASCII case-insensitive), as raw bytes.
    func header(_ name: StaticString) -> UnsafeRawBufferPointer? {
        let wanted = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        for range in headerRanges where range.name.count == wanted.count {
            let candidate = head.slice(range.name)
            if zip(candidate, wanted).allSatisfy({ ($0 | 0x20) == ($1 | 0x20) }) { return head.slice(range.value) }
        }
        return nil
    }

    /// Builds the C view of this request. Pointers stay valid until the exchange is released.
    func makeCRequest() -> plexus_request {
        // One block: header pairs, parameter pairs, then the text they point to.
        let pairCount = headerRanges.count + parameters.count
        let subject = caller?.subject ?? "", tenantText = tenant ?? ""
        let roles = caller?.rolesText ?? "", scopes = caller?.scopesText ?? ""
        var textBytes = method.utf8.count + path.utf8.count + query.utf8.count + requestID.utf8.count
            + subject.utf8.count + tenantText.utf8.count + roles.utf8.count + scopes.utf8.count
        for parameter in parameters { textBytes += parameter.name.utf8.count + parameter.value.utf8.count }
        let pairBytes = pairCount * MemoryLayout<plexus_pair>.stride
        free(arena)
        let block = malloc(max(pairBytes + textBytes, 1))!
        arena = block
        let pairs = block.bindMemory(to: plexus_pair.self, capacity: max(pairCount, 1))
        var cursor = block + pairBytes
        func store(_ text: String) -> plexus_bytes {
            var text = text
            return text.withUTF8 { utf8 in
                let start = cursor
                if let source = utf8.baseAddress { cursor.copyMemory(from: source, byteCount: utf8.count) }
                cursor += utf8.count
                return plexus_bytes(data: start.assumingMemoryBound(to: CChar.self), length: utf8.count)
            }
        }
        func bytes(_ range: Range<Int>) -> plexus_bytes {
            let slice = head.slice(range)
            return plexus_bytes(data: slice.baseAddress?.assumingMemoryBound(to: CChar.self), length: slice.count)
        }
        for (index, range) in headerRanges.enumerated() {
            pairs[index] = plexus_pair(name: bytes(range.name), value: bytes(range.value))
        }
        for (offset, parameter) in parameters.enumerated() {
            pairs[headerRanges.count + offset] = plexus_pair(name: store(parameter.name), value: store(parameter.value))
        }
        var request = plexus_request()
        request.struct_size = UInt32(MemoryLayout<plexus_request>.size)
        request.token = token
        request.method = store(method)
        request.path = store(path)
        request.query = store(query)
        request.request_id = store(requestID)
        request.subject = store(subject)
        request.tenant = store(tenantText)
        request.roles = store(roles)
        request.scopes = store(scopes)
        request.headers = UnsafePointer(pairs)
        request.header_count = headerRanges.count
        request.params = UnsafePointer(pairs + headerRanges.count)
        request.param_count = parameters.count
        request.body = plexus_bytes(data: body.base?.assumingMemoryBound(to: CChar.self), length: body.count)
        return request
    }
}
