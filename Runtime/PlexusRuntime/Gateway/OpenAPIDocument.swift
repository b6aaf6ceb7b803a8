import PlexusPolicy

/// `/openapi.json`: the routes the running plugins registered, with their access rules and
/// schemas, and the runtime's own endpoints. The streaming endpoints (Server-Sent Events and
/// WebSocket) are left out: OpenAPI describes requests and responses, not streams.
enum OpenAPIDocument {
    static let streamingPaths: Set = ["/api/v1/events/stream", "/api/v1/events/ws"]

    static func render(routes registry: RouteRegistry, adminRole: String, runtimeVersion: String) -> [UInt8] {
        var routes: [OpenAPIRoute] = registry.mountedRoutes.map { route in
            let policy = route.policy
            return OpenAPIRoute(
                method: route.method, path: route.pattern.text, plugin: route.plugin.name, summary: policy.summary,
                access: policy.isPublic ? .public : .authenticated, roles: policy.roles, scopes: policy.scopes,
                tenantRequired: policy.tenantRequired,
                requestSchema: policy.requestSchema.flatMap { try? JSONValue(parsing: $0) },
                responseSchema: policy.responseSchema.flatMap { try? JSONValue(parsing: $0) },
                responseStatus: policy.responseStatus, maxBodyBytes: route.maxBodyBytes > 0 ? Int(route.maxBodyBytes) : nil)
        }
        for builtin in registry.builtins where !streamingPaths.contains(builtin.pattern.text) {
            let path = builtin.pattern.text
            let access: OpenAPIRoute.Access = builtin.access == .public ? .public : .authenticated
            routes.append(OpenAPIRoute(method: builtin.method, path: path, plugin: "plexus", summary: summaries[path],
                                       access: access, roles: builtin.access == .admin || builtin.access == .tenantAdmin ? [adminRole] : [],
                                       responseStatus: createdStatus.contains("\(builtin.method) \(path)") ? 201 : 200))
        }
        let builder = OpenAPIBuilder(title: "Plexus", version: runtimeVersion,
                                     description: "The routes of the plugins running in this Plexus instance, and the runtime's own endpoints.")
        return (try? builder.build(routes: routes)) ?? Array(#"{"openapi":"3.1.0","info":{"title":"Plexus","version":"\#(runtimeVersion)"},"paths":{}}"#.utf8)
    }

    /// The runtime's endpoints that answer success with 201 Created.
    private static let createdStatus: Set = ["POST /admin/api-keys", "POST /api/v1/events/tickets"]

    private static let summaries: [String: String] = [
        "/api/v1/events/tickets": "A single-use ticket that opens one event stream (SSE or WebSocket) within 30 s",
        "/health": "Liveness", "/ready": "Readiness: required plugins running", "/health/plugins": "Health of each plugin",
        "/metrics": "Prometheus metrics", "/openapi.json": "This document", "/admin/plugins": "Plugins and their states",
        "/admin/audit": "The audit log, newest first", "/admin/api-keys": "API keys", "/admin/api-keys/:key": "Revoke an API key",
        "/admin/reload": "Load plugins.d into a new worker generation", "/api/v1/events": "Publish an event, or query the durable log",
        "/api/v1/events/deadletters": "Dead letters of durable consumer groups", "/api/v1/events/deadletters/redrive": "Re-deliver dead letters",
        "/api/v1/events/catalogue": "Topics the plugins declare",
    ]
}
