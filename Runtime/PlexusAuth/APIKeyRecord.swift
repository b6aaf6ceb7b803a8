/// One stored API key, without its secret or hash.
public struct APIKeyRecord: Sendable, Hashable {
    /// The public id (the `<id>` of `plx_<id>_<secret>`).
    public let id: String
    /// The name, unique among active keys; the `subject` of the identity the key yields.
    public let name: String
    /// The tenant the key acts for, if any.
    public let tenant: String?
    /// The roles the key grants.
    public let roles: Set<String>
    /// The scopes the key grants.
    public let scopes: Set<String>
    /// The last four characters of the key, to help a human tell keys apart.
    public let hint: String
    /// When the key was created (unix seconds).
    public let createdAt: Double
    /// When the key was revoked (unix seconds); nil while active.
    public let revokedAt: Double?

    /// Whether the key was revoked.
    public var isRevoked: Bool { revokedAt != nil }

    /// Creates a record (the store builds these; public for tests and adapters).
    public init(
        id: String, name: String, tenant: String?, roles: Set<String>, scopes: Set<String>, hint: String,
        createdAt: Double, revokedAt: Double?
    ) {
        self.id = id
        self.name = name
        self.tenant = tenant
        self.roles = roles
        self.scopes = scopes
        self.hint = hint
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// The identity a request presenting this key gets.
    public var identity: Identity {
        Identity(subject: name, tenant: tenant, roles: roles, scopes: scopes, method: .apiKey, keyID: id)
    }
}
