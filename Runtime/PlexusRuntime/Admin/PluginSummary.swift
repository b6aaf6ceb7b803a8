/// One row of `plexus plugins`: a plugin's identity, state, reason and routes.
public struct PluginSummary: Codable, Sendable {
    public let file: String
    public let name: String
    public let version: String
    public let state: String
    public let reason: String
    public let toolchain: String
    public let abi: String
    public let dependencies: [String]
    public let routes: [String]

    init(_ plugin: PluginInstance) {
        file = plugin.file.lastPathComponent
        name = plugin.manifest?.name ?? "-"
        version = plugin.manifest?.version ?? "-"
        state = plugin.status.state.rawValue
        reason = plugin.status.reason
        toolchain = plugin.manifest?.toolchain ?? "-"
        abi = plugin.manifest.map { "\($0.abiMajor).\($0.abiMinor)" } ?? "-"
        dependencies = plugin.manifest?.dependencies.map { "\($0.name) \($0.range)\($0.required ? "" : " (optional)")" } ?? []
        routes = plugin.routes.map { "\($0.method) \($0.pattern)" }
    }
}
