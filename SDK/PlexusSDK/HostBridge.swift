import CPlexusABI

/// The plugin's view of the host vtable: thin, checked wrappers over the C calls.
///
/// Fields appended in later ABI minors must be guarded with ``has(_:)`` before use.
struct HostBridge: @unchecked Sendable {
    let host: UnsafePointer<plexus_host>

    /// Whether the host's struct is large enough to contain the field at `offset`.
    func has(_ keyPath: KeyPath<plexus_host, some Any>) -> Bool {
        guard let offset = MemoryLayout<plexus_host>.offset(of: keyPath) else { return false }
        return Int(host.pointee.struct_size) > offset
    }

    func log(_ level: plexus_log_level, _ message: String) {
        message.withCString { host.pointee.log(host, Int32(level.rawValue), $0) }
    }

    func config(_ key: String) -> String? {
        key.withCString { host.pointee.config_get(host, $0) }.map { String(cString: $0) }
    }

    /// Hands `response` to the runtime: its header pairs and their text laid out in one
    /// temporary block (on the stack when small), the body read in place.
    func respond(token: UInt64, _ response: Response) {
        let headers = response.headers
        let fieldCount = headers.count
        var textBytes = 0
        headers.forEach { name, value in textBytes += name.utf8.count + value.utf8.count }
        let pairBytes = fieldCount * MemoryLayout<plexus_pair>.stride
        withUnsafeTemporaryAllocation(byteCount: max(pairBytes + textBytes, 1), alignment: MemoryLayout<plexus_pair>.alignment) { block in
            let base = block.baseAddress!
            let pairs = base.bindMemory(to: plexus_pair.self, capacity: max(fieldCount, 1))
            var cursor = base + pairBytes
            func store(_ text: String) -> plexus_bytes {
                var text = text
                return text.withUTF8 { utf8 in
                    let start = cursor
                    if let source = utf8.baseAddress { cursor.copyMemory(from: source, byteCount: utf8.count) }
                    cursor += utf8.count
                    return plexus_bytes(data: start.assumingMemoryBound(to: CChar.self), length: utf8.count)
                }
            }
            var index = 0
            headers.forEach { name, value in
                pairs[index] = plexus_pair(name: store(name), value: store(value))
                index += 1
            }
            response.body.withUnsafeBytes { body in
                var raw = plexus_response()
                raw.struct_size = UInt32(MemoryLayout<plexus_response>.size)
                raw.status = UInt16(clamping: response.status)
                raw.headers = UnsafePointer(pairs)
                raw.header_count = fieldCount
                raw.body = plexus_bytes(data: body.baseAddress?.assumingMemoryBound(to: CChar.self), length: body.count)
                host.pointee.respond(host, token, &raw)
            }
        }
    }
}

extension plexus_bytes {
    /// The bytes as a Swift string (invalid UTF-8 is repaired).
    var string: String {
        guard let data, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }

    /// The bytes as an array.
    var bytes: [UInt8] {
        guard let data, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: length))
    }
}
