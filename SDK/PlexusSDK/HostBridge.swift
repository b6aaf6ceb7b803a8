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
        // One field (what `Response.text`, `.html` and `.json` make): its text is handed over in
        // place, with no block, no closure over the headers and so no copy of them (the general
        // path below copied the headers four times, each a retain and release of both strings).
        if var (name, value) = response.headers.single {
            name.withUTF8 { nameUTF8 in
                value.withUTF8 { valueUTF8 in
                    var pair = plexus_pair(name: Self.view(nameUTF8), value: Self.view(valueUTF8))
                    send(token, status: response.status, headers: &pair, count: 1, body: response.body)
                }
            }
            return
        }
        let headers = response.headers
        let fieldCount = headers.count
        var textBytes = 0
        headers.forEach { name, value in textBytes += name.utf8.count + value.utf8.count }
        let pairBytes = fieldCount * MemoryLayout<plexus_pair>.stride
        withUnsafeTemporaryAllocation(byteCount: max(pairBytes + textBytes, 1), alignment: MemoryLayout<plexus_pair>.alignment) { block in
            let base = block.baseAddress!
            let pairs = base.bindMemory(to: plexus_pair.self, capacity: max(fieldCount, 1))
            var offset = pairBytes
            var index = 0
            headers.forEach { name, value in
                let nameBytes = Self.store(name, at: base + offset)
                offset += nameBytes.length
                let valueBytes = Self.store(value, at: base + offset)
                offset += valueBytes.length
                pairs[index] = plexus_pair(name: nameBytes, value: valueBytes)
                index += 1
            }
            send(token, status: response.status, headers: pairs, count: fieldCount, body: response.body)
        }
    }

    /// The C response of `status`, `count` header pairs at `headers` and `body`, to the runtime.
    private func send(_ token: UInt64, status: Int, headers: UnsafePointer<plexus_pair>, count: Int, body: [UInt8]) {
        body.withUnsafeBytes { body in
            var raw = plexus_response()
            raw.struct_size = UInt32(MemoryLayout<plexus_response>.size)
            raw.status = UInt16(clamping: status)
            raw.headers = headers
            raw.header_count = count
            raw.body = plexus_bytes(data: body.baseAddress?.assumingMemoryBound(to: CChar.self), length: body.count)
            host.pointee.respond(host, token, &raw)
        }
    }

    /// A view of UTF-8 bytes that stay where they are for the call.
    private static func view(_ utf8: UnsafeBufferPointer<UInt8>) -> plexus_bytes {
        plexus_bytes(data: utf8.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, length: utf8.count)
    }

    /// Copies the UTF-8 of `text` to `destination` and returns its view there.
    private static func store(_ text: String, at destination: UnsafeMutableRawPointer) -> plexus_bytes {
        var text = text
        return text.withUTF8 { utf8 in
            if let source = utf8.baseAddress { destination.copyMemory(from: source, byteCount: utf8.count) }
            return plexus_bytes(data: destination.assumingMemoryBound(to: CChar.self), length: utf8.count)
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
