/// The caller of a request, as the runtime's gateway verified it (a bearer JWT or an API key).
/// Never built from headers a client can set.
public struct CallerIdentity: Sendable, Equatable {
    /// A JWT's `sub`, or an API key's name.
    public var subject: String
    /// The caller's tenant: from a verified claim or the API key (never from the `Host`).
    public var tenant: String?
    /// The caller's roles.
    public var roles: Set<String>
    /// The caller's scopes.
    public var scopes: Set<String>

    /// Creates an identity (the SDK builds it from the request; tests may build one).
    public init(subject: String, tenant: String? = nil, roles: Set<String> = [], scopes: Set<String> = []) {
        self.subject = subject
        self.tenant = tenant
        self.roles = roles
        self.scopes = scopes
    }

    /// Whether the caller has `role`.
    public func has(role: String) -> Bool { roles.contains(role) }
}
