/// What a flag says for one context.
public struct FlagResult: Sendable, Equatable, Codable {
    public let enabled: Bool
    /// The chosen variant (nil when the flag is off or has none).
    public let variant: String?
    public let payload: JSON?

    public init(enabled: Bool, variant: String?, payload: JSON?) { (self.enabled, self.variant, self.payload) = (enabled, variant, payload) }

    /// Off, no variant.
    public static let off = FlagResult(enabled: false, variant: nil, payload: nil)
    /// On, no variant.
    public static let on = FlagResult(enabled: true, variant: nil, payload: nil)
}

/// Which rule decided, and why: the steps of one evaluation in words.
public struct FlagExplanation: Sendable, Equatable, Codable {
    public let flag: String
    public let result: FlagResult
    /// The rule that decided: "disabled", "no strategies", "strategy N (name)", "no strategy matched".
    public let decidedBy: String
    public let steps: [String]
}

extension CompiledFlag {
    /// The flag's answer for `context` at `now` (unix seconds).
    @inline(__always)
    public func evaluate(_ context: FlagContext, now: Double) -> FlagResult {
        var steps: [String]? = nil
        return run(context, now: now, nil, steps: &steps).0
    }

    /// The answer within `scope` (its tenant and plan replace the context's).
    @inline(__always)
    public func evaluate(_ context: FlagContext, now: Double, scope: Scope) -> FlagResult {
        var steps: [String]? = nil
        return run(context, now: now, scope, steps: &steps).0
    }

    /// The answer with the rule that decided it and every step.
    public func explain(_ context: FlagContext, now: Double) -> FlagExplanation {
        var steps: [String]? = []
        let (result, decider) = run(context, now: now, nil, steps: &steps)
        let decidedBy = switch decider {
        case -1: "disabled"
        case -2: "no strategies"
        case -3: "no strategy matched"
        default: label(decider)
        }
        return FlagExplanation(flag: definition.name, result: result, decidedBy: decidedBy, steps: steps ?? [])
    }

    private func label(_ index: Int) -> String { "strategy \(index + 1) (\(strategies[index].name))" }

    /// The answer and what decided it: a strategy's index, -1 disabled, -2 no strategies, -3 none matched.
    /// Words are built only when `steps` is non-nil (explain), never on the evaluation path.
    @inline(__always)
    private func run(_ context: FlagContext, now: Double, _ scope: Scope?, steps: inout [String]?) -> (FlagResult, Int) {
        guard definition.enabled else {
            steps?.append("the flag is disabled")
            return (FlagResult.off, -1)
        }
        if strategies.isEmpty {
            steps?.append("the flag is enabled and has no strategies: on for everyone")
            return (on(context, steps: &steps), -2)
        }
        for index in strategies.indices where matches(index, context, now: now, scope, steps: &steps) {
            return (on(context, steps: &steps), index)
        }
        steps?.append("no strategy matched: off")
        return (FlagResult.off, -3)
    }

    @inline(__always)
    private func matches(_ index: Int, _ context: FlagContext, now: Double, _ scope: Scope?, steps: inout [String]?) -> Bool {
        let strategy = strategies[index]
        for constraint in strategy.constraints where !constraint.holds(context, now: now, scope) {
            if steps != nil {
                let source = constraint.source
                let shown = constraint.field.field == .currentTime ? "\(context.currentTime ?? now)" : context.value(constraint.field.field).map { "'\($0)'" } ?? "absent"
                steps?.append("\(label(index)): constraint \(source.contextName) \(source.inverted == true ? "NOT " : "")\(source.operator.rawValue) \(source.values.map { "\($0)" } ?? source.value ?? "") fails (the context's value is \(shown))")
            }
            return false
        }
        guard strategy.isRollout else {
            if steps != nil { steps?.append("\(label(index)): every constraint holds: on") }
            return true
        }
        let (percentage, stickiness) = (strategy.percentage, strategy.stickiness)
        guard let value = context.value(stickiness.field, scope), !value.isEmpty else {
            if steps != nil { steps?.append("\(label(index)): the context has no \(stickiness.name) to roll out by") }
            return false
        }
        let bucket = Murmur3.bucket(group: strategy.group, value)
        let inside = percentage > 0 && Double(bucket) <= percentage
        if steps != nil {
            steps?.append("\(label(index)): \(stickiness.name) '\(value)' falls in bucket \(bucket) of 100; rollout \(percentage)%: \(inside ? "inside: on" : "outside")")
        }
        return inside
    }

    @inline(__always)
    private func on(_ context: FlagContext, steps: inout [String]?) -> FlagResult {
        guard totalWeight > 0 else { return FlagResult.on }
        let stickiness = context.userId ?? context.sessionId ?? context.remoteAddress ?? ""
        var point = Murmur3.hash(prefix: nameBytes, stickiness, seed: 86_028_157) % totalWeight
        for variant in variants {
            if point < UInt32(variant.weight) {
                if steps != nil { steps?.append("variant '\(variant.name)' chosen by weight (\(variant.weight) of \(totalWeight))") }
                return FlagResult(enabled: true, variant: variant.name, payload: variant.payload)
            }
            point -= UInt32(variant.weight)
        }
        return FlagResult.on
    }
}

/// The flags of one tenant, compiled, by name.
public struct FlagSet: Sendable {
    public private(set) var flags: [String: CompiledFlag] = [:]

    /// No flags.
    public static let empty = FlagSet()

    private init() {}

    public init(_ definitions: [FlagDefinition]) throws {
        for definition in definitions { flags[definition.name] = try CompiledFlag(definition) }
    }

    /// The flags by name, in name order (kept on every change, so answers need no sort).
    public private(set) var ordered: [(name: String, flag: CompiledFlag)] = []

    public mutating func put(_ flag: CompiledFlag) {
        flags[flag.definition.name] = flag
        ordered = flags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    @discardableResult public mutating func remove(_ name: String) -> CompiledFlag? {
        defer { ordered = flags.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
        return flags.removeValue(forKey: name)
    }
    public var definitions: [FlagDefinition] { flags.values.map(\.definition).sorted { $0.name < $1.name } }

    /// Every flag's answer for `context`.
    public func evaluateAll(_ context: FlagContext, now: Double) -> [String: FlagResult] {
        flags.mapValues { $0.evaluate(context, now: now) }
    }
}

/// Every tenant's flags with its plan: what the flag helper (`WhiteLabelClient.FlagCache`) keeps
/// and evaluates locally.
public struct FlagTable: Sendable {
    private var tenants: [String: (scope: Scope, set: FlagSet)] = [:]
    private var handles: [FlagHandle] = []

    public init() {}

    /// A handle on one flag of one tenant for a hot path: evaluating through it looks nothing
    /// up, and ``replace(tenant:plan:definitions:)`` keeps it current.
    public mutating func handle(_ name: String, tenant: String) -> FlagHandle {
        if let existing = handles.first(where: { $0.name == name && $0.tenant == tenant }) { return existing }
        let handle = FlagHandle(name: name, tenant: tenant)
        if let entry = tenants[tenant] { handle.update(entry.set.flags[name], entry.scope) }
        handles.append(handle)
        return handle
    }

    /// Replaces a tenant's flags (definitions that do not compile are skipped).
    public mutating func replace(tenant: String, plan: String?, definitions: [FlagDefinition]) {
        var set = FlagSet.empty
        for definition in definitions { if let flag = try? CompiledFlag(definition) { set.put(flag) } }
        let scope = Scope(tenant: tenant, plan: plan)
        tenants[tenant] = (scope, set)
        for handle in handles where handle.tenant == tenant { handle.update(set.flags[handle.name], scope) }
    }

    /// The flag's answer for `context` within `tenant` (off when either is unknown); the tenant
    /// and its plan are filled in from the table.
    @inline(__always)
    public func evaluate(_ name: String, tenant: String, context: FlagContext, now: Double) -> FlagResult {
        guard let entry = tenants[tenant], let flag = entry.set.flags[name] else { return FlagResult.off }
        return flag.evaluate(context, now: now, scope: entry.scope)
    }
}

/// One flag of one tenant, kept current by its ``FlagTable``. Use it on the loop that owns the table.
public final class FlagHandle: @unchecked Sendable {
    public let name: String
    public let tenant: String
    private var flag: CompiledFlag?
    private var scope: Scope

    init(name: String, tenant: String) {
        (self.name, self.tenant, scope) = (name, tenant, Scope(tenant: tenant, plan: nil))
    }

    func update(_ flag: CompiledFlag?, _ scope: Scope) { (self.flag, self.scope) = (flag, scope) }

    /// The flag's answer (off while the flag is unknown).
    @inline(__always)
    public func evaluate(_ context: FlagContext, now: Double) -> FlagResult {
        guard let flag else { return FlagResult.off }
        return flag.evaluate(context, now: now, scope: scope)
    }
}
