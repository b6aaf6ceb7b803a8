/// Applies routing rules to events: match, condition, de-duplication, rate limit, transform,
/// aggregation. Not thread-safe: one owner (the plugin's loop). Time is passed in.
public final class Router {
    /// An event to publish.
    public struct Output: Sendable, Equatable {
        /// The rule that produced it.
        public var rule: String
        /// Its topic.
        public var topic: String
        /// Its payload.
        public var payload: JSON
        /// Publish durably.
        public var durable: Bool
        /// The batch it closes (see ``RouterStateChange/batchClosed(rule:batch:)``), nil for a forwarded event.
        public var batch: Int64? = nil
    }

    /// Per-rule counts.
    public struct Counts: Sendable, Equatable {
        /// Events whose topic and condition matched.
        public var matched = 0
        /// Events published by the rule (a batch counts once).
        public var forwarded = 0
        /// Events dropped by de-duplication or the rate limit.
        public var dropped = 0
        /// Events added to a batch.
        public var batched = 0
        /// Zero counts.
        public init() {}
    }

    final class RuleState {
        let rule: RoutingRule
        /// The match pattern, split once.
        let pattern: [Substring]
        var counts = Counts()
        var buckets: [String: (tokens: Double, at: Int64)] = [:]
        var seen: [String: Int64] = [:]
        var batches: [String: Batch] = [:]
        init(_ rule: RoutingRule) {
            self.rule = rule
            pattern = rule.match.split(separator: ".", omittingEmptySubsequences: false)
        }
    }

    struct Batch {
        var items: [JSON]
        var opened: Int64
        var id: Int64
    }

    var states: [RuleState]
    /// Records every state change in ``journal`` (for an owner that stores them); off by default.
    public var journaling = false
    var journal: [RouterStateChange] = []
    /// The id of the next batch opened.
    var nextBatch: Int64 = 1
    /// Keys remembered per rule for de-duplication and rate limits before the oldest are dropped.
    public let keyLimit: Int

    /// A router over `rules`.
    public init(rules: [RoutingRule], keyLimit: Int = 100_000) {
        states = rules.map(RuleState.init)
        self.keyLimit = keyLimit
    }

    /// The rules, in order.
    public var rules: [RoutingRule] { states.map(\.rule) }

    /// The counts of rule `name`.
    public func counts(_ name: String) -> Counts? { states.first { $0.rule.name == name }?.counts }

    /// Routes one event; returns what to publish now.
    public func route(topic: String, payload: JSON, now: Int64) -> [Output] {
        var outputs: [Output] = []
        let segments = topic.split(separator: ".", omittingEmptySubsequences: false)
        for state in states where TopicPattern.matches(state.pattern, segments) {
            route(state, payload, now, &outputs)
        }
        return outputs
    }

    private func route(_ state: RuleState, _ payload: JSON, _ now: Int64, _ outputs: inout [Output]) {
        let rule = state.rule
        if let condition = rule.when, !condition.test(payload, state: payload) { return }
        state.counts.matched += 1
        if let dedupe = rule.dedupe {
            let key = dedupe.key.read(payload).map(Self.keyText) ?? "null"
            if let seenAt = state.seen[key], now - seenAt < Int64(dedupe.windowMilliseconds) {
                state.counts.dropped += 1
                return
            }
            if state.seen.count >= keyLimit {
                state.seen = state.seen.filter { now - $0.value < Int64(dedupe.windowMilliseconds) }
                if journaling { journal.append(.forgetSeen(rule: rule.name, before: now - Int64(dedupe.windowMilliseconds))) }
            }
            state.seen[key] = now
            if journaling { journal.append(.seen(rule: rule.name, key: key, at: now)) }
        }
        if let limit = rule.rateLimit {
            let key = limit.key?.read(payload).map(Self.keyText) ?? ""
            var bucket = state.buckets[key] ?? (limit.burst, now)
            bucket.tokens = min(limit.burst, bucket.tokens + Double(max(0, now - bucket.at)) * limit.perSecond / 1000)
            bucket.at = now
            guard bucket.tokens >= 1 else {
                state.buckets[key] = bucket
                if journaling { journal.append(.bucket(rule: rule.name, key: key, tokens: bucket.tokens, at: now)) }
                state.counts.dropped += 1
                return
            }
            bucket.tokens -= 1
            if state.buckets.count >= keyLimit {
                state.buckets.removeAll(keepingCapacity: true)
                if journaling { journal.append(.forgetBuckets(rule: rule.name)) }
            }
            state.buckets[key] = bucket
            if journaling { journal.append(.bucket(rule: rule.name, key: key, tokens: bucket.tokens, at: now)) }
        }
        let transformed = transform(rule, payload)
        if let aggregate = rule.aggregate {
            let key = aggregate.key?.read(payload).map(Self.keyText) ?? ""
            // Appended in place: a copy of the batch per event would make batching quadratic.
            if state.batches[key] == nil {
                state.batches[key] = Batch(items: [], opened: now, id: nextBatch)
                nextBatch += 1
            }
            state.batches[key]!.items.append(transformed)
            state.counts.batched += 1
            if journaling, let batch = state.batches[key] {
                journal.append(.batchItem(rule: rule.name, key: key, batch: batch.id, opened: batch.opened, index: batch.items.count - 1, item: transformed))
            }
            if let batch = state.batches[key], batch.items.count >= aggregate.count {
                state.batches[key] = nil
                emit(state, key: key, batch: batch, sample: payload, &outputs)
            }
            return
        }
        state.counts.forwarded += 1
        outputs.append(Output(rule: rule.name, topic: Mapping.interpolate(rule.topic, payload), payload: transformed, durable: rule.durable))
    }

    /// A key's text: a string as itself, anything else as JSON.
    static func keyText(_ value: JSON) -> String { value.string ?? value.text }

    /// Publishes the batches whose window has passed.
    public func flush(now: Int64) -> [Output] {
        var outputs: [Output] = []
        for state in states {
            guard let aggregate = state.rule.aggregate, aggregate.windowMilliseconds > 0 else { continue }
            for (key, batch) in state.batches where now - batch.opened >= Int64(aggregate.windowMilliseconds) {
                state.batches[key] = nil
                emit(state, key: key, batch: batch, sample: batch.items.first ?? .null, &outputs)
            }
        }
        return outputs
    }

    /// The earliest time a batch window closes, if any batch is open.
    public var nextDeadline: Int64? {
        states.compactMap { state -> Int64? in
            guard let window = state.rule.aggregate?.windowMilliseconds, window > 0 else { return nil }
            return state.batches.values.map { $0.opened + Int64(window) }.min()
        }.min()
    }

    private func emit(_ state: RuleState, key: String, batch: Batch, sample: JSON, _ outputs: inout [Output]) {
        state.counts.forwarded += 1
        let items = batch.items
        let payload: JSON = .object(["rule": .string(state.rule.name), "key": .string(key), "count": .number(Double(items.count)), "items": .array(items)])
        outputs.append(Output(rule: state.rule.name, topic: Mapping.interpolate(state.rule.topic, sample), payload: payload, durable: state.rule.durable,
                              batch: batch.id))
        if journaling { journal.append(.batchClosed(rule: state.rule.name, batch: batch.id)) }
    }

    private func transform(_ rule: RoutingRule, _ payload: JSON) -> JSON {
        guard rule.pick != nil || !rule.rename.isEmpty || !rule.set.isEmpty, var fields = payload.object else { return payload }
        if let pick = rule.pick { fields = fields.filter { pick.contains($0.key) } }
        for (old, new) in rule.rename { if let value = fields.removeValue(forKey: old) { fields[new] = value } }
        for (name, mapping) in rule.set { fields[name] = mapping.resolve(payload) }
        return .object(fields)
    }
}
