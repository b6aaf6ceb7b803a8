import PlexusAuth

/// A verified caller as the request path sees it: built once per credential and cached, so a
/// client that sends the same token again costs a dictionary lookup.
final class Caller {
    let subject: String
    let tenant: String?
    let roles: Set<String>
    let scopes: Set<String>
    /// A JWT or an API key.
    let method: AuthMethod
    /// What rate limits key on: the API key's id or the JWT's subject.
    let clientKey: String
    /// When the credential stops being valid (unix seconds; nil: never).
    let expiresAt: Double?
    /// The roles and scopes as the C request carries them: separated texts, and (ABI 1.6) sorted arrays.
    let rolesText: String
    let scopesText: String
    let roleList: [String]
    let scopeList: [String]
    /// Whether this is the operator's admin key (``AdminKey``): an API key named `plexus-admin`,
    /// or `plexus-admin-<8 hex digits>` on a shared key store. It is never forwarded to a plugin,
    /// whatever `forward_credentials` says.
    let isAdminKey: Bool

    /// The caller `identity` describes.
    init(_ identity: Identity) {
        subject = identity.subject
        tenant = identity.tenant.flatMap { $0.isEmpty ? nil : $0 }
        roles = identity.roles
        scopes = identity.scopes
        method = identity.method
        clientKey = identity.method == .apiKey ? identity.keyID ?? identity.subject : "sub:" + identity.subject
        expiresAt = identity.expiresAt
        roleList = roles.sorted()
        scopeList = scopes.sorted()
        rolesText = roleList.joined(separator: ",")
        scopesText = scopeList.joined(separator: " ")
        isAdminKey = identity.method == .apiKey && AdminKey.isAdminKeyName(identity.subject)
    }
}
