import Foundation

/// A flag checked and prepared for evaluation: fields resolved, values parsed into sets, numbers,
/// dates and versions, the hash group's bytes ready. Building one is the validation: every
/// problem of a definition is a ``ValidationError`` naming the strategy, the constraint and what
/// is wrong.
public final class CompiledFlag: Sendable {
    public let definition: FlagDefinition
    /// `definition.enabled`, read without reaching into the definition.
    let enabled: Bool
    let strategies: ContiguousArray<CompiledStrategy>
    let variants: [Variant]
    /// Each variant as an answer carries it, made once.
    let chosen: [ChosenVariant]
    let totalWeight: UInt32
    /// The variant hash's prefix: the flag's name and `:`, with the variant seed.
    let variantPrefix: Murmur3.Prefix

    /// The seed of the variant hash (Unleash's).
    static let variantSeed: UInt32 = 86_028_157

    /// Limits on one flag.
    public static let maxStrategies = 20, maxConstraints = 20, maxValues = 1000, maxVariants = 50

    public init(_ definition: FlagDefinition) throws {
        try Self.checkName(definition.name)
        if let description = definition.description, description.count > 1000 { throw ValidationError("flag '\(definition.name)': description is longer than 1000 characters") }
        guard definition.strategies.count <= Self.maxStrategies else { throw ValidationError("flag '\(definition.name)' has \(definition.strategies.count) strategies, at most \(Self.maxStrategies)") }
        self.definition = definition
        enabled = definition.enabled
        variantPrefix = Murmur3.Prefix(Array(definition.name.utf8), seed: Self.variantSeed)
        strategies = ContiguousArray(try definition.strategies.enumerated().map { index, strategy in
            try CompiledStrategy(strategy, flag: definition.name, index: index)
        })
        let variants = definition.variants ?? []
        guard variants.count <= Self.maxVariants else { throw ValidationError("flag '\(definition.name)' has \(variants.count) variants, at most \(Self.maxVariants)") }
        var names = Set<String>()
        for variant in variants {
            guard (1...100).contains(variant.name.utf8.count) else { throw ValidationError("flag '\(definition.name)': a variant name must be 1 to 100 bytes") }
            guard names.insert(variant.name).inserted else { throw ValidationError("flag '\(definition.name)': variant '\(variant.name)' is listed twice") }
            if let payload = variant.payload, payload.depth > JSON.maxDepth { throw ValidationError("flag '\(definition.name)': variant '\(variant.name)' has a payload nesting deeper than \(JSON.maxDepth) levels") }
            guard (0...1000).contains(variant.weight) else { throw ValidationError("flag '\(definition.name)': variant '\(variant.name)' has weight \(variant.weight); weights are 0 to 1000") }
        }
        self.variants = variants
        chosen = variants.map { ChosenVariant(name: $0.name, payload: $0.payload) }
        totalWeight = UInt32(variants.reduce(0) { $0 + $1.weight })
        if !variants.isEmpty && totalWeight == 0 { throw ValidationError("flag '\(definition.name)': the variants' weights add up to 0") }
    }

    static func checkName(_ name: String) throws {
        guard (1...100).contains(name.utf8.count),
              name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 95 }) else {
            throw ValidationError("flag name '\(name.prefix(100))' must be 1 to 100 letters, digits, '.', '-' or '_'")
        }
    }
}

/// A strategy ready for evaluation, in plain stored properties (matching an enum with payloads
/// would copy, and retain, the payload on every evaluation).
final class CompiledStrategy: Sendable {
    let name: String
    /// Whether the strategy rolls out by percentage (gradualRollout) or is on for all (default).
    let isRollout: Bool
    let percentage: Double
    /// The field hashed for the rollout and its name.
    let stickiness: ContextSlot
    let stickinessName: String
    /// The rollout's group and `:`, folded into the hash once.
    let group: Murmur3.Prefix
    let constraints: ContiguousArray<CompiledConstraint>

    init(_ strategy: Strategy, flag: String, index: Int) throws {
        let label = "flag '\(flag)', strategy \(index + 1) ('\(strategy.name)')"
        name = strategy.name
        switch strategy.name {
        case "default":
            guard strategy.percentage == nil else { throw ValidationError("\(label): a default strategy takes no percentage; use gradualRollout") }
            (isRollout, percentage, stickiness, stickinessName, group) = (false, 0, ContextSlot(.userId), "userId", Murmur3.Prefix([]))
        case "gradualRollout":
            guard let percentage = strategy.percentage else { throw ValidationError("\(label): gradualRollout needs a percentage (0 to 100)") }
            guard percentage.isFinite, (0...100).contains(percentage) else { throw ValidationError("\(label): percentage \(percentage) is outside 0 to 100") }
            let stickinessName = strategy.stickiness ?? "userId"
            guard let field = FlagContext.Field(stickinessName), field != .currentTime else {
                throw ValidationError("\(label): stickiness '\(stickinessName.prefix(100))' is not a context field (userId, sessionId, remoteAddress, plan, tenant, environment, appVersion or properties.<name>)")
            }
            let group = strategy.groupId ?? flag
            guard (1...100).contains(group.utf8.count) else { throw ValidationError("\(label): groupId must be 1 to 100 bytes") }
            (isRollout, self.percentage, stickiness, self.stickinessName) = (true, percentage, ContextSlot(field), stickinessName)
            self.group = Murmur3.Prefix(Array(group.utf8))
        default:
            throw ValidationError("\(label): unknown strategy '\(strategy.name.prefix(100))'; use default or gradualRollout")
        }
        let constraints = strategy.constraints ?? []
        guard constraints.count <= CompiledFlag.maxConstraints else { throw ValidationError("\(label) has \(constraints.count) constraints, at most \(CompiledFlag.maxConstraints)") }
        self.constraints = ContiguousArray(try constraints.enumerated().map { try CompiledConstraint($1, label: "\(label), constraint \($0 + 1)") })
    }

    /// The rollout bucket (1 to 100) of the context's stickiness value, or nil when it has none.
    @inline(__always)
    func bucket(_ context: FlagContext, _ scope: Scope?) -> UInt32? {
        guard let value = stickiness.read(context, scope), !value.isEmpty else { return nil }
        return Murmur3.bucket(group: group, value)
    }

    /// Whether a rollout takes `bucket`.
    @inline(__always)
    func takes(_ bucket: UInt32) -> Bool { percentage > 0 && Double(bucket) <= percentage }
}

/// Where a field sits in a ``FlagContext``, as a tag with no payload (reading it copies nothing
/// but the property's name).
struct ContextSlot: Sendable {
    enum Tag: Sendable { case userId, sessionId, remoteAddress, plan, tenant, environment, appVersion, currentTime, property }
    let tag: Tag
    /// `properties.<name>`: the name; otherwise empty.
    let propertyName: String

    init(_ field: FlagContext.Field) {
        switch field {
        case .userId: (tag, propertyName) = (.userId, "")
        case .sessionId: (tag, propertyName) = (.sessionId, "")
        case .remoteAddress: (tag, propertyName) = (.remoteAddress, "")
        case .plan: (tag, propertyName) = (.plan, "")
        case .tenant: (tag, propertyName) = (.tenant, "")
        case .environment: (tag, propertyName) = (.environment, "")
        case .appVersion: (tag, propertyName) = (.appVersion, "")
        case .currentTime: (tag, propertyName) = (.currentTime, "")
        case .property(let name): (tag, propertyName) = (.property, name)
        }
    }

    /// The context's text of this field (the scope's tenant and plan when given; currentTime: nil).
    @inline(__always)
    func read(_ context: FlagContext, _ scope: Scope?) -> String? {
        switch tag {
        case .userId: return context.userId
        case .sessionId: return context.sessionId
        case .remoteAddress: return context.remoteAddress
        case .plan: return scope != nil ? scope!.plan : context.plan
        case .tenant: return scope != nil ? scope!.tenant : context.tenant
        case .environment: return context.environment
        case .appVersion: return context.appVersion
        case .currentTime: return nil
        case .property: return context.property(propertyName)
        }
    }
}

/// ISO 8601 dates (`2026-12-24`, `2026-12-24T10:00:00Z`, with fractional seconds or an offset).
public enum ISO8601 {
    public static func parse(_ text: String) -> Double? {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date.timeIntervalSince1970 }
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = full.date(from: text) { return date.timeIntervalSince1970 }
        full.formatOptions = [.withFullDate]
        if let date = full.date(from: text) { return date.timeIntervalSince1970 }
        return nil
    }
}
