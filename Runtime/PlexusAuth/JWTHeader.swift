/// The JOSE header of a compact JWS, as far as verification reads it.
///
/// Key-carrying parameters (`jwk`, `jku`, `x5u`, `x5c`) are ignored: keys come from the
/// configuration only. `crit` is refused, since no extension is understood (RFC 7515 section 4.1.11).
struct JWTHeader {
    /// `alg`, exactly as sent.
    let alg: String
    /// `kid`, if present.
    let kid: String?

    /// Decodes and checks the header segment (base64url JSON object).
    init(segment: ArraySlice<UInt8>, acceptedTypes: Set<String>) throws(AuthError) {
        guard let json = Base64URL.decode(segment) else {
            throw AuthError(.malformed, "malformed token: the header is not unpadded base64url")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(json)
        } catch {
            throw AuthError(.malformed, "malformed token: the header is not valid JSON (\(error))")
        }
        guard let members = parsed.object else {
            throw AuthError(.malformed, "malformed token: the header is not a JSON object")
        }
        guard let alg = members["alg"]?.string else {
            throw AuthError(.malformed, "malformed token: the header has no \"alg\" string")
        }
        if let kid = members["kid"], kid.string == nil {
            throw AuthError(.malformed, "malformed token: header \"kid\" must be a string")
        }
        if let typ = members["typ"] {
            guard let text = typ.string, acceptedTypes.contains(Self.normalizedType(text)) else {
                let shown = typ.string.map(AuthError.quoted) ?? typ.typeName
                throw AuthError(.malformed, "header typ \(shown) is not accepted (expected JWT)")
            }
        }
        if members["crit"] != nil {
            throw AuthError(.malformed, "header parameter \"crit\" is not supported")
        }
        self.alg = alg
        self.kid = members["kid"]?.string
    }

    /// `typ` lowercased without an `application/` prefix.
    static func normalizedType(_ type: String) -> String {
        let lower = type.lowercased()
        return lower.hasPrefix("application/") ? String(lower.dropFirst("application/".count)) : lower
    }
}
