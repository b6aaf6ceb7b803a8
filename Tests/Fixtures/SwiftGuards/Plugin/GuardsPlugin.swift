import PlexusSDK

/// A test fixture with one route per gateway rule a route can declare: public, authenticated,
/// a role, two scopes, a tenant in the path, a body bound. Each answers with what it was given,
/// so a test sees exactly who got through.
@PluginActor
public final class GuardsPlugin: Plugin {
    public static let manifest = PluginManifest(name: "guards", version: "1.0.0", description: "fixture: route rules of the gateway")

    public init(context: PluginContext) throws {
        let whoCalled: @PluginActor (Request) throws -> Response = { request in
            .text("\(request.caller == nil ? "anonymous" : "caller") \(request.tenant ?? "-")\n")
        }
        try context.routes.get("/api/v1/guards/open", options: .public, whoCalled)
        try context.routes.get("/api/v1/guards/member", whoCalled)
        try context.routes.get("/api/v1/guards/editor", options: RouteOptions(roles: ["editor", "publisher"]), whoCalled)
        try context.routes.get("/api/v1/guards/reports", options: RouteOptions(scopes: ["reports:read", "reports:export"]), whoCalled)
        try context.routes.get("/api/v1/guards/tenants/:tenant/notes", options: RouteOptions(tenantRequired: true)) { request in
            .text("notes of \(try request.requireTenant()) at \(request.parameters["tenant"] ?? "")\n")
        }
        try context.routes.post("/api/v1/guards/upload", options: .public, maxBodyBytes: 16) { request in
            .text("\(request.body.count) bytes\n")
        }
    }
}
