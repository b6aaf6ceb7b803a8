import CPlexusABI
import Foundation
import PlexusPolicy

/// One request on one connection and, once answered, its response: the connection's
/// ``RequestContext``, adding the body and what the connection needs to write the answer.
///
/// The request's bytes live in ``RawBytes`` buffers that do not move after the head is complete,
/// so the C request handed to a plugin can point straight into them until it responds.
final class HTTPExchange: RequestContext {
    /// The connection outlives its exchanges: it drops them all before it is freed.
    unowned(unsafe) let connection: HTTPConnection

    // Request, filled by the parser.
    let body = RawBytes()
    var keepAlive = true
    var expectsContinue = false
    /// Bytes of the server's body budget this request holds (``BodyBudget``).
    var reservedBodyBytes: UInt64 = 0
    private var arena: UnsafeMutableRawPointer?
    private var arenaCapacity = 0

    // Response.
    /// The encoded answer (head and body), in ``responseBytes``; nil while there is none.
    var response: UnsafeRawBufferPointer?
    /// Where the answer is encoded: kept from one request of the connection to the next, so an
    /// answer costs no allocation once the buffer has grown to fit (up to ``keptResponseBytes``).
    let responseBytes = RawBytes()
    /// The most bytes of answer buffer an exchange keeps once its answer is written.
    static let keptResponseBytes = 4096
    var closeAfterResponse = false
    /// The connection closed before the answer: nothing may be written for it any more.
    var abandoned = false
    /// The response is a stream owned by an ``HTTPStream``.
    var streaming = false

    init(token: UInt64, connection: HTTPConnection) {
        self.connection = connection
        super.init(token: token, peer: connection.peer)
    }

    deinit { free(arena) }

    /// Makes this exchange a fresh one for the connection's next request (``HTTPConnection``
    /// reuses an exchange nothing else holds once its answer is written): the request's buffers
    /// and arrays keep their memory, a body's is freed.
    func reset(token: UInt64) {
        resetContext(token: token)
        body.release()
        keepAlive = true
        expectsContinue = false
        reservedBodyBytes = 0
        response = nil
        if responseBytes.capacity > Self.keptResponseBytes { responseBytes.release() }
        closeAfterResponse = false
        abandoned = false
        streaming = false
        if arenaCapacity > 4096 {
            free(arena)
            arena = nil
            arenaCapacity = 0
        }
    }

    /// Builds the C view of this request. Pointers stay valid until the exchange is released.
    /// Unless `credentials` is true, the headers the gateway consumed (``CredentialForwarding``)
    /// are left out.
    func makeCRequest(credentials: Bool = false) -> plexus_request {
        // One block: header pairs, parameter pairs, then the text they point to.
        let pairCount = headerRanges.count + parameters.count
        let subject = caller?.subject ?? "", tenantText = tenant ?? ""
        let roles = caller?.rolesText ?? "", scopes = caller?.scopesText ?? ""
        var textBytes = method.utf8.count + path.utf8.count + query.utf8.count + requestIDByteCount
            + subject.utf8.count + tenantText.utf8.count + roles.utf8.count + scopes.utf8.count
        for parameter in parameters { textBytes += parameter.name.utf8.count + parameter.value.utf8.count }
        // ABI 1.6: the roles and scopes once more, as arrays of views into the same texts.
        let roleList = caller?.roleList ?? [], scopeList = caller?.scopeList ?? []
        let pairBytes = pairCount * MemoryLayout<plexus_pair>.stride
        let listBytes = (roleList.count + scopeList.count) * MemoryLayout<plexus_bytes>.stride
        let needed = max(pairBytes + listBytes + textBytes, 1)
        if needed > arenaCapacity {
            free(arena)
            // Room for a few more bytes than asked, so the next request of a reused exchange fits.
            arenaCapacity = max(needed, 256)
            arena = malloc(arenaCapacity)!
        }
        let block = arena!
        let pairs = block.bindMemory(to: plexus_pair.self, capacity: max(pairCount, 1))
        let lists = (block + pairBytes).bindMemory(to: plexus_bytes.self, capacity: max(roleList.count + scopeList.count, 1))
        var cursor = block + pairBytes + listBytes
        func store(_ bytes: UnsafeRawBufferPointer) -> plexus_bytes {
            let start = cursor
            if let source = bytes.baseAddress, !bytes.isEmpty { cursor.copyMemory(from: source, byteCount: bytes.count) }
            cursor += bytes.count
            return plexus_bytes(data: start.assumingMemoryBound(to: CChar.self), length: bytes.count)
        }
        func store(_ text: borrowing String) -> plexus_bytes {
            let start = cursor
            let count = text.utf8.count
            // Most requests leave several texts empty (query, subject, tenant, roles, scopes).
            if count == 0 { return plexus_bytes(data: start.assumingMemoryBound(to: CChar.self), length: 0) }
            if let stored = text.utf8.withContiguousStorageIfAvailable({ store(UnsafeRawBufferPointer($0)) }) { return stored }
            for (offset, byte) in text.utf8.enumerated() { cursor.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self) }
            cursor += count
            return plexus_bytes(data: start.assumingMemoryBound(to: CChar.self), length: count)
        }
        func bytes(_ range: Range<Int>) -> plexus_bytes {
            let slice = head.slice(range)
            return plexus_bytes(data: slice.baseAddress?.assumingMemoryBound(to: CChar.self), length: slice.count)
        }
        var headerCount = 0
        for range in headerRanges {
            let name = head.slice(range.name)
            if !credentials && CredentialForwarding.isConsumed(name) { continue }
            pairs[headerCount] = plexus_pair(name: plexus_bytes(data: name.baseAddress?.assumingMemoryBound(to: CChar.self), length: name.count),
                                             value: bytes(range.value))
            headerCount += 1
        }
        for (offset, parameter) in parameters.enumerated() {
            pairs[headerCount + offset] = plexus_pair(name: store(parameter.name), value: store(parameter.value))
        }
        var request = plexus_request()
        request.struct_size = UInt32(MemoryLayout<plexus_request>.size)
        request.token = token
        request.method = store(method)
        request.path = store(path)
        request.query = store(query)
        request.request_id = withRequestIDBytes { store($0) }
        request.subject = store(subject)
        request.tenant = store(tenantText)
        request.roles = store(roles)
        request.scopes = store(scopes)
        if !roleList.isEmpty || !scopeList.isEmpty {
            // Views into the texts just stored: "a,b" and "x y" hold each name once, in order.
            func views(_ names: [String], into first: UnsafeMutablePointer<plexus_bytes>, over text: plexus_bytes) {
                var offset = 0
                for (index, name) in names.enumerated() {
                    first[index] = plexus_bytes(data: text.data.map { $0 + offset }, length: name.utf8.count)
                    offset += name.utf8.count + 1
                }
            }
            views(roleList, into: lists, over: request.roles)
            views(scopeList, into: lists + roleList.count, over: request.scopes)
            request.role_list = roleList.isEmpty ? nil : UnsafePointer(lists)
            request.role_count = roleList.count
            request.scope_list = scopeList.isEmpty ? nil : UnsafePointer(lists + roleList.count)
            request.scope_count = scopeList.count
        }
        request.headers = UnsafePointer(pairs)
        request.header_count = headerCount
        request.params = UnsafePointer(pairs + headerCount)
        request.param_count = parameters.count
        request.body = plexus_bytes(data: body.base?.assumingMemoryBound(to: CChar.self), length: body.count)
        return request
    }
}
