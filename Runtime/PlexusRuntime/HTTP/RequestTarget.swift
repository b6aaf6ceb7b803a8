/// The request target of a request line, parsed strictly (RFC 9112 §3.2, RFC 3986 §3).
///
/// The four forms: origin-form `/path?query` for every method; absolute-form
/// `http://host/path?query` (a server must accept it, RFC 9112 §3.2.2: its path is served and its
/// authority must name the same host as the `Host` field); asterisk-form `*` for OPTIONS only;
/// authority-form `host:port` for CONNECT only (parsed here, refused by the connection: this
/// server is not a proxy).
///
/// Refused (400): control characters, spaces and bytes above 0x7E; a fragment (`#`, which a
/// client never sends); `%` not followed by two hex digits; a path escape that decodes to NUL or
/// to invalid UTF-8; `\ " < > { } `` ` in the path (`[ ] | ^` are accepted there, and
/// `[ ] { } | \ ^ `` ` in the query, because browsers send them unescaped); userinfo (`user@`)
/// in an authority; and dot-segments (`.` and `..`, escaped or not). Clients resolve dot-segments
/// before sending (RFC 3986 §5.2.4), so one in a request is a probe or a bug; refusing it rather
/// than normalising keeps one spelling per path, so the gateway's checks, the routes and the
/// plugin all see the same path.
struct RequestTarget: Equatable {
    /// The form of the target (RFC 9112 §3.2).
    enum Form: Equatable {
        case origin, absolute, asterisk, authority
    }

    let form: Form
    /// The path as sent, percent-escapes kept: routes split it at `/` before decoding, so `%2F`
    /// stays inside its segment. `*` for the asterisk-form, empty for the authority-form.
    var rawPath: String
    /// The path with its percent-escapes decoded.
    var path: String
    /// The query without its `?`, as sent (escapes kept); empty when there is none.
    var query: String
    /// `host[:port]` of an absolute-form or authority-form target, as sent; empty otherwise.
    var authority: String

    /// Parses `target` (the bytes between the method and the version) of a `method` request.
    static func parse(_ target: UnsafeRawBufferPointer, method: String) throws(RequestTargetError) -> RequestTarget {
        guard let first = target.first else { throw .bad("the request target is empty; send an absolute path such as '/'") }
        if method == "CONNECT" { return try parseAuthorityForm(target) }
        if first == slash { return try parsePathAndQuery(target, from: 0, form: .origin, authority: "") }
        if first == UInt8(ascii: "*") {
            guard target.count == 1 else { throw .bad("the request target starts with '*' but is not the asterisk-form '*'") }
            guard method == "OPTIONS" else { throw .bad("the asterisk-form target '*' is only for OPTIONS; \(method) needs a path such as '/'") }
            return RequestTarget(form: .asterisk, rawPath: "*", path: "*", query: "", authority: "")
        }
        return try parseAbsoluteForm(target)
    }

    // MARK: Forms

    /// `http://host[:port]/path?query` (the scheme `http` or `https`, case-insensitive).
    private static func parseAbsoluteForm(_ target: UnsafeRawBufferPointer) throws(RequestTargetError) -> RequestTarget {
        var schemeEnd = 0
        while schemeEnd < target.count, isAlpha(target[schemeEnd]) { schemeEnd += 1 }
        let scheme = String(decoding: target[0..<schemeEnd], as: UTF8.self).lowercased()
        guard schemeEnd > 0, scheme == "http" || scheme == "https",
              target.count >= schemeEnd + 3, target[schemeEnd] == UInt8(ascii: ":"),
              target[schemeEnd + 1] == slash, target[schemeEnd + 2] == slash else {
            throw .bad("the request target is neither an absolute path ('/…') nor an absolute 'http://' or 'https://' URI")
        }
        let authorityStart = schemeEnd + 3
        var authorityEnd = authorityStart
        while authorityEnd < target.count, target[authorityEnd] != slash, target[authorityEnd] != question { authorityEnd += 1 }
        let authority = target[authorityStart..<authorityEnd]
        try checkAuthority(authority, portRequired: false)
        let authorityText = String(decoding: authority, as: UTF8.self)
        guard authorityEnd < target.count else {
            return RequestTarget(form: .absolute, rawPath: "/", path: "/", query: "", authority: authorityText)
        }
        return try parsePathAndQuery(target, from: authorityEnd, form: .absolute, authority: authorityText)
    }

    /// `host:port`, the only form CONNECT takes.
    private static func parseAuthorityForm(_ target: UnsafeRawBufferPointer) throws(RequestTargetError) -> RequestTarget {
        do {
            try checkAuthority(target[...], portRequired: true)
        } catch {
            throw .bad("a CONNECT target must be 'host:port': \(error.detail)")
        }
        return RequestTarget(form: .authority, rawPath: "", path: "", query: "", authority: String(decoding: target, as: UTF8.self))
    }

    /// An absolute path from `start` (or a bare `?query` after an authority), then the query.
    private static func parsePathAndQuery(_ target: UnsafeRawBufferPointer, from start: Int, form: Form,
                                          authority: String) throws(RequestTargetError) -> RequestTarget {
        // Loaded once: a static `let` read inside the loops costs a `swift_once` check per byte.
        let classes = characterClass
        var index = start
        var segmentStart = start + 1
        var escaped = false
        while index < target.count {
            let byte = target[index]
            if byte == question { break }
            if byte == percent {
                try checkEscape(target, at: index, part: "path")
                escaped = true
                index += 3
                continue
            }
            if byte == slash {
                if index > start { try checkSegment(target[segmentStart..<index]) }
                segmentStart = index + 1
            } else if classes[Int(byte)] & pathCharacter == 0 {
                throw invalidCharacter(byte, at: index, part: "path")
            }
            index += 1
        }
        if index > start { try checkSegment(target[segmentStart..<index]) }
        let pathBytes = target[start..<index]
        let rawPath = pathBytes.isEmpty ? "/" : String(decoding: pathBytes, as: UTF8.self)
        var path = rawPath
        if escaped {
            guard let decoded = percentDecode(pathBytes) else {
                throw .bad("the path has an escape that decodes to NUL or to bytes that are not UTF-8")
            }
            path = decoded
        }
        var query = ""
        if index < target.count {
            let queryStart = index + 1
            index = queryStart
            while index < target.count {
                let byte = target[index]
                if byte == percent {
                    try checkEscape(target, at: index, part: "query")
                    index += 3
                    continue
                }
                guard classes[Int(byte)] & queryCharacter != 0 else { throw invalidCharacter(byte, at: index, part: "query") }
                index += 1
            }
            query = String(decoding: target[queryStart...], as: UTF8.self)
        }
        return RequestTarget(form: form, rawPath: rawPath, path: path, query: query, authority: authority)
    }

    // MARK: Parts

    /// `host[:port]`: a registered name or a bracketed IP literal, no userinfo, an optional
    /// (for CONNECT required) decimal port.
    private static func checkAuthority(_ authority: Slice<UnsafeRawBufferPointer>, portRequired: Bool) throws(RequestTargetError) {
        guard !authority.isEmpty else { throw .bad("the request target's authority (host) is empty") }
        if authority.contains(UInt8(ascii: "@")) {
            throw .bad("the request target's authority carries userinfo ('…@'); send the host alone")
        }
        var hostEnd = authority.endIndex
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { throw .bad("the request target's IP literal has no closing ']'") }
            for index in (authority.startIndex + 1)..<close where !(isHex(authority[index]) || authority[index] == UInt8(ascii: ":") || authority[index] == UInt8(ascii: ".")) {
                throw invalidCharacter(authority[index], at: index, part: "IP literal")
            }
            hostEnd = close + 1
            guard hostEnd == authority.endIndex || authority[hostEnd] == UInt8(ascii: ":") else {
                throw .bad("the request target's IP literal is followed by something other than ':port'")
            }
        } else {
            hostEnd = authority.firstIndex(of: UInt8(ascii: ":")) ?? authority.endIndex
            guard hostEnd > authority.startIndex else { throw .bad("the request target's authority has a port but no host") }
            var index = authority.startIndex
            while index < hostEnd {
                let byte = authority[index]
                if byte == percent {
                    try checkEscape(authority.base, at: index, part: "host")
                    index += 3
                    continue
                }
                guard characterClass[Int(byte)] & hostCharacter != 0 else { throw invalidCharacter(byte, at: index, part: "host") }
                index += 1
            }
        }
        let port = authority[min(hostEnd + 1, authority.endIndex)...]
        if hostEnd < authority.endIndex || portRequired {
            guard !port.isEmpty, port.count <= 5, port.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw .bad(portRequired ? "a CONNECT target must be 'host:port' with a decimal port"
                                        : "the request target's port is not a decimal number of at most 5 digits")
            }
        }
    }

    /// `%` followed by two hex digits.
    private static func checkEscape(_ target: UnsafeRawBufferPointer, at index: Int, part: String) throws(RequestTargetError) {
        guard index + 2 < target.count, isHex(target[index + 1]), isHex(target[index + 2]) else {
            throw .bad("the request target's \(part) has a '%' at byte \(index) not followed by two hex digits; escape a literal '%' as '%25'")
        }
    }

    /// Refuses a dot-segment: `.` or `..`, with either dot possibly escaped as `%2E`/`%2e`.
    private static func checkSegment(_ segment: Slice<UnsafeRawBufferPointer>) throws(RequestTargetError) {
        guard (1...6).contains(segment.count) else { return }
        var dots = 0
        var index = segment.startIndex
        while index < segment.endIndex {
            if segment[index] == UInt8(ascii: ".") {
                index += 1
            } else if segment[index] == percent, index + 2 < segment.endIndex,
                      segment[index + 1] == UInt8(ascii: "2"), segment[index + 2] | 0x20 == UInt8(ascii: "e") {
                index += 3
            } else {
                return
            }
            dots += 1
        }
        guard dots <= 2 else { return }
        throw .bad("the path has a dot-segment ('.' or '..'); resolve it before sending (RFC 3986 §5.2.4)")
    }

    /// Decodes `%XX` escapes; nil for a decoded NUL or invalid UTF-8 (escapes are already checked).
    static func percentDecode(_ bytes: Slice<UnsafeRawBufferPointer>) -> String? {
        guard bytes.contains(percent) else { return String(validating: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == percent {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { return nil }
                let decoded = high << 4 | low
                guard decoded != 0 else { return nil }
                out.append(decoded)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    // MARK: Characters

    private static let slash = UInt8(ascii: "/"), question = UInt8(ascii: "?"), percent = UInt8(ascii: "%")
    private static let pathCharacter: UInt8 = 1, queryCharacter: UInt8 = 2, hostCharacter: UInt8 = 4

    /// Per byte: whether it may stand unescaped in a path, a query, a host.
    private static let characterClass: [UInt8] = (0..<256).map { value in
        let byte = UInt8(value)
        let unreserved = isAlpha(byte) || (0x30...0x39).contains(byte) || "-._~".utf8.contains(byte)
        let subDelimiter = "!$&'()*+,;=".utf8.contains(byte)
        var bits: UInt8 = 0
        if unreserved || subDelimiter || ":@/[]|^".utf8.contains(byte) { bits |= pathCharacter }
        if unreserved || subDelimiter || ":@/?[]{}|\\^`".utf8.contains(byte) { bits |= queryCharacter }
        if unreserved || subDelimiter { bits |= hostCharacter }
        return bits
    }

    private static func invalidCharacter(_ byte: UInt8, at index: Int, part: String) -> RequestTargetError {
        switch byte {
        case UInt8(ascii: "#"):
            .bad("the request target carries a fragment ('#…'); a fragment stays with the client, send the target without it")
        case 0x21...0x7E:
            .bad("the request target's \(part) has '\(Character(Unicode.Scalar(byte)))' at byte \(index); escape it as %\(hexByte(byte))")
        default:
            .bad("the request target's \(part) has the byte 0x\(hexByte(byte)) at byte \(index) (a control, a space or not ASCII); percent-encode it")
        }
    }

    private static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
    }

    private static func isAlpha(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private static func isHex(_ byte: UInt8) -> Bool { hexValue(byte) != nil }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }
}

/// Why a request target is refused: the status to answer and what is wrong.
struct RequestTargetError: Error, Equatable {
    let status: Int
    let detail: String

    static func bad(_ detail: String) -> RequestTargetError { RequestTargetError(status: 400, detail: detail) }
}
