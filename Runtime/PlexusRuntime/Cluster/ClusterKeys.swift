import PlexusEventLog

/// The Redis keys and channels of one installation, all under its prefix
/// (``ClusterRedisSettings/prefix``), and the mapping of topic patterns to channel globs.
struct ClusterKeys: Sendable, Equatable {
    let prefix: String

    /// The stream of every durable event.
    var stream: String { prefix + "events" }
    /// Consumer group → its topic pattern.
    var groups: String { prefix + "groups" }
    /// The dead letters of a consumer group (a stream).
    func deadLetters(_ group: String) -> String { prefix + "dead:" + group }
    /// The last nack reason per pending entry of a group (a hash).
    func reasons(_ group: String) -> String { prefix + "reasons:" + group }
    /// Announces that the shared API keys (`<prefix>apikeys`) changed.
    var apiKeysChanged: String { prefix + "apikeys.changed" }
    /// The channel an event on `topic` is published on.
    func channel(_ topic: String) -> String { prefix + "ev." + topic }
    /// The topic of a channel made by ``channel(_:)``.
    func topic(ofChannel channel: String) -> String? {
        let head = prefix + "ev."
        return channel.hasPrefix(head) ? String(channel.dropFirst(head.count)) : nil
    }

    /// The PSUBSCRIBE glob that receives every channel whose topic `pattern` matches.
    ///
    /// Literal segments are escaped (a topic segment may contain `*`, `?`, `[`, `]` or `\`, which
    /// are glob metacharacters); `+` becomes `*` and a trailing `#` (zero or more segments) makes
    /// the glob end in `*` right after the preceding literal, so `a.#` also receives `a`. A glob
    /// `*` crosses dots, so the glob receives a superset; the bus's trie keeps only true matches.
    func glob(for pattern: TopicPattern) -> String {
        var glob = Self.escape(prefix) + "ev."
        for (index, segment) in pattern.segments.enumerated() {
            switch segment {
            case .literal(let text):
                if index > 0 { glob += "." }
                glob += Self.escape(text)
            case .single:
                if index > 0 { glob += "." }
                glob += "*"
            case .rest:
                glob += "*"
            }
        }
        return glob
    }

    /// `text` with every glob metacharacter escaped by a backslash.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            if character == "*" || character == "?" || character == "[" || character == "]" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
