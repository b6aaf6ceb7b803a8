/// Reading the credential out of an `Authorization` header value.
public enum BearerToken {
    /// The token of `Bearer <token>` (scheme case-insensitive, RFC 6750 section 2.1), trimmed of
    /// surrounding spaces; nil for another scheme or an empty token.
    public static func token(fromAuthorization value: Substring) -> Substring? {
        let utf8 = value.utf8
        let scheme = "bearer".utf8
        guard utf8.count > scheme.count else { return nil }
        var index = utf8.startIndex
        for expected in scheme {
            var byte = utf8[index]
            if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte += 32 }
            guard byte == expected else { return nil }
            index = utf8.index(after: index)
        }
        guard utf8[index] == UInt8(ascii: " ") else { return nil }
        var start = index
        while start < utf8.endIndex, utf8[start] == UInt8(ascii: " ") { start = utf8.index(after: start) }
        var end = utf8.endIndex
        while end > start, utf8[utf8.index(before: end)] == UInt8(ascii: " ") { end = utf8.index(before: end) }
        guard start < end else { return nil }
        return value[start..<end]
    }

    /// The token of `Bearer <token>`; see `token(fromAuthorization:)` for a `Substring`.
    public static func token(fromAuthorization value: String) -> Substring? {
        token(fromAuthorization: value[...])
    }
}
