/// A JWS signature algorithm this library verifies (RFC 7518 section 3.1 names).
///
/// Every configured key has exactly one; a token's `alg` must equal its key's algorithm.
/// `none` and every other algorithm are refused.
public enum JWTAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// HMAC with SHA-256 over a shared secret of at least 32 bytes.
    case hs256 = "HS256"
    /// RSASSA-PKCS1-v1_5 with SHA-256, RSA keys of at least 2048 bits.
    case rs256 = "RS256"
    /// ECDSA on P-256 with SHA-256; the JWS signature is the raw 64-byte `r || s`.
    case es256 = "ES256"

    /// The JWS name, e.g. `RS256`.
    public var description: String { rawValue }
}
