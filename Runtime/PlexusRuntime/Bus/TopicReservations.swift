import PlexusEventLog

/// Who may publish on which topics.
///
/// Reserved are the runtime's namespaces (``runtimeNamespaces``: `system.…` for runtime events,
/// `deadletter.…` for dead letters, `storage.…` for storage changes), which only the runtime
/// itself publishes, and every topic a loaded plugin declares in its manifest's `publishes`
/// (patterns such as `probe.out.+` included), which only that plugin publishes. Clients (HTTP,
/// WebSocket) may publish on any other topic; a plugin only on the topics it declares
/// (``undeclared(_:by:)``): a publish on a topic it does not declare is refused in debug builds
/// and counted in release builds (``refusesUndeclaredPublishes``).
struct TopicReservations {
    /// Who is publishing.
    enum Publisher: Equatable {
        /// A client of the HTTP or WebSocket API.
        case client
        /// The plugin of this name.
        case plugin(String)
    }

    /// First segments only the runtime publishes under.
    static let runtimeNamespaces: Set<Substring> = ["system", "deadletter", "storage"]

    /// Whether a plugin's publish on a topic its manifest does not declare is refused (debug
    /// builds, so the omission shows in the plugin's own tests) or only counted (release builds,
    /// `plexus_bus_undeclared_publishes_total{plugin}`, so a running installation keeps working).
    static var refusesUndeclaredPublishes: Bool {
        #if DEBUG
        true
        #else
        false
        #endif
    }

    /// Topic declarations of the loaded plugins, by plugin name.
    private let declarations: [(plugin: String, pattern: TopicPattern)]

    /// Reservations with the declarations of `plugins` (name and declared topics); a declaration
    /// that is not a valid pattern reserves nothing.
    init(plugins: [(name: String, topics: [String])]) {
        declarations = plugins.flatMap { plugin in
            plugin.topics.compactMap { topic in (try? TopicPattern(topic)).map { (plugin.name, $0) } }
        }
    }

    /// Why `publisher` may not publish on `topic` (a valid topic), or nil when it may.
    func refusal(of topic: String, by publisher: Publisher) -> String? {
        let first = topic.prefix { $0 != "." }
        if Self.runtimeNamespaces.contains(first) {
            return "topic '\(topic)' is reserved: '\(first).…' topics are published by the runtime only; publish under another first segment"
        }
        for declaration in declarations where declaration.pattern.matches(topic) {
            if case .plugin(let name) = publisher, name == declaration.plugin { return nil }
            return "topic '\(topic)' is reserved: plugin '\(declaration.plugin)' declares '\(declaration.pattern)' as its own; publish on a topic no plugin declares"
        }
        return nil
    }

    /// Why `plugin` should not publish on `topic` (a valid topic): its manifest's `publishes`
    /// does not declare it; nil when a declaration matches.
    func undeclared(_ topic: String, by plugin: String) -> String? {
        let own = declarations.filter { $0.plugin == plugin }.map(\.pattern)
        if own.contains(where: { $0.matches(topic) }) { return nil }
        let declared = own.isEmpty ? "none" : own.map { "'\($0)'" }.joined(separator: ", ")
        return "topic '\(topic)' is not declared by plugin '\(plugin)' (its manifest's publishes: \(declared)); "
            + "fix: add a TopicDeclaration for it to the manifest's publishes"
    }
}
