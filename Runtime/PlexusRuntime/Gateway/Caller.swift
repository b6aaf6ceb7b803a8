import PlexusAuth

/// A verified caller as the request path sees it: built once per credential and cached, so a
/// client that sends the same token again costs a dictionary lookup.
final class Caller {
    let subject: String
    let tenant: String?
    let roles: Set<String>
    let scopes: Set<String>
    /// `jwt`, `api_key`.
    let kind: String
    /// What rate limits key on: the API key's id or the JWT's subject.
    let clientKey: String
    /// When the credential stops being valid (unix seconds; nil: never).
    let expiresAt: Double?
    /// The roles and scopes as the C request carries them.
    let rolesText: String
    let scopesText: String

    init(subject: String, tenant: String?, roles: Set<String>, scopes: Set<String>, kind: String, clientKey: String, expiresAt: Double?) {
        self.subject = subject
        self.tenant = tenant.flatMap { $0.isEmpty ? nil : $0 }
        self.roles = roles
        self.scopes = scopes
        self.kind = kind
        self.clientKey = clientKey
        self.expiresAt = expiresAt
        rolesText = roles.sorted().joined(separator: ",")
        scopesText = scopes.sorted().joined(separator: " ")
    }
}
