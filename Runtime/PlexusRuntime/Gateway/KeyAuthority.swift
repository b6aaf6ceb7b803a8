import PlexusAuth

/// What an admin caller may do with API keys through `/admin/api-keys`.
///
/// The installation's admin (the admin role and no tenant, such as the key in `<data>/admin.key`)
/// manages every key. A tenant's admin (the admin role within a tenant) only creates keys of its
/// own tenant with a subset of its own roles and scopes, and only sees and revokes its tenant's
/// keys: it can never mint a key with more reach than it has itself.
struct KeyAuthority {
    /// The caller's tenant; nil for the installation's admin.
    let tenant: String?
    let roles: Set<String>
    let scopes: Set<String>

    /// The authority of `caller` (already known to hold the admin role).
    init(_ caller: Caller) {
        (tenant, roles, scopes) = (caller.tenant, caller.roles, caller.scopes)
    }

    init(tenant: String?, roles: Set<String>, scopes: Set<String>) {
        (self.tenant, self.roles, self.scopes) = (tenant.flatMap { $0.isEmpty ? nil : $0 }, roles, scopes)
    }

    /// Whether this is the installation's admin, whose keys reach every tenant.
    var isInstallationAdmin: Bool { tenant == nil }

    /// A key the caller asked for that it may not create (403), saying which rule it breaks.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// The tenant of a new key asked for with `requested` tenant, roles and scopes, or the rule it
    /// breaks. A tenant's admin that names no tenant gets a key of its own tenant.
    func tenantForNewKey(requested: String?, roles requestedRoles: Set<String>, scopes requestedScopes: Set<String>) throws(Refusal) -> String? {
        let requested = requested.flatMap { $0.isEmpty ? nil : $0 }
        guard let own = tenant else { return requested }
        if let requested, requested != own {
            throw Refusal(description: "an admin of tenant '\(own)' can only create keys of tenant '\(own)', not '\(requested)'")
        }
        let extraRoles = requestedRoles.subtracting(roles)
        if !extraRoles.isEmpty {
            throw Refusal(description: "an admin of tenant '\(own)' can only give roles it has itself; it lacks \(extraRoles.sorted().joined(separator: ", "))")
        }
        let extraScopes = requestedScopes.subtracting(scopes)
        if !extraScopes.isEmpty {
            throw Refusal(description: "an admin of tenant '\(own)' can only give scopes it has itself; it lacks \(extraScopes.sorted().joined(separator: " "))")
        }
        return own
    }

    /// Whether the caller may see and revoke `record`.
    func reaches(_ record: APIKeyRecord) -> Bool {
        isInstallationAdmin || record.tenant == tenant
    }
}
