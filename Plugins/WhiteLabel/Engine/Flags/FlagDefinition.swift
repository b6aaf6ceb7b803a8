/// A feature flag of one tenant, as its admin writes it (Unleash's model, trimmed): the flag is
/// on for a context when it is enabled and one of its strategies matches; a matching flag then
/// picks one of its variants by weight.
public struct FlagDefinition: Codable, Sendable, Equatable {
    /// 1 to 100 of letters, digits, '.', '-' and '_'.
    public var name: String
    public var description: String?
    /// Off: the flag is off for everyone, whatever its strategies say.
    public var enabled: Bool
    /// Tried in order; the first that matches turns the flag on. None: on for everyone.
    public var strategies: [Strategy]
    public var variants: [Variant]?

    public init(name: String, description: String? = nil, enabled: Bool, strategies: [Strategy] = [], variants: [Variant]? = nil) {
        (self.name, self.description, self.enabled, self.strategies, self.variants) = (name, description, enabled, strategies, variants)
    }

    enum CodingKeys: String, CodingKey { case name, description, enabled, strategies, variants }

    /// `name` may be left out (a route takes it from the path) and `strategies` too (none).
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
        description = try container.decodeIfPresent(String.self, forKey: .description)
        enabled = try container.decode(Bool.self, forKey: .enabled)
        strategies = try container.decodeIfPresent([Strategy].self, forKey: .strategies) ?? []
        variants = try container.decodeIfPresent([Variant].self, forKey: .variants)
    }
}

/// One way a flag can be on.
public struct Strategy: Codable, Sendable, Equatable {
    /// `default` (on for every context its constraints admit) or `gradualRollout`.
    public var name: String
    /// `gradualRollout`: the share of stickiness values that get the flag, 0 to 100.
    public var percentage: Double?
    /// `gradualRollout`: the context field hashed (default `userId`).
    public var stickiness: String?
    /// `gradualRollout`: the hash group (default: the flag's name); the same group keeps the
    /// same users across flags.
    public var groupId: String?
    /// All must hold.
    public var constraints: [Constraint]?

    public init(name: String, percentage: Double? = nil, stickiness: String? = nil, groupId: String? = nil, constraints: [Constraint]? = nil) {
        (self.name, self.percentage, self.stickiness, self.groupId, self.constraints) = (name, percentage, stickiness, groupId, constraints)
    }
}

/// A condition on one context field.
public struct Constraint: Codable, Sendable, Equatable {
    public enum Operator: String, Codable, Sendable, CaseIterable {
        case `in` = "IN", notIn = "NOT_IN", strContains = "STR_CONTAINS", strStartsWith = "STR_STARTS_WITH"
        case numEq = "NUM_EQ", numGt = "NUM_GT", numGte = "NUM_GTE", numLt = "NUM_LT", numLte = "NUM_LTE"
        case dateAfter = "DATE_AFTER", dateBefore = "DATE_BEFORE"
        case semverEq = "SEMVER_EQ", semverGt = "SEMVER_GT", semverLt = "SEMVER_LT"
    }

    /// A field of ``FlagContext``: `userId`, `sessionId`, `remoteAddress`, `plan`, `tenant`,
    /// `environment`, `appVersion`, `currentTime`, or `properties.<name>`.
    public var contextName: String
    public var `operator`: Operator
    /// IN, NOT_IN, STR_*: the values.
    public var values: [String]?
    /// Comparisons: the one value (a number, a date, a version).
    public var value: String?
    /// Negates the result.
    public var inverted: Bool?

    public init(contextName: String, operator: Operator, values: [String]? = nil, value: String? = nil, inverted: Bool? = nil) {
        (self.contextName, self.operator, self.values, self.value, self.inverted) = (contextName, `operator`, values, value, inverted)
    }
}

/// A variant of a flag, chosen by weight among the flag's variants.
public struct Variant: Codable, Sendable, Equatable {
    public var name: String
    /// 0 to 1000, relative to the other variants.
    public var weight: Int
    public var payload: JSON?

    public init(name: String, weight: Int, payload: JSON? = nil) { (self.name, self.weight, self.payload) = (name, weight, payload) }
}
