import Foundation
import PlexusSDK
import WhiteLabelEngine

/// The plugin's data in memory and in its storage. Global keys: `tenant/<id>`, `settingdef/<key>`,
/// `plan/<plan>`; per tenant (``TenantStorage``): `flag/<name>`, `setting/<key>`, `branding`,
/// `logo/<kind>`.
@PluginActor
final class WhiteLabelState {
    let storage: Storage
    var registry = TenantRegistry()
    var flags: [String: FlagSet] = [:]
    var settingDefinitions: [String: SettingDefinition] = [:]
    var settings: [String: [String: TenantSetting]] = [:]
    var branding: [String: Branding] = [:]
    /// Tenant to the logo kinds it has (`logo`, `favicon`) with their content type.
    var logos: [String: [String: String]] = [:]
    var plans: [String: PlanDefaults] = [:]

    init(storage: Storage) { self.storage = storage }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    func encode<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try Self.encoder.encode(value)) }

    /// Every entry under `prefix`, page by page.
    private func all(_ prefix: String, in view: TenantStorage? = nil) async throws -> [StoredValue] {
        var out: [StoredValue] = []
        var after: String?
        while true {
            let page: [StoredValue]
            if let view { page = try await view.list(prefix: prefix, limit: 500, after: after) } else { page = try await storage.list(prefix: prefix, limit: 500, after: after) }
            out += page
            guard page.count == 500, let last = page.last else { return out }
            after = last.key
        }
    }

    func load() async throws {
        let decoder = JSONDecoder()
        var tenants: [Tenant] = []
        for entry in try await all("tenant/") where !entry.key.dropFirst(7).contains("/") {
            tenants.append(try decoder.decode(Tenant.self, from: Data(entry.value)))
        }
        registry = TenantRegistry(tenants)
        for entry in try await all("settingdef/") {
            let definition = try decoder.decode(SettingDefinition.self, from: Data(entry.value))
            settingDefinitions[definition.key] = definition
        }
        for entry in try await all("plan/") {
            let plan = try decoder.decode(PlanDefaults.self, from: Data(entry.value))
            plans[plan.plan] = plan
        }
        for tenant in tenants {
            let view = storage.tenant(tenant.id)
            var set = FlagSet.empty
            for entry in try await all("flag/", in: view) { set.put(try CompiledFlag(decoder.decode(FlagDefinition.self, from: Data(entry.value)))) }
            flags[tenant.id] = set
            for entry in try await all("setting/", in: view) {
                settings[tenant.id, default: [:]][String(entry.key.dropFirst(8))] = try decoder.decode(TenantSetting.self, from: Data(entry.value))
            }
            if let stored = try await view.get("branding") { branding[tenant.id] = try decoder.decode(Branding.self, from: Data(stored.value)) }
            for entry in try await all("logometa/", in: view) {
                logos[tenant.id, default: [:]][String(entry.key.dropFirst(9))] = String(decoding: entry.value, as: UTF8.self)
            }
        }
    }

    // MARK: Tenants

    func saveTenant(_ tenant: Tenant) async throws {
        try await storage.put("tenant/\(tenant.id)", encode(tenant))
    }

    /// Deletes a tenant and everything it owns.
    func deleteTenantData(_ id: String) async throws {
        let view = storage.tenant(id)
        for entry in try await all("", in: view) { try await view.delete(entry.key) }
        try await storage.delete("tenant/\(id)")
        flags[id] = nil
        settings[id] = nil
        branding[id] = nil
        logos[id] = nil
    }
}

/// The flags a plan gives a new tenant (`whitelabel.plans.apply`).
struct PlanDefaults: Codable, Sendable {
    let plan: String
    let flags: [FlagDefinition]
}
