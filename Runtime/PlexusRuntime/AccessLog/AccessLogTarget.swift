/// What of a request target the access log keeps: the path, and the query with the value of
/// every credential parameter replaced by `REDACTED`.
///
/// A parameter is a credential when its name, lowercased, percent-decoded and stripped of
/// everything but letters and digits, contains `token`, `secret`, `password`, `passwd`,
/// `apikey`, `ticket`, `signature`, `credential` or `session`, or is `key`, `sig`, `code`,
/// `jwt`, `pwd`, `pass`, `auth` or `authorization` (so `access_token`, `ticket`, `api_key`, `API-Key`, `%74icket` and
/// `X-Amz-Signature` are all redacted). An absolute-form target (`http://user:pass@host/p?q`)
/// loses its scheme and authority; a fragment is dropped.
enum AccessLogTarget {
    /// The marker written in place of a credential's value.
    static let redacted: [UInt8] = Array("REDACTED".utf8)

    private static let containing: [[UInt8]] = ["token", "secret", "password", "passwd", "apikey", "ticket", "signature",
                                                 "credential", "session"].map { Array($0.utf8) }
    private static let exactly: [[UInt8]] = ["key", "sig", "code", "jwt", "pwd", "pass", "auth", "authorization"].map { Array($0.utf8) }

    /// Whether `target` is an origin-form path with no query and no fragment: logged as it is.
    static func isPlainPath(_ target: UnsafeRawBufferPointer) -> Bool {
        guard let first = target.first, first == UInt8(ascii: "/") else { return false }
        for byte in target where byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") { return false }
        return true
    }

    /// Appends the loggable form of `target` to `out` (raw bytes, still to be escaped).
    /// `name` is scratch space reused between calls.
    static func append(_ target: UnsafeRawBufferPointer, to out: inout [UInt8], name: inout [UInt8]) {
        var start = 0
        let end = target.firstIndex(of: UInt8(ascii: "#")) ?? target.count
        if end > 0 && target[0] != UInt8(ascii: "/") && target[0] != UInt8(ascii: "*") {
            // Absolute form: skip "scheme://authority".
            if let scheme = find(target, "://", from: 0, before: end) {
                let authority = scheme + 3
                start = target[authority..<end].firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) ?? end
                if start == end || target[start] == UInt8(ascii: "?") { out.append(UInt8(ascii: "/")) }
            }
        }
        let queryStart = target[start..<end].firstIndex(of: UInt8(ascii: "?")) ?? end
        out.append(contentsOf: target[start..<queryStart])
        guard queryStart < end else { return }
        out.append(UInt8(ascii: "?"))
        var parameter = queryStart + 1
        while parameter <= end {
            let parameterEnd = target[parameter..<end].firstIndex(of: UInt8(ascii: "&")) ?? end
            let equals = target[parameter..<parameterEnd].firstIndex(of: UInt8(ascii: "="))
            if let equals, isCredential(UnsafeRawBufferPointer(rebasing: target[parameter..<equals]), scratch: &name) {
                out.append(contentsOf: target[parameter...equals])
                out.append(contentsOf: redacted)
            } else {
                out.append(contentsOf: target[parameter..<parameterEnd])
            }
            if parameterEnd < end { out.append(UInt8(ascii: "&")) }
            parameter = parameterEnd + 1
        }
    }

    /// Whether a query parameter named `raw` (as sent) carries a credential.
    static func isCredential(_ raw: UnsafeRawBufferPointer, scratch: inout [UInt8]) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        var index = 0
        while index < raw.count {
            var byte = raw[index]
            if byte == UInt8(ascii: "%"), index + 2 < raw.count, let high = hex(raw[index + 1]), let low = hex(raw[index + 2]) {
                byte = high << 4 | low
                index += 2
            }
            index += 1
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
            if (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) {
                scratch.append(byte)
            }
        }
        if exactly.contains(where: { $0 == scratch }) { return true }
        return containing.contains { word in scratch.count >= word.count && find(scratch, word) }
    }

    private static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func find(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) { return true }
        return false
    }

    private static func find(_ bytes: UnsafeRawBufferPointer, _ text: StaticString, from: Int, before end: Int) -> Int? {
        let needle = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        guard end - from >= needle.count else { return nil }
        for start in from...(end - needle.count) where bytes[start..<start + needle.count].elementsEqual(needle) { return start }
        return nil
    }
}
