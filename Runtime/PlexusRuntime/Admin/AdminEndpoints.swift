import Foundation

/// The runtime's own endpoints: `/health` (liveness) and `/admin/plugins` (loopback only).
enum AdminEndpoints {
    static func install(on routes: RouteRegistry, group: PluginGroup) {
        routes.addBuiltin("GET", "/health", BuiltinEndpoint(access: .public, summary: "Liveness") { _ in
            .json(["status": "ok"])
        })
        routes.addBuiltin("GET", "/admin/plugins", BuiltinEndpoint(access: .admin, summary: "Plugins and their states") { [unowned group] _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let body = (try? encoder.encode(group.plugins.map(PluginSummary.init))) ?? Data("[]".utf8)
            return BuiltinResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array(body))
        })
    }
}
