/// Where a setting's value comes from, weakest first: each layer overrides the ones before.
public enum SettingLayer: String, Codable, Sendable, CaseIterable {
    case platform, plan, tenant, user
}

/// A setting the platform declares: its key, schema and platform value.
public struct SettingDefinition: Codable, Sendable {
    public let key: String
    public let schema: JSON
    public let platform: JSON
    /// Values by plan.
    public var plans: [String: JSON]

    public init(key: String, schema: JSON, platform: JSON, plans: [String: JSON] = [:]) throws {
        try Self.checkKey(key)
        let compiled = try Schema(schema)
        do { try compiled.validate(platform) } catch { throw ValidationError("the platform value of '\(key)' breaks its schema: \(error)") }
        for (plan, value) in plans {
            try Tenant.validatePlan(plan)
            do { try compiled.validate(value) } catch { throw ValidationError("the '\(plan)' plan's value of '\(key)' breaks its schema: \(error)") }
        }
        (self.key, self.schema, self.platform, self.plans) = (key, schema, platform, plans)
    }

    public static func checkKey(_ key: String) throws {
        guard (1...100).contains(key.utf8.count),
              key.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 95 }) else {
            throw ValidationError("setting key '\(key.prefix(100))' must be 1 to 100 lower-case letters, digits, '.', '-' or '_'")
        }
    }
}

/// One change of a tenant's or user's value: who made it and when.
public struct SettingChange: Codable, Sendable, Equatable {
    public let version: Int
    public let layer: SettingLayer
    /// The user, for the user layer.
    public let user: String?
    /// nil: the value was removed (the layer below shows through).
    public let value: JSON?
    public let by: String
    public let at: Double
    /// Set when this change reverted to an earlier version.
    public let revertOf: Int?

    enum CodingKeys: String, CodingKey {
        case version, layer, user, value, by, at
        case revertOf = "revert_of"
    }
}

/// One tenant's values of one setting (tenant layer and per-user layer) and their history.
public struct TenantSetting: Codable, Sendable {
    public var tenantValue: JSON?
    public var users: [String: JSON] = [:]
    public var history: [SettingChange] = []

    public init() {}

    /// Writes `value` (nil removes it) at `layer` after checking it against `schema`; returns the change.
    public mutating func write(_ value: JSON?, layer: SettingLayer, user: String?, schema: Schema, by: String, at: Double, revertOf: Int? = nil) throws -> SettingChange {
        guard layer == .tenant || layer == .user else { throw ValidationError("a tenant writes the tenant or user layer, not \(layer.rawValue)") }
        if layer == .user, user?.isEmpty ?? true { throw ValidationError("the user layer needs a user") }
        if let value, value.depth > JSON.maxDepth { throw ValidationError("the value nests deeper than \(JSON.maxDepth) levels") }
        if let value { try schema.validate(value) }
        guard history.count < 10_000 else { throw ValidationError("this setting has 10000 changes; no more are kept") }
        if layer == .tenant { tenantValue = value } else if let user { users[user] = value }
        let change = SettingChange(version: (history.last?.version ?? 0) + 1, layer: layer, user: layer == .user ? user : nil, value: value,
                                   by: by, at: at, revertOf: revertOf)
        history.append(change)
        return change
    }

    /// Goes back to the value of `version` (of the same layer and user) as a new change.
    public mutating func revert(to version: Int, schema: Schema, by: String, at: Double) throws -> SettingChange {
        guard let old = history.first(where: { $0.version == version }) else { throw NotFoundError("no version \(version) of this setting") }
        return try write(old.value, layer: old.layer, user: old.user, schema: schema, by: by, at: at, revertOf: version)
    }
}

/// A resolved value with every layer's contribution.
public struct SettingResolution: Codable, Sendable, Equatable {
    public struct Layer: Codable, Sendable, Equatable {
        public let layer: SettingLayer
        public let value: JSON?
    }
    public let key: String
    public let value: JSON
    public let winner: SettingLayer
    public let layers: [Layer]

    /// Resolves platform, then plan, then tenant, then user.
    public init(definition: SettingDefinition, plan: String?, setting: TenantSetting?, user: String?) {
        let layers = [
            Layer(layer: .platform, value: definition.platform),
            Layer(layer: .plan, value: plan.flatMap { definition.plans[$0] }),
            Layer(layer: .tenant, value: setting?.tenantValue),
            Layer(layer: .user, value: user.flatMap { setting?.users[$0] }),
        ]
        let winning = layers.last { $0.value != nil }!
        (key, value, winner, self.layers) = (definition.key, winning.value!, winning.layer, layers)
    }
}
