/// For which tenant: a verified caller's tenant is the tenant of its credentials, never the
/// `Host`'s, so a caller of another tenant than the host's is refused, and a caller whose
/// credentials carry no tenant gets none (a mapped `Host` must not lend it one). Only an
/// anonymous request takes the tenant the `Host` maps to (`[tenants]`), and the plugin sees it
/// without a caller, which marks it as unverified (it selects branding, never tenant data).
///
/// Hosts come from the static map first, then from the ``TenantDirectory`` granted plugins
/// publish at run time (ABI 1.6). A tenant the directory marks suspended gets 403 on every
/// plugin route, whether its caller's credentials or the `Host` named it.
final class TenantStage: RequestStage {
    /// Host name (lowercased, no port) to tenant.
    let tenantHosts: [String: String]
    /// The run-time directory (white-label plugins).
    let directory: TenantDirectory
    private let audit: AuditTrail

    init(tenantHosts: [String: String], directory: TenantDirectory = TenantDirectory(), audit: AuditTrail) {
        self.tenantHosts = tenantHosts
        self.directory = directory
        self.audit = audit
    }

    func screen(_ request: RequestContext, now: Double) -> GatewayRefusal? {
        let hostTenant = tenantHosts.isEmpty && directory.isEmpty ? nil : request.header(.host).flatMap { tenant(forHost: String(decoding: $0, as: UTF8.self)) }
        guard let caller = request.caller else {
            request.tenant = hostTenant
            return suspension(request, hostTenant)
        }
        if let own = caller.tenant, let hostTenant, own != hostTenant {
            return audit.denied(request, "the caller belongs to tenant '\(own)' but this host serves tenant '\(hostTenant)'")
        }
        request.tenant = caller.tenant
        return suspension(request, caller.tenant ?? hostTenant)
    }

    /// 403 when `tenant` is suspended and the request goes to a plugin.
    private func suspension(_ request: RequestContext, _ tenant: String?) -> GatewayRefusal? {
        guard let tenant, !directory.suspended.isEmpty, directory.suspended.contains(tenant),
              case .plugin? = request.target else { return nil }
        return audit.denied(request, "tenant '\(tenant)' is suspended")
    }

    /// The tenant a `Host` value maps to (ASCII case-insensitive, port ignored; IP literals map to none).
    func tenant(forHost host: String) -> String? {
        guard !tenantHosts.isEmpty || !directory.isEmpty else { return nil }
        var name = host.lowercased()
        if name.hasPrefix("[") { return nil }
        if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        return tenantHosts[name] ?? directory.hosts[name]
    }
}
