import Foundation
import PlexusSDK
import WhiteLabelClient
import WhiteLabelEngine

/// `/api/v1/flags`: the tenant's flags, evaluated for a context, explained, and written by its
/// admin. Every change is published as `flags.changed` with the tenant's whole flag set.
extension WhiteLabelPlugin {
    /// Flags one tenant may have: every change publishes the tenant's whole set (`flags.changed`)
    /// and `GET /api/v1/flags` answers all of them, so both stay bounded.
    static let maxFlagsPerTenant = 1000

    func registerFlagRoutes() throws {
        let tenant = RouteOptions(tenantRequired: true, summary: "Evaluates every flag of the caller's tenant for ?context={json}")
        try context.routes.get("/api/v1/flags", options: tenant) { [unowned self] request in
            let owner = try requireKnownTenant(request)
            let flagContext = try evaluationContext(try mapped { try FlagContextJSON.queryValue("context", in: request.rawQuery) }, request, owner)
            let now = Date().timeIntervalSince1970
            let results = (state.flags[owner.id]?.ordered ?? []).map { ($0.name, $0.flag.evaluate(flagContext, now: now)) }
            return Response(status: 200, headers: Headers([("Content-Type", "application/json")]), body: FlagContextJSON.encode(results))
        }
        try context.routes.get("/api/v1/flags/definitions", options: RouteOptions(tenantRequired: true, summary: "The tenant's flag definitions")) { [unowned self] request in
            let owner = try requireKnownTenant(request)
            return try .json(state.flags[owner.id]?.definitions ?? [])
        }
        let write = RouteOptions(roles: [adminRole], tenantRequired: true, summary: "Creates or replaces a flag of the caller's tenant")
        try context.routes.put("/api/v1/flags/:name", options: write, maxBodyBytes: 256 * 1024) { [unowned self] request async throws in
            let owner = try requireKnownTenant(request)
            var definition = try decode(FlagDefinition.self, request)
            definition.name = request.parameters["name"] ?? ""
            let compiled = try mapped { try CompiledFlag(definition) }
            try await putFlags(owner.id, [compiled], by: request.caller?.subject ?? "", requestID: request.requestID)
            return try .json(definition)
        }
        try context.routes.delete("/api/v1/flags/:name", options: RouteOptions(roles: [adminRole], tenantRequired: true)) { [unowned self] request async throws in
            let owner = try requireKnownTenant(request)
            let name = request.parameters["name"] ?? ""
            guard state.flags[owner.id]?.flags[name] != nil else { throw HTTPError.notFound("no flag '\(name)' in tenant '\(owner.id)'") }
            try await removeFlags(owner.id, [name], by: request.caller?.subject ?? "", requestID: request.requestID)
            return .empty()
        }
        try context.routes.post("/api/v1/flags/:name/explain", options: RouteOptions(tenantRequired: true, summary: "Which rule decided a flag, and why"),
                                maxBodyBytes: 64 * 1024) { [unowned self] request in
            let owner = try requireKnownTenant(request)
            let name = request.parameters["name"] ?? ""
            guard let flag = state.flags[owner.id]?.flags[name] else { throw HTTPError.notFound("no flag '\(name)' in tenant '\(owner.id)'") }
            let flagContext = try evaluationContext(request.body.isEmpty ? nil : request.body, request, owner)
            return try .json(flag.explain(flagContext, now: Date().timeIntervalSince1970))
        }
        try context.services.register("whitelabel.flags.evaluate") { [unowned self] payload in
            struct Ask: Decodable { let tenant: String; let context: FlagContext?; let flag: String? }
            let ask = try JSONDecoder().decode(Ask.self, from: Data(payload))
            guard let owner = state.registry[ask.tenant] else { throw ValidationError("no tenant '\(ask.tenant)'") }
            var flagContext = ask.context ?? FlagContext()
            (flagContext.tenant, flagContext.plan) = (owner.id, owner.plan)
            let set = state.flags[owner.id] ?? FlagSet.empty
            let now = Date().timeIntervalSince1970
            if let name = ask.flag {
                guard let flag = set.flags[name] else { throw ValidationError("no flag '\(name)' in tenant '\(owner.id)'") }
                return Array(try JSONEncoder().encode([name: flag.evaluate(flagContext, now: now)]))
            }
            return Array(try JSONEncoder().encode(set.evaluateAll(flagContext, now: now)))
        }
        try context.services.register(FlagCache.snapshotService) { [unowned self] payload in
            struct Ask: Decodable { let tenant: String }
            let ask = try JSONDecoder().decode(Ask.self, from: Data(payload))
            let owner = state.registry[ask.tenant]
            return Array(try JSONEncoder().encode(FlagSnapshot(tenant: ask.tenant, plan: owner?.plan, flags: state.flags[ask.tenant]?.definitions ?? [])))
        }
    }

    /// The context of an evaluation: the client's JSON, with the tenant and plan the gateway
    /// verified (a client cannot claim another's), and the caller as the user when none is named.
    func evaluationContext(_ json: [UInt8]?, _ request: Request, _ owner: Tenant) throws -> FlagContext {
        var flagContext = FlagContext()
        if let json {
            guard json.count <= 16 * 1024 else { throw HTTPError.badRequest("the context is larger than 16 KiB") }
            do { flagContext = try FlagContextJSON.parse(json) } catch {
                throw HTTPError.badRequest("context must be a JSON object such as {\"userId\":\"u1\",\"properties\":{\"country\":\"NO\"}}: \(error)")
            }
        }
        (flagContext.tenant, flagContext.plan) = (owner.id, owner.plan)
        if flagContext.userId == nil { flagContext.userId = request.caller?.subject }
        return flagContext
    }

    /// Stores `flags` of `tenant` (storage first), then publishes the tenant's whole set.
    func putFlags(_ tenant: String, _ flags: [CompiledFlag], by who: String, requestID: String? = nil) async throws {
        let existing = state.flags[tenant]?.flags ?? [:]
        let added = Set(flags.map(\.definition.name)).filter { existing[$0] == nil }.count
        guard existing.count + added <= Self.maxFlagsPerTenant else {
            throw HTTPError.conflict("tenant '\(tenant)' has \(existing.count) flags and this adds \(added): a tenant has at most \(Self.maxFlagsPerTenant) flags (delete some first)")
        }
        let view = context.storage.tenant(tenant)
        for flag in flags { try await view.put("flag/\(flag.definition.name)", state.encode(flag.definition)) }
        var set = state.flags[tenant] ?? FlagSet.empty
        for flag in flags { set.put(flag) }
        state.flags[tenant] = set
        context.logger.info("flags changed", metadata: ["tenant": "\(tenant)", "flags": "\(flags.map(\.definition.name))", "by": "\(who)"])
        if !flags.isEmpty { auditFlags("flag.put", tenant, flags.map(\.definition.name), by: who, requestID: requestID) }
        await publish(Topics.flagsChanged, FlagSnapshot(tenant: tenant, plan: state.registry[tenant]?.plan, flags: set.definitions), tenant: tenant)
    }

    /// A flag change in the audit log: a caller's (with its request) or the plugin's own (onboarding, a
    /// plan's defaults), whose reason goes into the detail.
    private func auditFlags(_ action: String, _ tenant: String, _ names: [String], by who: String, requestID: String?) {
        // One record per flag: a name is up to 100 bytes, a record's target at most 256.
        for name in names {
            audit(AuditEntry(action: action, actor: requestID == nil || who.isEmpty ? nil : who, tenant: tenant, target: name,
                             requestID: requestID, detail: requestID == nil ? "by \(who)" : nil))
        }
    }

    func removeFlags(_ tenant: String, _ names: [String], by who: String, requestID: String? = nil) async throws {
        let view = context.storage.tenant(tenant)
        for name in names { try await view.delete("flag/\(name)") }
        var set = state.flags[tenant] ?? FlagSet.empty
        for name in names { set.remove(name) }
        state.flags[tenant] = set
        context.logger.info("flags removed", metadata: ["tenant": "\(tenant)", "flags": "\(names)", "by": "\(who)"])
        if !names.isEmpty { auditFlags("flag.delete", tenant, names, by: who, requestID: requestID) }
        await publish(Topics.flagsChanged, FlagSnapshot(tenant: tenant, plan: state.registry[tenant]?.plan, flags: set.definitions), tenant: tenant)
    }
}
