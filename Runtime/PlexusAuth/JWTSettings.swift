/// What a `JWTVerifier` accepts: which keys, which issuer and audiences, how claims map to an `Identity`.
public struct JWTSettings: Sendable {
    /// Where a verification key comes from.
    public enum KeySource: Sendable, Hashable, CustomStringConvertible {
        /// An HS256 shared secret (its UTF-8 bytes; at least 32).
        case hmacSecret(String, kid: String? = nil)
        /// A PEM public key file for RS256 or ES256.
        case pemFile(String, algorithm: JWTAlgorithm, kid: String? = nil)
        /// An RFC 7517 JWK set file (kid and algorithm come from each key).
        case jwksFile(String)

        /// The source without secrets: `HS256 secret (kid 'a')`, `PEM file /etc/k.pem`, `JWKS file /etc/jwks.json`.
        public var description: String {
            switch self {
            case .hmacSecret(_, let kid): "HS256 secret\(VerificationKey.kidSuffix(kid))"
            case .pemFile(let path, let algorithm, let kid): "\(algorithm) PEM file \(path)\(VerificationKey.kidSuffix(kid))"
            case .jwksFile(let path): "JWKS file \(path)"
            }
        }
    }

    /// The key sources, read by `JWTVerifier(settings:)`.
    public var keys: [KeySource]
    /// The required `iss`; nil: not checked.
    public var issuer: String?
    /// The accepted audiences: `aud` (string or array) must contain one of them; empty: not checked.
    public var audiences: [String]
    /// Seconds of clock skew tolerated for `exp`, `nbf` and `iat`. Default 30.
    public var leeway: Double
    /// Whether a token without `exp` is refused. Default true.
    public var requireExp: Bool
    /// The claim holding the tenant (a string). Default `tenant`. A dotted name such as
    /// `org.tenant` reads a nested object when there is no top-level claim of that exact name.
    public var tenantClaim: String
    /// The claim holding the roles (an array of strings, or one string). Default `roles`; dotted
    /// names work as for `tenantClaim` (e.g. Keycloak's `realm_access.roles`).
    public var rolesClaim: String
    /// Accepted header `typ` values, compared case-insensitively, with or without the
    /// `application/` prefix (RFC 7515 section 4.1.9). A header without `typ` is accepted.
    /// Default `["JWT"]`; add `at+jwt` for RFC 9068 access tokens.
    public var acceptedTypes: [String]
    /// The largest token accepted, in bytes. Default 8192.
    public var maxTokenBytes: Int
    /// How many verified tokens are remembered (0 disables the cache). Default 10,000.
    public var cacheCapacity: Int

    /// Creates settings; every argument but `keys` has the default described on its property.
    public init(
        keys: [KeySource], issuer: String? = nil, audiences: [String] = [], leeway: Double = 30,
        requireExp: Bool = true, tenantClaim: String = "tenant", rolesClaim: String = "roles",
        acceptedTypes: [String] = ["JWT"], maxTokenBytes: Int = 8192, cacheCapacity: Int = 10_000
    ) {
        self.keys = keys
        self.issuer = issuer
        self.audiences = audiences
        self.leeway = leeway
        self.requireExp = requireExp
        self.tenantClaim = tenantClaim
        self.rolesClaim = rolesClaim
        self.acceptedTypes = acceptedTypes
        self.maxTokenBytes = maxTokenBytes
        self.cacheCapacity = cacheCapacity
    }
}
