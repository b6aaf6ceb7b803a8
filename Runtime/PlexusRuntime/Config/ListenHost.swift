import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The host part of a listen address, as the socket layer needs it: an IP literal.
///
/// `--listen` and `[server] listen` accept a host name too (`localhost:8080`); it is resolved once, at
/// configuration time, with `getaddrinfo`, preferring an IPv4 address (so `localhost` listens where
/// `127.0.0.1` clients connect), else the first IPv6 one. Both the supervisor's and the plain server's
/// bind then see the literal.
public enum ListenHost {
    /// `host` itself when it is an IPv4 or IPv6 literal, else its resolved address.
    /// - Throws: ``RuntimeError/config(_:)`` naming the host when it does not resolve.
    public static func numeric(_ host: String) throws -> String {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 { return host }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw RuntimeError.config("listen host '\(host)' is neither an IP address nor a name that resolves (\(reason))")
        }
        defer { freeaddrinfo(list) }
        var addresses: [(family: Int32, text: String)] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let entry = node {
            if let text = Self.text(of: entry.pointee) { addresses.append((entry.pointee.ai_family, text)) }
            node = entry.pointee.ai_next
        }
        guard let chosen = addresses.first(where: { $0.family == AF_INET }) ?? addresses.first else {
            throw RuntimeError.config("listen host '\(host)' resolves to no IPv4 or IPv6 address")
        }
        return chosen.text
    }

    private static func text(of entry: addrinfo) -> String? {
        guard let address = entry.ai_addr else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch entry.ai_family {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                var raw = pointer.pointee.sin_addr
                return inet_ntop(AF_INET, &raw, &buffer, socklen_t(buffer.count)).map { String(cString: $0) }
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                var raw = pointer.pointee.sin6_addr
                return inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count)).map { String(cString: $0) }
            }
        default:
            return nil
        }
    }
}
