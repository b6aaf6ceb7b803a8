/// For which tenant: a verified caller's tenant is the tenant of its credentials, never the
/// `Host`'s, so a caller of another tenant than the host's is refused, and a caller whose
/// credentials carry no tenant gets none (a mapped `Host` must not lend it one). Only an
/// anonymous request takes the tenant the `Host` maps to (`[tenants]`), and the plugin sees it
/// without a caller, which marks it as unverified (it selects branding, never tenant data).
final class TenantStage: RequestStage {
    /// Host name (lowercased, no port) to tenant.
    let tenantHosts: [String: String]
    private let audit: AuditTrail

    init(tenantHosts: [String: String], audit: AuditTrail) {
        self.tenantHosts = tenantHosts
        self.audit = audit
    }

    func screen(_ request: RequestContext, now: Double) -> GatewayRefusal? {
        let hostTenant = tenantHosts.isEmpty ? nil : request.header("host").flatMap { tenant(forHost: String(decoding: $0, as: UTF8.self)) }
        guard let caller = request.caller else {
            request.tenant = hostTenant
            return nil
        }
        if let own = caller.tenant, let hostTenant, own != hostTenant {
            return audit.denied(request, "the caller belongs to tenant '\(own)' but this host serves tenant '\(hostTenant)'")
        }
        request.tenant = caller.tenant
        return nil
    }

    /// The tenant a `Host` value maps to (ASCII case-insensitive, port ignored; IP literals map to none).
    func tenant(forHost host: String) -> String? {
        guard !tenantHosts.isEmpty else { return nil }
        var name = host.lowercased()
        if name.hasPrefix("[") { return nil }
        if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        return tenantHosts[name]
    }
}
