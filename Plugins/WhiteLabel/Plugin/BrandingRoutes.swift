import Foundation
import PlexusSDK
import WhiteLabelEngine

/// Branding: `GET /api/v1/branding`, `/branding.css` and `/` answer for the tenant of the
/// request's `Host` (or of the caller); the tenant's admin writes it and uploads the logo and
/// favicon, checked by content.
extension WhiteLabelPlugin {
    func registerBrandingRoutes() throws {
        try context.routes.get("/api/v1/branding", options: RouteOptions.public.summary("The branding of the tenant this host serves")) { [unowned self] request in
            try .json(brandingFor(request))
        }
        try context.routes.get("/branding.css", options: RouteOptions.public.summary("CSS custom properties of the host's tenant")) { [unowned self] request in
            Response(status: 200, headers: Headers([("Content-Type", "text/css; charset=utf-8"), ("Cache-Control", "no-cache"), ("Vary", "Host")]),
                     body: Array(try brandingFor(request).css.utf8))
        }
        try context.routes.get("/", options: RouteOptions.public.summary("The branded landing page of the host's tenant")) { [unowned self] request in
            let tenant = request.tenant.flatMap { state.registry[$0] }
            let assets = tenant.flatMap { state.logos[$0.id] } ?? [:]
            let page = try brandingFor(request).landingPage(hasLogo: assets["logo"] != nil, hasFavicon: assets["favicon"] != nil)
            // Its own policy (the runtime's default allows nothing): its styles, its stylesheet and
            // logo from this host, nothing else; no script at all.
            return Response(status: 200, headers: Headers([("Content-Type", "text/html; charset=utf-8"), ("Vary", "Host"),
                                                           ("Content-Security-Policy", "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'")]),
                            body: Array(page.utf8))
        }
        try context.routes.get("/branding/:kind", options: RouteOptions.public.summary("The logo or favicon of the host's tenant")) { [unowned self] request async throws in
            let kind = try logoKind(request)
            guard let tenant = request.tenant, state.registry[tenant] != nil, let type = state.logos[tenant]?[kind],
                  let stored = try await context.storage.tenant(tenant).get("logo/\(kind)") else {
                throw HTTPError.notFound("this host's tenant has no \(kind)")
            }
            return Response(status: 200, headers: Headers([("Content-Type", type), ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
                                                           ("X-Content-Type-Options", "nosniff"), ("Vary", "Host")]), body: stored.value)
        }
        let admin = RouteOptions(roles: [adminRole], tenantRequired: true, summary: "Writes the tenant's branding")
        try context.routes.put("/api/v1/branding", options: admin, maxBodyBytes: 64 * 1024) { [unowned self] request async throws in
            let owner = try requireKnownTenant(request)
            let branding = try decode(Branding.self, request)
            try mapped { try branding.validate() }
            try await context.storage.tenant(owner.id).put("branding", state.encode(branding))
            state.branding[owner.id] = branding
            audit("branding.write", request, tenant: owner.id, target: "branding")
            return try .json(branding)
        }
        try context.routes.put("/api/v1/branding/:kind", options: RouteOptions(roles: [adminRole], tenantRequired: true, summary: "Uploads the logo or favicon (PNG, JPEG, SVG)"),
                               maxBodyBytes: UInt64(LogoCheck.maxBytes)) { [unowned self] request async throws in
            let owner = try requireKnownTenant(request)
            let kind = try logoKind(request)
            let body = request.body
            let accepted = try await mapped { try await context.offLoop { try LogoCheck.check(body) } }
            let view = context.storage.tenant(owner.id)
            try await view.put("logo/\(kind)", body)
            try await view.put("logometa/\(kind)", Array(accepted.contentType.utf8))
            state.logos[owner.id, default: [:]][kind] = accepted.contentType
            audit("branding.upload", request, tenant: owner.id, target: kind, detail: "\(accepted.contentType), \(body.count) bytes")
            return try .json(["kind": kind, "content_type": accepted.contentType, "width": "\(accepted.width)", "height": "\(accepted.height)"], status: 201)
        }
    }

    func logoKind(_ request: Request) throws -> String {
        let kind = request.parameters["kind"] ?? ""
        guard kind == "logo" || kind == "favicon" else { throw HTTPError.notFound("no branding asset '\(kind.prefix(40))' (logo or favicon)") }
        return kind
    }

    /// The branding of the request's tenant (the caller's, else the host's), or the platform's.
    func brandingFor(_ request: Request) throws -> Branding {
        guard let id = request.tenant, let tenant = state.registry[id] else { return Branding.standard(name: platformName) }
        return state.branding[id] ?? Branding.standard(name: tenant.displayName)
    }
}
