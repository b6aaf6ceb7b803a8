import ChartEngine
import Foundation
import PlexusSDK

/// Dashboards per tenant: definitions, their panels rendered by the chart routes, a multi-page PDF report,
/// and the self-contained live page.
@PluginActor
final class DashboardRoutes {
    private let charts: ChartRoutes

    init(charts: ChartRoutes) { self.charts = charts }

    static let base = ChartRoutes.base + "/dashboards"

    func register(maxBodyBytes: UInt64) throws {
        let routes = charts.context.routes
        try routes.put(Self.base + "/:id", options: RouteOptions(summary: "Save a dashboard (a grid of chart panels, some live) for the caller's tenant"),
                       maxBodyBytes: min(maxBodyBytes, 4 << 20)) { [unowned self] request async in
            await charts.guarded(request) { try await save(request) }
        }
        try routes.get(Self.base + "/:id", options: RouteOptions(summary: "A dashboard's definition")) { [unowned self] request async in
            await charts.guarded(request) {
                let (_, definition) = try await load(request)
                return Response(headers: Headers([("Content-Type", "application/json")]), body: Array(definition.json.utf8))
            }
        }
        try routes.get(Self.base + "/:id/panels/:file", options: RouteOptions(summary: "One panel rendered: /panels/<n>.svg|png|pdf")) { [unowned self] request async in
            await charts.guarded(request) {
                let (_, definition) = try await load(request)
                let file = request.parameters["file"] ?? ""
                guard let dot = file.lastIndex(of: "."), let index = Int(file[..<dot]), definition.panels.indices.contains(index) else {
                    throw HTTPError.notFound("'\(file.prefix(40))': ask for <n>.svg, <n>.png or <n>.pdf with n from 0 to \(definition.panels.count - 1)")
                }
                let format = try ChartRoutes.format(String(file[file.index(after: dot)...]))
                return try await charts.render(try await spec(of: definition.panels[index], request), format: format, tenant: ChartRoutes.tenant(request))
            }
        }
        try routes.get(Self.base + "/:id/report", options: RouteOptions(summary: "The dashboard as a PDF report, one page per panel")) { [unowned self] request async in
            await charts.guarded(request) { try await report(request) }
        }
        // The page holds no data (it asks for a key and reads everything through the authenticated routes), so it is public.
        try routes.get(Self.base + "/:id/page", options: RouteOptions(access: .public, summary: "The live dashboard page (HTML, self-contained)")) { _ in
            let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "")
            return Response(headers: Headers([("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                                              ("Content-Security-Policy", DashboardPage.policy(nonce: nonce))]),
                            body: Array(DashboardPage.html(nonce: nonce).utf8))
        }
    }

    private func save(_ request: Request) async throws -> Response {
        let id = try ChartStore.validateID(request.parameters["id"] ?? "", field: "path segment ':id'")
        let body = request.body
        let definition = try await charts.context.offLoop { try DashboardSpec.parse(body) }
        try await charts.store.saveDashboard(tenant: ChartRoutes.tenant(request), id: id, definition: Array(definition.json.utf8))
        return try Response.json(["id": id, "page": "\(Self.base)/\(id)/page", "report": "\(Self.base)/\(id)/report",
                                  "panels": "\(definition.panels.count)"], status: 201)
    }

    private func load(_ request: Request) async throws -> (id: String, definition: DashboardSpec) {
        let id = try ChartStore.validateID(request.parameters["id"] ?? "", field: "path segment ':id'")
        guard let stored = try await charts.store.dashboard(tenant: ChartRoutes.tenant(request), id: id) else {
            throw HTTPError.notFound("no dashboard '\(id)'")
        }
        return (id, try DashboardSpec.parse(stored))
    }

    /// The spec bytes of a panel: inline, or the saved chart it names.
    private func spec(of panel: DashboardSpec.Panel, _ request: Request) async throws -> [UInt8] {
        if let spec = panel.spec { return Array(spec.utf8) }
        let id = panel.chart ?? ""
        guard let saved = try await charts.store.spec(tenant: ChartRoutes.tenant(request), id: id) else {
            throw HTTPError.unprocessable("the panel names the saved chart '\(id)', which does not exist")
        }
        return saved
    }

    /// Every panel on its own page of one PDF.
    private func report(_ request: Request) async throws -> Response {
        let (id, definition) = try await load(request)
        let tenant = ChartRoutes.tenant(request)
        var pages: [(spec: ChartSpec, external: [ExternalSource: DataTable])] = []
        for panel in definition.panels {
            let bytes = try await spec(of: panel, request)
            let parsed = try await charts.context.offLoop { try ChartRenderer.parseSpec(bytes) }
            pages.append((parsed, try await charts.resolve(parsed.root.externalSources, tenant: tenant)))
        }
        let renderer = charts.renderer
        let pdf = try await charts.context.offLoop { [pages] in try renderer.renderReport(pages) }
        return Response(headers: Headers([("Content-Type", "application/pdf"), ("Content-Disposition", "inline; filename=\"\(id).pdf\"")]), body: pdf)
    }
}
