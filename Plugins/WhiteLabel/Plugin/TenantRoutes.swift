import Foundation
import PlexusSDK
import WhiteLabelEngine

/// The body of `POST /api/v1/tenants` and of `whitelabel.tenants.create`.
struct NewTenant: Codable, Sendable {
    let id: String
    let displayName: String
    let plan: String
    let contact: String
    let domains: [String]?
    let status: Tenant.Status?

    enum CodingKeys: String, CodingKey {
        case id, plan, contact, domains, status
        case displayName = "display_name"
    }

    var tenant: Tenant { Tenant(id: id, displayName: displayName, plan: plan, status: status ?? .active, domains: domains ?? [], contact: contact) }
}

/// `/api/v1/tenants`: the operator manages every tenant; a tenant's admin reads its own tenant
/// and changes its display name and contact.
extension WhiteLabelPlugin {
    func registerTenantRoutes() throws {
        let admin = RouteOptions(roles: [adminRole], summary: "Tenants (the operator; a tenant admin sees its own)")
        try context.routes.post("/api/v1/tenants", options: admin, maxBodyBytes: 64 * 1024) { [unowned self] request async throws in
            try requireOperator(request)
            let tenant = try await createTenant(decode(NewTenant.self, request).tenant)
            audit("tenant.create", request, tenant: tenant.id, target: tenant.id)
            return try .json(tenant, status: 201)
        }
        try context.routes.get("/api/v1/tenants", options: admin) { [unowned self] request in
            if isOperator(request) { return try .json(state.registry.all) }
            let own = try requireKnownTenant(request)
            return try .json([own])
        }
        try context.routes.get("/api/v1/tenants/:id", options: admin) { [unowned self] request in
            try .json(visibleTenant(request))
        }
        try context.routes.on(.patch, "/api/v1/tenants/:id", options: admin, maxBodyBytes: 64 * 1024) { [unowned self] request async throws in
            let current = try visibleTenant(request)
            let patch = try decode(TenantPatch.self, request)
            if !isOperator(request), patch.plan != nil || patch.status != nil || patch.domains != nil {
                throw HTTPError.forbidden("a tenant's admin changes display_name and contact only; plan, status and domains belong to the operator")
            }
            let replaced = try await replaceTenant(patch.applied(to: current))
            audit("tenant.update", request, tenant: current.id, target: current.id, detail: "status \(replaced.status.rawValue), plan \(replaced.plan)")
            return try .json(replaced)
        }
        try context.routes.delete("/api/v1/tenants/:id") { [unowned self] request async throws in
            try requireOperator(request)
            let id = request.parameters["id"] ?? ""
            try await deleteTenant(id)
            audit("tenant.delete", request, tenant: id, target: id)
            return .empty()
        }
        try context.routes.post("/api/v1/tenants/:id/domains", options: admin, maxBodyBytes: 4096) { [unowned self] request async throws in
            try requireOperator(request)
            struct Body: Decodable { let domain: String }
            let domain = try decode(Body.self, request).domain
            let tenant = try await reserveDomain(domain, for: request.parameters["id"] ?? "")
            audit("domain.reserve", request, tenant: tenant.id, target: domain)
            return try .json(tenant, status: 201)
        }
        try context.routes.delete("/api/v1/tenants/:id/domains/:domain") { [unowned self] request async throws in
            try requireOperator(request)
            let tenant = try await releaseDomain(request.parameters["domain"] ?? "", from: request.parameters["id"] ?? "")
            audit("domain.release", request, tenant: tenant.id, target: request.parameters["domain"])
            return try .json(tenant)
        }
    }

    /// The tenant `:id` if the caller may see it (404 for another tenant's id: it does not exist for them).
    func visibleTenant(_ request: Request) throws -> Tenant {
        let id = request.parameters["id"] ?? ""
        if !isOperator(request) && request.verifiedTenant != id { throw HTTPError.notFound("no tenant '\(id)'") }
        guard let tenant = state.registry[id] else { throw HTTPError.notFound("no tenant '\(id)'") }
        return tenant
    }

    // MARK: Changes (shared by routes, services and onboarding)

    /// Applies `change` to a copy of the registry and commits it: the gateway's directory first
    /// (refused hosts change nothing), then storage (a failed write republishes the old directory).
    private func commit(_ change: (inout TenantRegistry) throws -> Tenant, persist: (Tenant) async throws -> Void) async throws -> Tenant {
        var next = state.registry
        let tenant = try mapped { try change(&next) }
        let previous = state.registry
        state.registry = next
        do {
            try publishDirectory()
            try await persist(tenant)
        } catch {
            state.registry = previous
            try? publishDirectory()
            if let refused = error as? PluginError { throw HTTPError.conflict("the gateway refused the domains: \(refused)") }
            throw error
        }
        await publish(Topics.tenantChanged, ["tenant": tenant.id, "status": tenant.status.rawValue], tenant: tenant.id)
        return tenant
    }

    func createTenant(_ tenant: Tenant) async throws -> Tenant {
        let created = try await commit({ registry in try registry.create(tenant); return tenant }, persist: { try await state.saveTenant($0) })
        state.flags[created.id] = state.flags[created.id] ?? FlagSet.empty
        return created
    }

    func replaceTenant(_ tenant: Tenant) async throws -> Tenant {
        try await commit({ registry in try registry.update(tenant); return tenant }, persist: { try await state.saveTenant($0) })
    }

    func reserveDomain(_ domain: String, for id: String) async throws -> Tenant {
        try await commit({ registry in try registry.reserve(domain, for: id) }, persist: { try await state.saveTenant($0) })
    }

    func releaseDomain(_ domain: String, from id: String) async throws -> Tenant {
        try await commit({ registry in try registry.release(domain, from: id) }, persist: { try await state.saveTenant($0) })
    }

    func deleteTenant(_ id: String) async throws {
        _ = try await commit({ registry in try registry.delete(id) }, persist: { try await state.deleteTenantData($0.id) })
    }
}
