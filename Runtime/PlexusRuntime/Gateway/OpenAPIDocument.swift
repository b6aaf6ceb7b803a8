import PlexusPolicy

/// `/openapi.json`, from the route registry alone: the routes the running plugins registered,
/// with their access rules and schemas, and the runtime's own endpoints as they describe
/// themselves. The streaming endpoints (Server-Sent Events and WebSocket) are left out: OpenAPI
/// describes requests and responses, not streams.
enum OpenAPIDocument {

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
        for builtin in registry.builtins where !builtin.endpoint.streams {
            let access: OpenAPIRoute.Access = builtin.access == .public ? .public : .authenticated
            routes.append(OpenAPIRoute(method: builtin.method, path: builtin.pattern.text, plugin: "plexus", summary: builtin.endpoint.summary,
                                       access: access, roles: builtin.access == .admin || builtin.access == .tenantAdmin ? [adminRole] : [],
                                       responseStatus: builtin.endpoint.successStatus))
        }
        let builder = OpenAPIBuilder(title: "Plexus", version: runtimeVersion,
                                     description: "The routes of the plugins running in this Plexus instance, and the runtime's own endpoints.")
        return (try? builder.build(routes: routes)) ?? Array(#"{"openapi":"3.1.0","info":{"title":"Plexus","version":"\#(runtimeVersion)"},"paths":{}}"#.utf8)
    }
}
