import Foundation
import PlexusSDK
import WhiteLabelEngine

/// Onboarding: create the tenant, reserve its domains, create its admin's API key, apply its
/// plan's defaults, publish `tenant.onboarded`. Each step is also a bus service with its undo,
/// JSON in and out, for a workflow engine to drive; `POST /api/v1/onboarding` runs them here as a
/// compensating sequence, so a failing step undoes the ones before it.
extension WhiteLabelPlugin {
    struct OnboardingRequest: Decodable, Sendable {
        let tenant: NewTenant
        let domains: [String]?
        /// The admin key's name (default `admin`).
        let adminKeyName: String?
        enum CodingKeys: String, CodingKey { case tenant, domains, adminKeyName = "admin_key_name" }
    }

    struct Onboarded: Codable, Sendable {
        var tenant: String
        var domains: [String] = []
        var keyID: String?
        var key: String?
        var appliedFlags: [String] = []
        enum CodingKeys: String, CodingKey { case tenant, domains, key, keyID = "key_id", appliedFlags = "applied_flags" }
    }

    struct TenantDomain: Codable { let tenant: String; let domain: String }
    struct KeyAsk: Codable { let tenant: String; let name: String?; let roles: [String]? }
    struct KeyID: Codable { let id: String }
    struct PlanAsk: Codable { let tenant: String; let plan: String? }
    struct TenantID: Codable { let id: String }
    struct Announcement: Codable { let tenant: String }

    func registerOnboarding() throws {
        try context.routes.put("/api/v1/plans/:plan/defaults", options: RouteOptions(roles: [adminRole], summary: "The flags a plan gives a new tenant (the operator)"),
                               maxBodyBytes: 256 * 1024) { [unowned self] request async throws in
            try requireOperator(request)
            struct Body: Decodable { let flags: [FlagDefinition] }
            let plan = request.parameters["plan"] ?? ""
            try mapped { try Tenant.validatePlan(plan) }
            let flags = try decode(Body.self, request).flags
            _ = try mapped { try flags.map(CompiledFlag.init) }
            let defaults = PlanDefaults(plan: plan, flags: flags)
            try await context.storage.put("plan/\(plan)", state.encode(defaults))
            state.plans[plan] = defaults
            return try .json(defaults)
        }
        try context.routes.post("/api/v1/onboarding", options: RouteOptions(roles: [adminRole], summary: "Onboards a tenant, undoing every step if one fails"),
                                maxBodyBytes: 64 * 1024) { [unowned self] request async throws in
            try requireOperator(request)
            let ask = try decode(OnboardingRequest.self, request)
            do {
                return try .json(try await onboard(ask), status: 201)
            } catch let failure as CompensatingSequence<Onboarded>.Failure {
                let cause = Self.http(failure.error)
                let status = (cause as? HTTPError)?.status ?? 500
                throw HTTPError(status: status == 500 ? 502 : status, detail: "onboarding failed and was undone: \(failure)")
            }
        }
        try registerStepServices()
    }

    func onboard(_ ask: OnboardingRequest) async throws -> Onboarded {
        let tenant = ask.tenant.tenant
        let domains = ask.domains ?? []
        let keyName = ask.adminKeyName ?? "admin"
        let steps: [CompensatingSequence<Onboarded>.Step] = [
            .init("create tenant", run: { _ in _ = try await self.createTenant(Tenant(id: tenant.id, displayName: tenant.displayName, plan: tenant.plan,
                                                                                     status: tenant.status, domains: [], contact: tenant.contact)) },
                  undo: { done in try await self.deleteTenant(done.tenant) }),
            .init("reserve domains", run: { done in
                for domain in domains {
                    _ = try await self.reserveDomain(domain, for: tenant.id)
                    done.domains.append(domain)
                }
            }, undo: { done in for domain in done.domains.reversed() { _ = try await self.releaseDomain(domain, from: done.tenant) } }),
            .init("create admin key", run: { done in
                let key = try await self.context.tenancy.createKey(tenant: tenant.id, name: "\(tenant.id)-\(keyName)", roles: [self.adminRole])
                (done.keyID, done.key) = (key.id, key.plaintext)
            }, undo: { done in if let id = done.keyID { try await self.context.tenancy.revokeKey(id: id) } }),
            .init("apply plan defaults", run: { done in done.appliedFlags = try await self.applyPlan(tenant.id, plan: tenant.plan) },
                  undo: { done in try await self.removeFlags(done.tenant, done.appliedFlags, by: "onboarding") }),
            .init("publish tenant.onboarded", run: { done in
                _ = try await self.context.bus.publish(Topics.onboarded, json: ["tenant": done.tenant, "plan": tenant.plan, "domains": done.domains.joined(separator: " ")],
                                                       tenant: done.tenant)
            }, undo: { _ in }),
        ]
        return try await CompensatingSequence(steps).run(Onboarded(tenant: tenant.id))
    }

    /// Copies the plan's default flags into the tenant; returns their names. An unknown plan fails.
    func applyPlan(_ tenant: String, plan: String) async throws -> [String] {
        guard state.registry[tenant] != nil else { throw NotFoundError("no tenant '\(tenant)'") }
        guard let defaults = state.plans[plan] else { throw ValidationError("plan '\(plan)' has no defaults (PUT /api/v1/plans/\(plan)/defaults first)") }
        let compiled = try defaults.flags.map(CompiledFlag.init)
        try await putFlags(tenant, compiled, by: "plan \(plan)")
        return compiled.map(\.definition.name)
    }

    private func registerStepServices() throws {
        func json<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try JSONEncoder().encode(value)) }
        func ask<T: Decodable>(_ type: T.Type, _ payload: [UInt8]) throws -> T {
            do { return try JSONDecoder().decode(T.self, from: Data(payload)) } catch { throw Self.http(error) }
        }
        try context.services.register("whitelabel.tenants.create") { [unowned self] payload in
            try json(try await createTenant(ask(NewTenant.self, payload).tenant))
        }
        try context.services.register("whitelabel.tenants.delete") { [unowned self] payload in
            let id = try ask(TenantID.self, payload).id
            try await deleteTenant(id)
            return try json(["deleted": id])
        }
        try context.services.register("whitelabel.domains.reserve") { [unowned self] payload in
            let body = try ask(TenantDomain.self, payload)
            return try json(try await reserveDomain(body.domain, for: body.tenant))
        }
        try context.services.register("whitelabel.domains.release") { [unowned self] payload in
            let body = try ask(TenantDomain.self, payload)
            return try json(try await releaseDomain(body.domain, from: body.tenant))
        }
        try context.services.register("whitelabel.apikeys.create") { [unowned self] payload in
            let body = try ask(KeyAsk.self, payload)
            guard state.registry[body.tenant] != nil else { throw NotFoundError("no tenant '\(body.tenant)'") }
            let key = try await context.tenancy.createKey(tenant: body.tenant, name: "\(body.tenant)-\(body.name ?? "admin")", roles: body.roles ?? [adminRole])
            return try json(["id": key.id, "key": key.plaintext])
        }
        try context.services.register("whitelabel.apikeys.revoke") { [unowned self] payload in
            let id = try ask(KeyID.self, payload).id
            try await context.tenancy.revokeKey(id: id)
            return try json(["revoked": id])
        }
        try context.services.register("whitelabel.plans.apply") { [unowned self] payload in
            let body = try ask(PlanAsk.self, payload)
            let plan = body.plan ?? state.registry[body.tenant]?.plan ?? ""
            return try json(["tenant": body.tenant, "applied_flags": try await applyPlan(body.tenant, plan: plan).joined(separator: " ")])
        }
        try context.services.register("whitelabel.onboarding.announce") { [unowned self] payload in
            // The last step of an onboarding run by the workflow engine: `tenant.onboarded` is this
            // plugin's topic, so it is published here.
            let body = try ask(Announcement.self, payload)
            guard let tenant = state.registry[body.tenant] else { throw NotFoundError("no tenant '\(body.tenant)'") }
            _ = try await context.bus.publish(Topics.onboarded, json: ["tenant": tenant.id, "plan": tenant.plan, "domains": tenant.domains.joined(separator: " ")],
                                              tenant: tenant.id)
            return try json(["announced": tenant.id])
        }
        try context.services.register("whitelabel.plans.reset") { [unowned self] payload in
            let body = try ask(PlanAsk.self, payload)
            let plan = body.plan ?? state.registry[body.tenant]?.plan ?? ""
            let names = state.plans[plan]?.flags.map(\.name).filter { state.flags[body.tenant]?.flags[$0] != nil } ?? []
            try await removeFlags(body.tenant, names, by: "plan reset")
            return try json(["tenant": body.tenant, "removed_flags": names.joined(separator: " ")])
        }
    }
}
