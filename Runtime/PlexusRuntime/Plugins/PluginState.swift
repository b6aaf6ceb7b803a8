/// Where a plugin is in its lifecycle.
///
/// `discovered → loaded → initialized → starting → running → stopping → stopped`, and from any
/// of them to `failed`, with the reason kept beside the state.
public enum PluginState: String, Sendable, Codable {
    case discovered, loaded, initialized, starting, running, stopping, stopped, failed
}

/// A state with the reason for the transition that led to it.
public struct PluginStatus: Sendable {
    public private(set) var state: PluginState = .discovered
    public private(set) var reason: String = "found in plugins directory"

    /// Moves to `state`, recording `reason`.
    public mutating func move(to state: PluginState, _ reason: String) {
        self.state = state
        self.reason = reason
    }
}
