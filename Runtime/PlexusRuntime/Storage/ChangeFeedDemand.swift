import PlexusEventLog
import PlexusStorage

/// Which plugins' change logs this instance needs, on PostgreSQL (issue 21): the database logs
/// a plugin's changes only while some instance listens (the triggers cost every write), so the
/// router tells this object every subscription that starts or ends, and it asks each plugin's
/// storage to listen while some live subscription here, or a durable topic pattern
/// (`[bus] durable_topics`: a durable consumer may read them later), may match one of its topics
/// `storage.<plugin>.<table>.<insert|update|delete>`. Wildcards count (`storage.#`, `#`,
/// `storage.+.orders.insert`, …), as do durable consumer groups.
///
/// A pattern that names the plugin opens its storage on this instance (so a subscriber here sees
/// writes made through any instance); a wildcard over plugins reaches the plugins whose storage is
/// in use here (now or later). Loop thread only.
final class ChangeFeedDemand {
    /// Live subscriptions' patterns that may match some storage topic, with their counts.
    private var patterns: [TopicPattern: Int] = [:]
    /// Patterns the router always keeps durable.
    var durablePatterns: [TopicPattern] = []
    /// The plugins' storages in use here, by plugin name.
    private var storages: [String: Weak] = [:]
    /// The storage of the loaded plugin of that name (creating it), or nil.
    var lookup: (String) -> PluginStorage? = { _ in nil }

    private struct Weak { weak var storage: PluginStorage? }

    /// The change operations a storage topic ends with.
    static let operations: Set<String> = ["insert", "update", "delete"]

    /// A subscription to `pattern` started; `ready` runs once every storage it reaches has its
    /// change log running (at once when it reaches none), or once the attempt failed for some
    /// (with the first failure; those storages try again at their next check).
    func subscribed(_ pattern: TopicPattern, ready: @escaping (StorageError?) -> Void) {
        guard Self.mayMatch(pattern, plugin: nil) else { return ready(nil) }
        patterns[pattern, default: 0] += 1
        let segments = pattern.segments
        if segments.count > 1, case .literal(let name) = segments[1] { _ = lookup(name) }
        let targets = storages.values.compactMap(\.storage).filter { Self.mayMatch(pattern, plugin: $0.pluginName) }
        var remaining = targets.count, failure: StorageError?
        guard remaining > 0 else { return ready(nil) }
        for storage in targets {
            storage.wantChanges(true) { error in
                remaining -= 1
                failure = failure ?? error
                if remaining == 0 { ready(failure) }
            }
        }
    }

    /// A subscription to `pattern` ended: storages nobody here needs any more stop listening.
    func unsubscribed(_ pattern: TopicPattern) {
        guard let count = patterns[pattern] else { return }
        patterns[pattern] = count > 1 ? count - 1 : nil
        for storage in storages.values.compactMap(\.storage) where Self.mayMatch(pattern, plugin: storage.pluginName) {
            if !wants(storage.pluginName) { storage.wantChanges(false) { _ in } }
        }
    }

    /// A plugin's storage came into use here: it listens at once if someone here wants its changes.
    func register(_ storage: PluginStorage) {
        storages = storages.filter { $0.value.storage != nil }
        storages[storage.pluginName] = Weak(storage: storage)
        if wants(storage.pluginName) { storage.wantChanges(true) { _ in } }
    }

    /// Whether a live subscription or a durable pattern here may match `plugin`'s change topics.
    func wants(_ plugin: String) -> Bool {
        patterns.keys.contains { Self.mayMatch($0, plugin: plugin) } || durablePatterns.contains { Self.mayMatch($0, plugin: plugin) }
    }

    /// Whether `pattern` may match a topic `storage.<plugin>.<table>.<operation>` (any plugin when
    /// nil). Table names may hold dots, so a table is one segment or more.
    static func mayMatch(_ pattern: TopicPattern, plugin: String?) -> Bool {
        let fixed: [String?] = ["storage"] + (plugin.map { $0.split(separator: ".", omittingEmptySubsequences: false).map { String($0) } } ?? [nil])
        for (index, segment) in pattern.segments.enumerated() {
            switch segment {
            case .rest: return true
            case .single: continue
            case .literal(let text):
                if index < fixed.count, let expected = fixed[index], expected != text { return false }
            }
        }
        // Without '#': the fixed segments, a table of one segment or more, an operation.
        guard pattern.segments.count >= fixed.count + 2, let last = pattern.segments.last else { return false }
        if case .literal(let operation) = last { return operations.contains(operation) }
        return true
    }
}
