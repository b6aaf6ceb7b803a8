/// Subscriptions indexed by topic pattern, so that matching a topic visits only the trie
/// nodes on paths that can match it instead of scanning every subscription.
///
/// The trie is keyed by segment; `+` and `#` are children like any other. Matching walks the
/// literal child and the `+` child at each level and collects values stored under `#`, so the
/// cost depends on the topic's depth and the wildcards on its paths, not on the number of
/// unrelated subscriptions.
public struct TopicTrie<Value> {
    fileprivate struct Node {
        /// Children by literal segment, plus "+" for the single-segment wildcard.
        var children: [String: Node] = [:]
        /// Values of patterns that end exactly at this node.
        var values: [Value] = []
        /// Values of patterns that end with `#` below this node.
        var restValues: [Value] = []

        var isEmpty: Bool { children.isEmpty && values.isEmpty && restValues.isEmpty }
    }

    private var root = Node()
    /// The number of values stored.
    public private(set) var count = 0

    /// Creates an empty trie.
    public init() {}

    /// Adds `value` under `pattern`. The same pattern may hold several values.
    public mutating func insert(_ pattern: TopicPattern, _ value: Value) {
        Self.insert(pattern.segments[...], value, into: &root)
        count += 1
    }

    /// Removes the values under exactly `pattern` for which `predicate` is true, returning how
    /// many were removed; emptied nodes are pruned.
    @discardableResult
    public mutating func removeAll(_ pattern: TopicPattern, where predicate: (Value) -> Bool) -> Int {
        let removed = Self.remove(pattern.segments[...], from: &root, where: predicate)
        count -= removed
        return removed
    }

    /// All values whose pattern matches `topic` (assumed valid; see ``Topic/validate(_:)``).
    public func matches(_ topic: String) -> [Value] {
        matchesCountingVisits(topic).values
    }

    /// Like ``matches(_:)``, also returning how many trie nodes were visited: a measure of the
    /// matching cost that tests can assert on.
    public func matchesCountingVisits(_ topic: String) -> (values: [Value], visitedNodes: Int) {
        let parts = topic.split(separator: ".", omittingEmptySubsequences: false)
        var result: [Value] = []
        var visited = 0
        Self.collect(parts[...], node: root, into: &result, visited: &visited)
        return (result, visited)
    }

    private static func insert(_ segments: ArraySlice<TopicPattern.Segment>, _ value: Value, into node: inout Node) {
        guard let first = segments.first else {
            node.values.append(value)
            return
        }
        switch first {
        case .rest:
            node.restValues.append(value)
        case .single:
            insert(segments.dropFirst(), value, into: &node.children["+", default: Node()])
        case .literal(let text):
            insert(segments.dropFirst(), value, into: &node.children[text, default: Node()])
        }
    }

    private static func remove(_ segments: ArraySlice<TopicPattern.Segment>, from node: inout Node, where predicate: (Value) -> Bool) -> Int {
        guard let first = segments.first else {
            let before = node.values.count
            node.values.removeAll(where: predicate)
            return before - node.values.count
        }
        let key: String
        switch first {
        case .rest:
            let before = node.restValues.count
            node.restValues.removeAll(where: predicate)
            return before - node.restValues.count
        case .single: key = "+"
        case .literal(let text): key = text
        }
        guard var child = node.children[key] else { return 0 }
        let removed = remove(segments.dropFirst(), from: &child, where: predicate)
        node.children[key] = child.isEmpty ? nil : child
        return removed
    }

    private static func collect(_ parts: ArraySlice<Substring>, node: Node, into result: inout [Value], visited: inout Int) {
        visited += 1
        // `#` matches the rest, including zero remaining segments.
        result.append(contentsOf: node.restValues)
        guard let first = parts.first else {
            result.append(contentsOf: node.values)
            return
        }
        let rest = parts.dropFirst()
        if let child = node.children[String(first)] {
            collect(rest, node: child, into: &result, visited: &visited)
        }
        if let wildcard = node.children["+"] {
            collect(rest, node: wildcard, into: &result, visited: &visited)
        }
    }
}

extension TopicTrie: Sendable where Value: Sendable {}
extension TopicTrie.Node: Sendable where Value: Sendable {}
