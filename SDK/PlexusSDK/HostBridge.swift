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

    func respond(token: UInt64, _ response: Response) {
        var pack = BytePack([])
        for field in response.headers.fields {
            pack.append(field.name.utf8)
            pack.append(field.value.utf8)
        }
        pack.withBytes { texts in
            let pairs = stride(from: 0, to: texts.count, by: 2).map { plexus_pair(name: texts[$0], value: texts[$0 + 1]) }
            pairs.withUnsafeBufferPointer { pairs in
                response.body.withUnsafeBytes { body in
                    var raw = plexus_response()
                    raw.struct_size = UInt32(MemoryLayout<plexus_response>.size)
                    raw.status = UInt16(clamping: response.status)
                    raw.headers = pairs.baseAddress
                    raw.header_count = pairs.count
                    raw.body = plexus_bytes(data: body.baseAddress?.assumingMemoryBound(to: CChar.self), length: body.count)
                    host.pointee.respond(host, token, &raw)
                }
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
