/// What a flag says for one context.
///
/// The chosen variant is one object the compiled flag made once, shared by every answer that
/// chose it: an answer costs no copy of the variant's name and payload, and dropping one releases
/// at most that reference.
public struct FlagResult: Sendable, Equatable, Codable {
    public let enabled: Bool
    let chosen: ChosenVariant?

    /// The chosen variant (nil when the flag is off or has none).
    public var variant: String? { chosen?.name }
    public var payload: JSON? { chosen?.payload }

    public init(enabled: Bool, variant: String?, payload: JSON?) {
        self.init(enabled: enabled, variant == nil && payload == nil ? nil : ChosenVariant(name: variant, payload: payload))
    }

    init(enabled: Bool, _ chosen: ChosenVariant?) { (self.enabled, self.chosen) = (enabled, chosen) }

    /// Off, no variant.
    public static let off = FlagResult(enabled: false, nil)
    /// On, no variant.
    public static let on = FlagResult(enabled: true, nil)

    public static func == (a: FlagResult, b: FlagResult) -> Bool {
        a.enabled == b.enabled && a.variant == b.variant && a.payload == b.payload
    }

    enum CodingKeys: String, CodingKey { case enabled, variant, payload }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(enabled: container.decode(Bool.self, forKey: .enabled), variant: container.decodeIfPresent(String.self, forKey: .variant),
                      payload: container.decodeIfPresent(JSON.self, forKey: .payload))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(enabled, forKey: .enabled)
        try container.encodeIfPresent(variant, forKey: .variant)
        try container.encodeIfPresent(payload, forKey: .payload)
    }
}

/// A variant as an answer carries it.
final class ChosenVariant: Sendable {
    let name: String?
    let payload: JSON?
    init(name: String?, payload: JSON?) { (self.name, self.payload) = (name, payload) }
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
        decide(context, now: now, nil)
    }

    /// The answer within `scope` (its tenant and plan replace the context's).
    @inline(__always)
    public func evaluate(_ context: FlagContext, now: Double, scope: Scope) -> FlagResult {
        decide(context, now: now, scope)
    }

    /// The answer with the rule that decided it and every step.
    public func explain(_ context: FlagContext, now: Double) -> FlagExplanation {
        var steps: [String] = []
        let (result, decider) = run(context, now: now, nil, steps: &steps)
        let decidedBy = switch decider {
        case -1: "disabled"
        case -2: "no strategies"
        case -3: "no strategy matched"
        default: label(decider)
        }
        return FlagExplanation(flag: definition.name, result: result, decidedBy: decidedBy, steps: steps)
    }

    private func label(_ index: Int) -> String { "strategy \(index + 1) (\(strategies[index].name))" }

    /// The answer and what decided it: a strategy's index, -1 disabled, -2 no strategies, -3 none
    /// matched, with every step in words (explain). ``evaluate(_:now:)`` decides the same way with
    /// no words (a test holds the two to the same answers).
    private func run(_ context: FlagContext, now: Double, _ scope: Scope?, steps: inout [String]) -> (FlagResult, Int) {
        guard enabled else {
            steps.append("the flag is disabled")
            return (FlagResult.off, -1)
        }
        if strategies.isEmpty {
            steps.append("the flag is enabled and has no strategies: on for everyone")
            return (on(context, steps: &steps), -2)
        }
        for index in strategies.indices where matches(index, context, now: now, scope, steps: &steps) {
            return (on(context, steps: &steps), index)
        }
        steps.append("no strategy matched: off")
        return (FlagResult.off, -3)
    }

    private func matches(_ index: Int, _ context: FlagContext, now: Double, _ scope: Scope?, steps: inout [String]) -> Bool {
        let strategy = strategies[index]
        for constraint in strategy.constraints where !constraint.holds(context, now: now, scope) {
            let source = constraint.source
            let shown = constraint.field.tag == .currentTime ? "\(context.currentTime ?? now)" : constraint.field.read(context, nil).map { "'\($0)'" } ?? "absent"
            steps.append("\(label(index)): constraint \(source.contextName) \(source.inverted == true ? "NOT " : "")\(source.operator.rawValue) \(source.values.map { "\($0)" } ?? source.value ?? "") fails (the context's value is \(shown))")
            return false
        }
        guard strategy.isRollout else {
            steps.append("\(label(index)): every constraint holds: on")
            return true
        }
        guard let bucket = strategy.bucket(context, scope), let value = strategy.stickiness.read(context, scope) else {
            steps.append("\(label(index)): the context has no \(strategy.stickinessName) to roll out by")
            return false
        }
        let inside = strategy.takes(bucket)
        steps.append("\(label(index)): \(strategy.stickinessName) '\(value)' falls in bucket \(bucket) of 100; rollout \(strategy.percentage)%: \(inside ? "inside: on" : "outside")")
        return inside
    }

    private func on(_ context: FlagContext, steps: inout [String]) -> FlagResult {
        let result = on(context)
        if let variant = result.variant, let weight = variants.first(where: { $0.name == variant })?.weight {
            steps.append("variant '\(variant)' chosen by weight (\(weight) of \(totalWeight))")
        }
        return result
    }

    /// The answer with no words: the evaluation path.
    @inline(__always)
    func decide(_ context: FlagContext, now: Double, _ scope: Scope?) -> FlagResult {
        guard enabled else { return FlagResult(enabled: false, nil) }
        let count = strategies.count
        if count == 0 { return on(context) }
        var index = 0
        while index < count {
            if strategies[index].matches(context, now: now, scope) { return on(context) }
            index += 1
        }
        return FlagResult(enabled: false, nil)
    }

    /// The flag's answer once a strategy matched: on, with a variant chosen by weight if it has any.
    @inline(__always)
    private func on(_ context: FlagContext) -> FlagResult {
        guard totalWeight > 0 else { return FlagResult(enabled: true, nil) }
        let stickiness = context.userId ?? context.sessionId ?? context.remoteAddress ?? ""
        var point = variantPrefix.hash(stickiness) % totalWeight
        for (index, variant) in variants.enumerated() {
            if point < UInt32(variant.weight) { return FlagResult(enabled: true, chosen[index]) }
            point -= UInt32(variant.weight)
        }
        return FlagResult.on
    }
}

extension CompiledStrategy {
    /// Whether every constraint holds and, for a rollout, the context's bucket is inside.
    @inline(__always)
    func matches(_ context: FlagContext, now: Double, _ scope: Scope?) -> Bool {
        let count = constraints.count
        var index = 0
        while index < count {
            if !constraints[index].holds(context, now: now, scope) { return false }
            index += 1
        }
        guard isRollout else { return true }
        guard let bucket = bucket(context, scope) else { return false }
        return takes(bucket)
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
/// and evaluates locally. Not `Sendable`: its handles read their flags unretained (see ``FlagHandle``).
public struct FlagTable {
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

/// One flag of one tenant, kept current by its ``FlagTable``. Use it on the loop that owns the table:
/// an evaluation reads the flag without retaining it, so the handle is deliberately not `Sendable`
/// (the compiler keeps it out of off-loop closures, where a concurrent update could free the flag).
public final class FlagHandle {
    public let name: String
    public let tenant: String
    /// The flag and its tenant's scope, replaced whole on each change.
    private var binding: Binding?
    /// `binding`, read without retaining it: `binding` keeps it alive, and only ``update(_:_:)``
    /// (never an evaluation) replaces it.
    private var borrowed: Unmanaged<Binding>?

    /// A compiled flag with the scope it is evaluated in.
    final class Binding {
        let flag: CompiledFlag
        let scope: Scope
        init(_ flag: CompiledFlag, _ scope: Scope) { (self.flag, self.scope) = (flag, scope) }
    }

    init(name: String, tenant: String) { (self.name, self.tenant) = (name, tenant) }

    func update(_ flag: CompiledFlag?, _ scope: Scope) {
        binding = flag.map { Binding($0, scope) }
        borrowed = binding.map(Unmanaged.passUnretained)
    }

    /// The flag's answer (off while the flag is unknown).
    @inline(__always)
    public func evaluate(_ context: FlagContext, now: Double) -> FlagResult {
        guard let borrowed else { return FlagResult(enabled: false, nil) }
        return borrowed._withUnsafeGuaranteedRef { $0.flag.decide(context, now: now, $0.scope) }
    }
}
