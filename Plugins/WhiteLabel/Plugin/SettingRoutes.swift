import Foundation
import PlexusSDK
import WhiteLabelEngine

/// `/api/v1/settings`: the operator declares a setting (schema, platform value, plan values);
/// a tenant's admin writes the tenant layer, each user its own layer; reads resolve platform,
/// plan, tenant, user; every write is checked against the schema, kept in the history, and
/// published as `tenant.settings.changed`.
extension WhiteLabelPlugin {
    struct DefinitionBody: Decodable { let schema: JSON; let platform: JSON; let plans: [String: JSON]? }
    struct ValueBody: Decodable { let value: JSON? }
    struct RevertBody: Decodable { let version: Int }
    struct SettingChanged: Encodable { let tenant: String; let key: String; let version: Int; let layer: String }

    func registerSettingRoutes() throws {
        try context.routes.put("/api/v1/settings/:key/definition", options: RouteOptions(roles: [adminRole], summary: "Declares a setting (the operator)"),
                               maxBodyBytes: 64 * 1024) { [unowned self] request async throws in
            try requireOperator(request)
            let body = try decode(DefinitionBody.self, request)
            let definition = try mapped { try SettingDefinition(key: request.parameters["key"] ?? "", schema: body.schema, platform: body.platform, plans: body.plans ?? [:]) }
            try await context.storage.put("settingdef/\(definition.key)", state.encode(definition))
            state.settingDefinitions[definition.key] = definition
            return try .json(definition)
        }
        let tenant = RouteOptions(tenantRequired: true, summary: "A setting resolved for the caller (?explain=1: every layer)")
        try context.routes.get("/api/v1/settings/:key", options: tenant) { [unowned self] request in
            let owner = try requireKnownTenant(request)
            let definition = try settingDefinition(request)
            let resolution = SettingResolution(definition: definition, plan: owner.plan, setting: state.settings[owner.id]?[definition.key],
                                               user: request.caller?.subject)
            if request.query["explain"] == "1" { return try .json(resolution) }
            return try .json(["key": JSON.string(resolution.key), "value": resolution.value])
        }
        let admin = RouteOptions(roles: [adminRole], tenantRequired: true, summary: "Writes the tenant layer of a setting")
        try context.routes.put("/api/v1/settings/:key", options: admin, maxBodyBytes: 64 * 1024) { [unowned self] request async throws in
            try await writeSetting(request, layer: .tenant)
        }
        try context.routes.put("/api/v1/settings/:key/user", options: RouteOptions(tenantRequired: true, summary: "Writes the caller's own layer"),
                               maxBodyBytes: 64 * 1024) { [unowned self] request async throws in
            try await writeSetting(request, layer: .user)
        }
        try context.routes.get("/api/v1/settings/:key/history", options: RouteOptions(roles: [adminRole], tenantRequired: true)) { [unowned self] request in
            let owner = try requireKnownTenant(request)
            let definition = try settingDefinition(request)
            return try .json(state.settings[owner.id]?[definition.key]?.history ?? [])
        }
        try context.routes.post("/api/v1/settings/:key/revert", options: RouteOptions(roles: [adminRole], tenantRequired: true), maxBodyBytes: 4096) { [unowned self] request async throws in
            let owner = try requireKnownTenant(request)
            let definition = try settingDefinition(request)
            let version = try decode(RevertBody.self, request).version
            var setting = state.settings[owner.id]?[definition.key] ?? TenantSetting()
            let schema = try mapped { try Schema(definition.schema) }
            let change = try mapped { try setting.revert(to: version, schema: schema, by: request.caller?.subject ?? "", at: Date().timeIntervalSince1970) }
            try await saveSetting(owner.id, definition.key, setting, change)
            audit("setting.revert", request, tenant: owner.id, target: definition.key, detail: "to version \(version)")
            return try .json(change)
        }
    }

    func settingDefinition(_ request: Request) throws -> SettingDefinition {
        let key = request.parameters["key"] ?? ""
        guard let definition = state.settingDefinitions[key] else { throw HTTPError.notFound("no setting '\(key.prefix(100))' is declared") }
        return definition
    }

    private func writeSetting(_ request: Request, layer: SettingLayer) async throws -> Response {
        let owner = try requireKnownTenant(request)
        let definition = try settingDefinition(request)
        let body = try decode(ValueBody.self, request)
        var setting = state.settings[owner.id]?[definition.key] ?? TenantSetting()
        let schema = try mapped { try Schema(definition.schema) }
        let change = try mapped {
            try setting.write(body.value, layer: layer, user: request.caller?.subject, schema: schema, by: request.caller?.subject ?? "", at: Date().timeIntervalSince1970)
        }
        try await saveSetting(owner.id, definition.key, setting, change)
        audit("setting.write", request, tenant: owner.id, target: definition.key, detail: "layer \(layer.rawValue), version \(change.version)")
        return try .json(change)
    }

    private func saveSetting(_ tenant: String, _ key: String, _ setting: TenantSetting, _ change: SettingChange) async throws {
        try await context.storage.tenant(tenant).put("setting/\(key)", state.encode(setting))
        state.settings[tenant, default: [:]][key] = setting
        await publish(Topics.settingsChanged, SettingChanged(tenant: tenant, key: key, version: change.version, layer: change.layer.rawValue), tenant: tenant)
    }
}
