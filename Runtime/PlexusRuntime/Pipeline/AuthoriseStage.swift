/// With which rights: checks the matched route's declared rules (a plugin route's roles,
/// scopes and tenant requirement; a built-in endpoint's access level) against the caller.
final class AuthoriseStage: RequestStage {
    /// The role that makes a caller an admin (`[auth] admin_role`).
    let adminRole: String
    private let audit: AuditTrail

    init(adminRole: String, audit: AuditTrail) {
        self.adminRole = adminRole
        self.audit = audit
    }

    func screen(_ request: RequestContext, now: Double) -> GatewayRefusal? {
        // A public plugin route (the common case) is decided without copying the route's policy.
        if let route = request.route { return route.policy.isPublic ? nil : authorize(request, route: route) }
        if let builtin = request.builtin { return authorize(request, builtin: builtin.access) }
        return nil
    }

    func isAdmin(_ caller: Caller?) -> Bool { caller?.roles.contains(adminRole) ?? false }

    private func authorize(_ request: RequestContext, route: RegisteredRoute) -> GatewayRefusal? {
        let policy = route.policy
        if policy.isPublic { return nil }
        guard let caller = request.caller else {
            return audit.unauthenticated(request, "\(route.method) \(route.pattern) needs credentials: a bearer JWT or an API key", error: nil)
        }
        if !policy.roles.isEmpty && caller.roles.isDisjoint(with: policy.roles) {
            return audit.denied(request, "\(route.method) \(route.pattern) needs one of the roles \(policy.roles.joined(separator: ", ")); the caller has \(caller.roles.isEmpty ? "none" : caller.roles.sorted().joined(separator: ", "))")
        }
        let missing = policy.scopes.filter { !caller.scopes.contains($0) }
        if !missing.isEmpty {
            return audit.denied(request, "\(route.method) \(route.pattern) needs the scope(s) \(missing.joined(separator: " "))", scope: policy.scopes.joined(separator: " "))
        }
        if policy.tenantRequired {
            guard let tenant = caller.tenant else {
                return audit.denied(request, "\(route.method) \(route.pattern) serves tenant data; the caller belongs to no tenant")
            }
            if let named = request.parameters.first(where: { $0.name == "tenant" })?.value, named != tenant {
                return audit.denied(request, "the caller belongs to tenant '\(tenant)', not '\(named)'")
            }
        }
        return nil
    }

    private func authorize(_ request: RequestContext, builtin access: BuiltinAccess) -> GatewayRefusal? {
        switch access {
        case .public:
            return nil
        case .authenticated:
            return request.caller == nil ? audit.unauthenticated(request, "\(request.path) needs credentials: a bearer JWT or an API key", error: nil) : nil
        case .admin, .tenantAdmin:
            guard let caller = request.caller else {
                return audit.unauthenticated(request, "\(request.path) is an admin endpoint: it needs the admin identity", error: nil)
            }
            guard isAdmin(caller) else {
                return audit.denied(request, "\(request.path) is an admin endpoint; the caller lacks the '\(adminRole)' role")
            }
            if access == .admin, let tenant = caller.tenant {
                return audit.denied(request, "\(request.path) spans every tenant: it needs the installation's admin (the '\(adminRole)' role with no tenant); the caller is an admin of tenant '\(tenant)'")
            }
            return nil
        }
    }
}
