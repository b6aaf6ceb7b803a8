import Foundation

/// The runtime's own endpoints: `/health` (liveness) and `/admin/plugins` (loopback only).
enum AdminEndpoints {
    static func install(on server: HTTPServer, group: PluginGroup) {
        server.builtins.append(("GET", "/health", HTTPServer.Builtin(access: .public) { _ in
            .json(["status": "ok"])
        }))
        server.builtins.append(("GET", "/admin/plugins", HTTPServer.Builtin(access: .admin) { [unowned group] _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = (try? encoder.encode(group.plugins.map(PluginSummary.init))) ?? Data("[]".utf8)
            return HTTPServer.BuiltinResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array(body))
        }))
    }

    /// Paths plugins may not register routes under.
    static let reservedPrefixes = ["/admin", "/health", "/ready", "/metrics", "/api/v1/events"]
}
