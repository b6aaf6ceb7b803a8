/// A declarative routing rule: events on `match` passing `when` are de-duplicated, rate-limited,
/// transformed, batched and republished on `topic` (a template: `alerts.{{$.region}}`).
public struct RoutingRule: Sendable, Equatable {
    /// Unique name, also the metrics label.
    public var name: String
    /// The input topic pattern (`orders.+`, `sensor.#`).
    public var match: String
    /// A payload condition.
    public var when: Condition?
    /// Keep only these top-level fields.
    public var pick: [String]?
    /// Rename top-level fields (old to new).
    public var rename: [String: String]
    /// Set fields (top-level names to mappings over the payload).
    public var set: [String: Mapping]
    /// The output topic template.
    public var topic: String
    /// Publish durably.
    public var durable: Bool
    /// At most `perSecond` events per key (`burst` at once); others are dropped.
    public var rateLimit: (key: JSONPath?, perSecond: Double, burst: Double)?
    /// Collect `count` events, or what arrived within `windowMilliseconds`, per key, into one batch event.
    public var aggregate: (key: JSONPath?, count: Int, windowMilliseconds: Int)?
    /// Drop an event whose key was seen within `windowMilliseconds`.
    public var dedupe: (key: JSONPath, windowMilliseconds: Int)?

    public static func == (lhs: RoutingRule, rhs: RoutingRule) -> Bool {
        lhs.name == rhs.name && lhs.match == rhs.match && lhs.when == rhs.when && lhs.pick == rhs.pick && lhs.rename == rhs.rename
            && lhs.set == rhs.set && lhs.topic == rhs.topic && lhs.durable == rhs.durable
            && lhs.rateLimit?.key == rhs.rateLimit?.key && lhs.rateLimit?.perSecond == rhs.rateLimit?.perSecond
            && lhs.aggregate?.count == rhs.aggregate?.count && lhs.aggregate?.windowMilliseconds == rhs.aggregate?.windowMilliseconds
            && lhs.dedupe?.key == rhs.dedupe?.key && lhs.dedupe?.windowMilliseconds == rhs.dedupe?.windowMilliseconds
    }

    static let fields = ["name", "match", "when", "pick", "rename", "set", "topic", "durable", "rate_limit", "aggregate", "dedupe", "description"]

    /// Parses a rule from JSON; `publishable` are the topic patterns the plugin may publish on
    /// (empty: any). A rule whose output could match its own input is refused (it would loop).
    public static func parse(_ json: JSON, at: String = "$", publishable: [String] = []) throws -> RoutingRule {
        guard let object = json.object else { throw DefinitionError(at, "a rule is an object, not \(json.typeName)") }
        for key in object.keys.sorted() where !fields.contains(key) {
            throw DefinitionError("\(at).\(key)", "unknown field '\(key)'; a rule has \(fields.joined(separator: ", "))")
        }
        func text(_ key: String) throws -> String {
            guard let value = object[key]?.string, !value.isEmpty, value.utf8.count <= 256 else {
                throw DefinitionError("\(at).\(key)", "a rule needs '\(key)' (1 to 256 bytes of text)")
            }
            return value
        }
        func path(_ value: JSON?, _ where_: String) throws -> JSONPath? {
            guard let value else { return nil }
            guard let text = value.string, let path = JSONPath(text) else { throw DefinitionError(where_, "expected a path like $.field") }
            return path
        }
        let name = try text("name")
        guard DefinitionParser.isName(name) else { throw DefinitionError("\(at).name", "'\(name.prefix(64))' is not a name: a-z, 0-9 and -, starting with a letter") }
        let match = try text("match")
        let topic = try text("topic")
        for (key, value) in [("match", match), ("topic", topic.replacingPlaceholders())] {
            let segments = value.split(separator: ".", omittingEmptySubsequences: false)
            guard segments.count <= 16, segments.allSatisfy({ !$0.isEmpty && !$0.contains(where: { $0.isWhitespace }) }) else {
                throw DefinitionError("\(at).\(key)", "'\(value)' is not a topic: dot-separated non-empty segments without spaces")
            }
        }
        let output = topic.replacingPlaceholders()
        if TopicPattern.overlap(match, output) {
            throw DefinitionError("\(at).topic", "rule '\(name)' would loop: its output topic '\(topic)' matches its own input pattern '\(match)'")
        }
        if !publishable.isEmpty, !publishable.contains(where: { TopicPattern.matches($0, output) }) {
            throw DefinitionError("\(at).topic", "topic '\(topic)' is not one this plugin may publish; allowed: \(publishable.joined(separator: ", "))")
        }
        var rule = RoutingRule(name: name, match: match, when: try object["when"].map { try Condition.parse($0, at: "\(at).when") },
                               pick: nil, rename: [:], set: [:], topic: topic, durable: object["durable"]?.bool ?? false)
        if let pick = object["pick"] {
            guard let items = pick.array, items.allSatisfy({ $0.string != nil }) else { throw DefinitionError("\(at).pick", "'pick' lists field names") }
            rule.pick = items.compactMap(\.string)
        }
        if let rename = object["rename"] {
            guard let table = rename.object, table.values.allSatisfy({ $0.string != nil }) else { throw DefinitionError("\(at).rename", "'rename' maps old field names to new ones") }
            rule.rename = table.mapValues { $0.string! }
        }
        if let set = object["set"] {
            guard let table = set.object else { throw DefinitionError("\(at).set", "'set' maps field names to values or paths") }
            rule.set = table.mapValues(Mapping.init)
        }
        if let limit = object["rate_limit"] {
            let where_ = "\(at).rate_limit"
            guard let perSecond = limit["per_second"]?.number, perSecond > 0, perSecond <= 1_000_000 else {
                throw DefinitionError("\(where_).per_second", "'per_second' is a number above 0, at most 1000000")
            }
            let burst = try limit["burst"].map { try DefinitionParser.bounded($0, "\(where_).burst", 1...1_000_000) } ?? max(1, Int(perSecond))
            rule.rateLimit = (try path(limit["key"], "\(where_).key"), perSecond, Double(burst))
        }
        if let aggregate = object["aggregate"] {
            let where_ = "\(at).aggregate"
            let count = try aggregate["count"].map { try DefinitionParser.bounded($0, "\(where_).count", 1...100_000) } ?? 100_000
            let window = try aggregate["window_ms"].map { try DefinitionParser.bounded($0, "\(where_).window_ms", 1...3_600_000) } ?? 0
            guard aggregate["count"] != nil || aggregate["window_ms"] != nil else {
                throw DefinitionError(where_, "'aggregate' needs 'count' (events per batch) or 'window_ms' (or both)")
            }
            rule.aggregate = (try path(aggregate["key"], "\(where_).key"), count, window)
        }
        if let dedupe = object["dedupe"] {
            let where_ = "\(at).dedupe"
            guard let key = try path(dedupe["key"], "\(where_).key") else { throw DefinitionError("\(where_).key", "'dedupe' needs a 'key' path") }
            rule.dedupe = (key, try dedupe["window_ms"].map { try DefinitionParser.bounded($0, "\(where_).window_ms", 1...86_400_000) } ?? 60_000)
        }
        return rule
    }
}
