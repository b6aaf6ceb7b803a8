/// What RFC 9112 asks of a request head beyond what llhttp checks: the protocol version,
/// exactly one `Host` in HTTP/1.1, and header names that are tokens.
enum RequestHeadRules {
    /// A refusal: the status and what is wrong.
    struct Violation: Equatable {
        let status: Int
        let detail: String
    }

    /// Checks the version and the `Host` fields of a request head; nil when it is acceptable.
    /// - Parameters:
    ///   - major: the major HTTP version; only 1 is served (505 for 2 and above, which arrive
    ///     over HTTP/1 syntax only by mistake, and for 0).
    ///   - minor: the minor version; HTTP/1.1 needs a `Host`, HTTP/1.0 may omit it.
    ///   - hostCount: how many `Host` fields the head carries (more than one: 400).
    static func check(major: UInt16, minor: UInt16, hostCount: Int) -> Violation? {
        guard major == 1 else {
            return Violation(status: 505, detail: "HTTP/\(major).\(minor) is not supported; this server speaks HTTP/1.1 and HTTP/1.0")
        }
        if hostCount > 1 {
            return Violation(status: 400, detail: "the request carries \(hostCount) Host header fields; exactly one is allowed")
        }
        if hostCount == 0 && minor >= 1 {
            return Violation(status: 400, detail: "an HTTP/1.1 request needs a Host header field")
        }
        return nil
    }

    /// Whether `name` is a non-empty token (RFC 9110 §5.6.2): no whitespace, no separators, no controls.
    /// The response encoder checks a handler's header names with it too.
    static func isToken(_ name: UnsafeRawBufferPointer) -> Bool {
        guard !name.isEmpty else { return false }
        // The table loaded once, not once per byte (each load of a static goes through swift_once).
        return tokenCharacters.withUnsafeBufferPointer { table in
            for byte in name where !table[Int(byte)] { return false }
            return true
        }
    }

    /// `tchar`: ALPHA / DIGIT / "!#$%&'*+-.^_`|~".
    private static let tokenCharacters: [Bool] = (0..<256).map { byte in
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(byte))
        }
    }
}
