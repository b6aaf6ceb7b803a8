import CLibUV

/// Host and port of a socket address, as text.
struct SocketAddress {
    let host: String
    let port: UInt16
    let isIPv6: Bool

    /// The address of `tcp`'s peer (`peer: true`) or of its own end.
    init?(of tcp: UnsafeMutablePointer<uv_tcp_t>, peer: Bool) {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                peer ? uv_tcp_getpeername(tcp, $0, &length) : uv_tcp_getsockname(tcp, $0, &length)
            }
        }
        guard status == 0 else { return nil }
        let family = storage.ss_family
        var text = [CChar](repeating: 0, count: 64)
        let port = withUnsafePointer(to: storage) { pointer -> UInt16 in
            if family == sa_family_t(AF_INET6) {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    uv_ip6_name(address, &text, text.count)
                    return UInt16(bigEndian: address.pointee.sin6_port)
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                uv_ip4_name(address, &text, text.count)
                return UInt16(bigEndian: address.pointee.sin_port)
            }
        }
        self.host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.port = port
        self.isIPv6 = family == sa_family_t(AF_INET6)
    }

    /// Whether the address is on the loopback network (127.0.0.0/8 or ::1).
    var isLoopback: Bool {
        host.hasPrefix("127.") || host == "::1" || host.hasPrefix("::ffff:127.")
    }

    /// `host:port`, with brackets around an IPv6 host.
    var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
