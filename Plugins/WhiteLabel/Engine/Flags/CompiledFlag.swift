import Foundation

/// A flag checked and prepared for evaluation: fields resolved, values parsed into sets, numbers,
/// dates and versions, the hash group's bytes ready. Building one is the validation: every
/// problem of a definition is a ``ValidationError`` naming the strategy, the constraint and what
/// is wrong.
public final class CompiledFlag: Sendable {
    public let definition: FlagDefinition
    let strategies: [CompiledStrategy]
    let variants: [Variant]
    let totalWeight: UInt32
    let nameBytes: [UInt8]

    /// Limits on one flag.
    public static let maxStrategies = 20, maxConstraints = 20, maxValues = 1000, maxVariants = 50

    public init(_ definition: FlagDefinition) throws {
        try Self.checkName(definition.name)
        if let description = definition.description, description.count > 1000 { throw ValidationError("flag '\(definition.name)': description is longer than 1000 characters") }
        guard definition.strategies.count <= Self.maxStrategies else { throw ValidationError("flag '\(definition.name)' has \(definition.strategies.count) strategies, at most \(Self.maxStrategies)") }
        self.definition = definition
        nameBytes = Array(definition.name.utf8)
        strategies = try definition.strategies.enumerated().map { index, strategy in
            try CompiledStrategy(strategy, flag: definition.name, index: index)
        }
        let variants = definition.variants ?? []
        guard variants.count <= Self.maxVariants else { throw ValidationError("flag '\(definition.name)' has \(variants.count) variants, at most \(Self.maxVariants)") }
        var names = Set<String>()
        for variant in variants {
            guard (1...100).contains(variant.name.utf8.count) else { throw ValidationError("flag '\(definition.name)': a variant name must be 1 to 100 bytes") }
            guard names.insert(variant.name).inserted else { throw ValidationError("flag '\(definition.name)': variant '\(variant.name)' is listed twice") }
            guard (0...1000).contains(variant.weight) else { throw ValidationError("flag '\(definition.name)': variant '\(variant.name)' has weight \(variant.weight); weights are 0 to 1000") }
        }
        self.variants = variants
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
    let stickiness: CompiledField
    let group: [UInt8]
    let constraints: [CompiledConstraint]

    init(_ strategy: Strategy, flag: String, index: Int) throws {
        let label = "flag '\(flag)', strategy \(index + 1) ('\(strategy.name)')"
        name = strategy.name
        switch strategy.name {
        case "default":
            guard strategy.percentage == nil else { throw ValidationError("\(label): a default strategy takes no percentage; use gradualRollout") }
            (isRollout, percentage, stickiness, group) = (false, 0, CompiledField("userId")!, [])
        case "gradualRollout":
            guard let percentage = strategy.percentage else { throw ValidationError("\(label): gradualRollout needs a percentage (0 to 100)") }
            guard percentage.isFinite, (0...100).contains(percentage) else { throw ValidationError("\(label): percentage \(percentage) is outside 0 to 100") }
            let stickinessName = strategy.stickiness ?? "userId"
            guard let field = CompiledField(stickinessName), field.field != .currentTime else {
                throw ValidationError("\(label): stickiness '\(stickinessName.prefix(100))' is not a context field (userId, sessionId, remoteAddress, plan, tenant, environment, appVersion or properties.<name>)")
            }
            let group = strategy.groupId ?? flag
            guard (1...100).contains(group.utf8.count) else { throw ValidationError("\(label): groupId must be 1 to 100 bytes") }
            (isRollout, self.percentage, stickiness, self.group) = (true, percentage, field, Array(group.utf8))
        default:
            throw ValidationError("\(label): unknown strategy '\(strategy.name.prefix(100))'; use default or gradualRollout")
        }
        let constraints = strategy.constraints ?? []
        guard constraints.count <= CompiledFlag.maxConstraints else { throw ValidationError("\(label) has \(constraints.count) constraints, at most \(CompiledFlag.maxConstraints)") }
        self.constraints = try constraints.enumerated().map { try CompiledConstraint($1, label: "\(label), constraint \($0 + 1)") }
    }
}

/// A context field ready to read.
struct CompiledField: Sendable {
    let field: FlagContext.Field
    let name: String
    init?(_ name: String) {
        guard let field = FlagContext.Field(name) else { return nil }
        (self.field, self.name) = (field, name)
    }
}

/// A constraint with its values parsed, kept in plain stored properties (no enum payloads to
/// copy on the evaluation path).
final class CompiledConstraint: Sendable {
    enum Kind: Sendable { case member, memberList, contains, startsWith, number, date, semver }
    enum Slot: Sendable { case userId, sessionId, remoteAddress, plan, tenant, environment, appVersion, currentTime, property }

    let field: CompiledField
    let kind: Kind
    let slot: Slot
    let propertyName: String
    let op: Constraint.Operator
    let negate: Bool
    let set: Set<String>
    let list: [String]
    let bound: Double
    let version: SemanticVersion?
    let inverted: Bool
    let source: Constraint

    init(_ constraint: Constraint, label: String) throws {
        source = constraint
        guard let field = CompiledField(constraint.contextName) else {
            throw ValidationError("\(label): unknown context field '\(constraint.contextName.prefix(100))' (use userId, sessionId, remoteAddress, plan, tenant, environment, appVersion, currentTime or properties.<name>)")
        }
        self.field = field
        switch field.field {
        case .userId: slot = .userId
        case .sessionId: slot = .sessionId
        case .remoteAddress: slot = .remoteAddress
        case .plan: slot = .plan
        case .tenant: slot = .tenant
        case .environment: slot = .environment
        case .appVersion: slot = .appVersion
        case .currentTime: slot = .currentTime
        case .property: slot = .property
        }
        if case .property(let name) = field.field { propertyName = name } else { propertyName = "" }
        inverted = constraint.inverted ?? false
        let op = constraint.operator
        self.op = op
        negate = op == .notIn
        func values() throws -> [String] {
            guard let values = constraint.values, !values.isEmpty else { throw ValidationError("\(label): \(op.rawValue) needs a non-empty 'values' list") }
            guard values.count <= CompiledFlag.maxValues else { throw ValidationError("\(label): at most \(CompiledFlag.maxValues) values, got \(values.count)") }
            return values
        }
        func single() throws -> String {
            guard let value = constraint.value, !value.isEmpty else { throw ValidationError("\(label): \(op.rawValue) needs a 'value'") }
            return value
        }
        let isDate = op == .dateAfter || op == .dateBefore
        if field.field == .currentTime && !isDate { throw ValidationError("\(label): currentTime takes DATE_AFTER or DATE_BEFORE only") }
        if isDate && field.field != .currentTime { throw ValidationError("\(label): \(op.rawValue) applies to currentTime only") }
        var (set, list, bound, version): (Set<String>, [String], Double, SemanticVersion?) = ([], [], 0, nil)
        switch op {
        case .in, .notIn:
            let values = try values()
            // A short list is compared one by one (cheaper than hashing the context's value).
            if values.count <= 16 { (kind, list) = (.memberList, Array(Set(values))) } else { (kind, set) = (.member, Set(values)) }
        case .strContains: (kind, list) = (.contains, try values())
        case .strStartsWith: (kind, list) = (.startsWith, try values())
        case .numEq, .numGt, .numGte, .numLt, .numLte:
            let text = try single()
            guard let number = Double(text), number.isFinite else { throw ValidationError("\(label): \(op.rawValue) needs a number, got '\(text.prefix(40))'") }
            (kind, bound) = (.number, number)
        case .dateAfter, .dateBefore:
            let text = try single()
            guard let date = ISO8601.parse(text) else { throw ValidationError("\(label): \(op.rawValue) needs an ISO 8601 date such as 2026-12-24T00:00:00Z, got '\(text.prefix(40))'") }
            (kind, bound) = (.date, date)
        case .semverEq, .semverGt, .semverLt:
            let text = try single()
            guard let parsed = SemanticVersion(text) else { throw ValidationError("\(label): \(op.rawValue) needs a semantic version such as 2.1.0, got '\(text.prefix(40))'") }
            (kind, version) = (.semver, parsed)
        }
        (self.set, self.list, self.bound, self.version) = (set, list, bound, version)
    }

    /// The context's text of this constraint's field (the scope's tenant and plan when given).
    @inline(__always)
    func read(_ context: FlagContext, _ scope: Scope?) -> String? {
        switch slot {
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

    /// Whether `list` holds `value`: a plain loop (the generic `contains` is not specialised across modules).
    @inline(__always)
    static func listed(_ value: String, _ list: [String]) -> Bool {
        for item in list where item == value { return true }
        return false
    }

    /// Whether the constraint holds for `context` at `now` (`scope` given: its tenant and plan replace the context's).
    @inline(__always)
    func holds(_ context: FlagContext, now: Double, _ scope: Scope? = nil) -> Bool {
        let result: Bool
        switch kind {
        case .date:
            let time = context.currentTime ?? now
            result = op == .dateAfter ? time > bound : time < bound
        case .member:
            if let value = read(context, scope) { result = set.contains(value) != negate } else { result = negate }
        case .memberList:
            if let value = read(context, scope) { result = Self.listed(value, list) != negate } else { result = negate }
        case .contains:
            if let value = read(context, scope) { result = list.contains { value.contains($0) } } else { result = false }
        case .startsWith:
            if let value = read(context, scope) { result = list.contains { value.hasPrefix($0) } } else { result = false }
        case .number:
            guard let number = read(context, scope).flatMap(Double.init) else { result = false; break }
            switch op {
            case .numEq: result = number == bound
            case .numGt: result = number > bound
            case .numGte: result = number >= bound
            case .numLt: result = number < bound
            default: result = number <= bound
            }
        case .semver:
            guard let bound = version, let value = read(context, scope).flatMap(SemanticVersion.init) else { result = false; break }
            switch op {
            case .semverEq: result = value == bound
            case .semverGt: result = value > bound
            default: result = value < bound
            }
        }
        return result != inverted
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
