/// How a caller proved who it is.
public enum AuthMethod: String, Sendable, Hashable {
    /// A bearer JWT verified by `JWTVerifier`.
    case jwt
    /// An API key found by `APIKeyDirectory`.
    case apiKey = "api_key"
}

/// A verified caller: who it is, for which tenant, with which roles and scopes.
///
/// Built only from a verified token or a stored API key, never from headers a client can set.
public struct Identity: Sendable, Hashable {
    /// A JWT's `sub`, or an API key's name.
    public var subject: String
    /// The tenant: the JWT's tenant claim, or the API key's tenant.
    public var tenant: String?
    /// The roles: the JWT's roles claim, or the API key's roles.
    public var roles: Set<String>
    /// The scopes: the JWT's `scope` / `scp`, or the API key's scopes.
    public var scopes: Set<String>
    /// How the caller authenticated.
    public var method: AuthMethod
    /// The JWT's `exp` (unix seconds); nil for API keys and tokens without `exp`.
    public var expiresAt: Double?
    /// The `kid` of the key that verified the JWT (nil without one), or the API key's id.
    public var keyID: String?
    /// The JWT's `iss`; nil for API keys.
    public var issuer: String?

    /// Creates an identity (the library builds these; public for tests and adapters).
    public init(
        subject: String, tenant: String? = nil, roles: Set<String> = [], scopes: Set<String> = [],
        method: AuthMethod, expiresAt: Double? = nil, keyID: String? = nil, issuer: String? = nil
    ) {
        self.subject = subject
        self.tenant = tenant
        self.roles = roles
        self.scopes = scopes
        self.method = method
        self.expiresAt = expiresAt
        self.keyID = keyID
        self.issuer = issuer
    }
}
