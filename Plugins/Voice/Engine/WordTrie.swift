/// A slot's values as a word trie: values that start with the same words share those words' transitions, so no
/// grammar state has two transitions with the same word into the same slot (PocketSphinx builds, for every state,
/// a tree of the words leaving it, and each repeat of a word there walks all the earlier ones: see
/// ``IntentGrammar/maxRepeatedWordWork``).
public struct WordTrie: Sendable, Equatable {
    /// One word leaving a node: it may end a value (`ends`) and may continue into the node `next`.
    public struct Arc: Sendable, Equatable {
        public var word: String
        public var ends: Bool
        public var next: Int?
    }

    /// Node 0 is the root; each node's arcs in the order their words first occur in the values.
    public private(set) var nodes: [[Arc]] = [[]]

    /// Builds the trie of `phrases` (each a non-empty list of words); linear in the number of words.
    public init(_ phrases: [[String]]) {
        var index: [[String: Int]] = [[:]]
        for phrase in phrases {
            var node = 0
            for (position, word) in phrase.enumerated() {
                let arc: Int
                if let existing = index[node][word] {
                    arc = existing
                } else {
                    arc = nodes[node].count
                    nodes[node].append(Arc(word: word, ends: false, next: nil))
                    index[node][word] = arc
                }
                if position == phrase.count - 1 {
                    nodes[node][arc].ends = true
                } else {
                    if nodes[node][arc].next == nil {
                        nodes.append([])
                        index.append([:])
                        nodes[node][arc].next = nodes.count - 1
                    }
                    node = nodes[node][arc].next!
                }
            }
        }
    }

    /// The finite-state grammar transitions one use of the slot adds.
    public var transitionCount: Int {
        nodes.reduce(0) { total, arcs in arcs.reduce(total) { $0 + ($1.ends ? 1 : 0) + ($1.next == nil ? 0 : 1) } }
    }
}
