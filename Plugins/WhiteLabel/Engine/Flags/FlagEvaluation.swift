/// What a flag says for one context.
public struct FlagResult: Sendable, Equatable, Codable {
    public let enabled: Bool
    /// The chosen variant (nil when the flag is off or has none).
    public let variant: String?
    public let payload: JSON?

    public init(enabled: Bool, variant: String?, payload: JSON?) { (self.enabled, self.variant, self.payload) = (enabled, variant, payload) }

    /// Off, no variant.
    public static let off = FlagResult(enabled: false, variant: nil, payload: nil)
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
        return run(context, now: now, steps: &steps).0
    }

    /// The answer with the rule that decided it and every step.
    public func explain(_ context: FlagContext, now: Double) -> FlagExplanation {
        var steps: [String]? = []
        let (result, decidedBy) = run(context, now: now, steps: &steps)
        return FlagExplanation(flag: definition.name, result: result, decidedBy: decidedBy, steps: steps ?? [])
    }

    @inline(__always)
    private func run(_ context: FlagContext, now: Double, steps: inout [String]?) -> (FlagResult, String) {
        guard definition.enabled else {
            steps?.append("the flag is disabled")
            return (FlagResult(enabled: false, variant: nil, payload: nil), "disabled")
        }
        if strategies.isEmpty {
            steps?.append("the flag is enabled and has no strategies: on for everyone")
            return (on(context, steps: &steps), "no strategies")
        }
        for (index, strategy) in strategies.enumerated() {
            let label = "strategy \(index + 1) (\(strategy.name))"
            if matches(strategy, context, now: now, label: label, steps: &steps) {
                return (on(context, steps: &steps), label)
            }
        }
        steps?.append("no strategy matched: off")
        return (FlagResult(enabled: false, variant: nil, payload: nil), "no strategy matched")
    }

    @inline(__always)
    private func matches(_ strategy: CompiledStrategy, _ context: FlagContext, now: Double, label: @autoclosure () -> String, steps: inout [String]?) -> Bool {
        for constraint in strategy.constraints where !constraint.holds(context, now: now) {
            if steps != nil {
                let source = constraint.source
                let shown = constraint.field.field == .currentTime ? "\(context.currentTime ?? now)" : context.value(constraint.field.field).map { "'\($0)'" } ?? "absent"
                steps?.append("\(label()): constraint \(source.contextName) \(source.inverted == true ? "NOT " : "")\(source.operator.rawValue) \(source.values.map { "\($0)" } ?? source.value ?? "") fails (the context's value is \(shown))")
            }
            return false
        }
        switch strategy.kind {
        case .always:
            steps?.append("\(label()): every constraint holds: on")
            return true
        case let .rollout(percentage, stickiness, group):
            guard let value = context.value(stickiness.field), !value.isEmpty else {
                steps?.append("\(label()): the context has no \(stickiness.name) to roll out by")
                return false
            }
            let bucket = Murmur3.bucket(group: group, value)
            let inside = percentage > 0 && Double(bucket) <= percentage
            steps?.append("\(label()): \(stickiness.name) '\(value)' falls in bucket \(bucket) of 100; rollout \(percentage)%: \(inside ? "inside: on" : "outside")")
            return inside
        }
    }

    @inline(__always)
    private func on(_ context: FlagContext, steps: inout [String]?) -> FlagResult {
        guard totalWeight > 0 else { return FlagResult(enabled: true, variant: nil, payload: nil) }
        let stickiness = context.userId ?? context.sessionId ?? context.remoteAddress ?? ""
        var point = Murmur3.hash(prefix: nameBytes, stickiness, seed: 86_028_157) % totalWeight
        for variant in variants {
            if point < UInt32(variant.weight) {
                steps?.append("variant '\(variant.name)' chosen by weight (\(variant.weight) of \(totalWeight))")
                return FlagResult(enabled: true, variant: variant.name, payload: variant.payload)
            }
            point -= UInt32(variant.weight)
        }
        return FlagResult(enabled: true, variant: nil, payload: nil)
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

    public mutating func put(_ flag: CompiledFlag) { flags[flag.definition.name] = flag }
    @discardableResult public mutating func remove(_ name: String) -> CompiledFlag? { flags.removeValue(forKey: name) }
    public var definitions: [FlagDefinition] { flags.values.map(\.definition).sorted { $0.name < $1.name } }

    /// Every flag's answer for `context`.
    public func evaluateAll(_ context: FlagContext, now: Double) -> [String: FlagResult] {
        flags.mapValues { $0.evaluate(context, now: now) }
    }
}
