import ChartEngine
import Foundation
import PlexusSDK

/// Dashboards per tenant: definitions, their panels rendered by the chart routes, a multi-page PDF report,
/// and the self-contained live page.
@PluginActor
final class DashboardRoutes {
    private let charts: ChartRoutes
    /// When each scheduled dashboard's next report is due, by tenant and id.
    private var due: [String: (tenant: String, id: String, schedule: CronSchedule, at: Date)] = [:]
    /// Reports kept per dashboard.
    static let keptReports = 20
    /// The event announcing a stored report.
    static let generatedTopic = "report.generated"

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
                return try await charts.render(try await spec(of: definition.panels[index], tenant: ChartRoutes.tenant(request)), format: format, tenant: ChartRoutes.tenant(request))
            }
        }
        try routes.get(Self.base + "/:id/report", options: RouteOptions(summary: "The dashboard as a PDF report, one page per panel")) { [unowned self] request async in
            await charts.guarded(request) { try await report(request) }
        }
        try routes.post(Self.base + "/:id/reports", options: RouteOptions(summary: "Make, store and announce (report.generated) a report now")) { [unowned self] request async in
            await charts.guarded(request) {
                let (id, definition) = try await load(request)
                let made = try await generate(tenant: ChartRoutes.tenant(request), id: id, definition: definition)
                return try Response.json(["id": made, "pdf": "\(Self.base)/\(id)/reports/\(made)"], status: 201)
            }
        }
        try routes.get(Self.base + "/:id/reports", options: RouteOptions(summary: "The dashboard's stored reports, newest first")) { [unowned self] request async in
            await charts.guarded(request) {
                let (id, _) = try await load(request)
                let list = try await charts.store.reports(tenant: ChartRoutes.tenant(request), dashboard: id).map { report -> [String: Any] in
                    ["id": report.id, "created_ms": report.createdMilliseconds, "bytes": report.bytes, "pdf": "\(Self.base)/\(id)/reports/\(report.id)"]
                }
                let data = try JSONSerialization.data(withJSONObject: ["reports": list], options: [.sortedKeys, .withoutEscapingSlashes])
                return Response(headers: Headers([("Content-Type", "application/json")]), body: Array(data))
            }
        }
        try routes.get(Self.base + "/:id/reports/:report", options: RouteOptions(summary: "A stored report (PDF)")) { [unowned self] request async in
            await charts.guarded(request) {
                let id = try ChartStore.validateID(request.parameters["id"] ?? "", field: "path segment ':id'")
                let report = try ChartStore.validateID(request.parameters["report"] ?? "", field: "path segment ':report'")
                guard let pdf = try await charts.store.report(tenant: ChartRoutes.tenant(request), dashboard: id, id: report) else {
                    throw HTTPError.notFound("no report '\(report)' of dashboard '\(id)'")
                }
                return Response(headers: Headers([("Content-Type", "application/pdf")]), body: pdf)
            }
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
        plan(tenant: ChartRoutes.tenant(request), id: id, definition.schedule)
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
    private func spec(of panel: DashboardSpec.Panel, tenant: String) async throws -> [UInt8] {
        if let spec = panel.spec { return Array(spec.utf8) }
        let id = panel.chart ?? ""
        guard let saved = try await charts.store.spec(tenant: tenant, id: id) else {
            throw HTTPError.unprocessable("the panel names the saved chart '\(id)', which does not exist")
        }
        return saved
    }

    /// Every panel on its own page of one PDF.
    private func report(_ request: Request) async throws -> Response {
        let (id, definition) = try await load(request)
        let pdf = try await reportPDF(tenant: ChartRoutes.tenant(request), definition: definition)
        return Response(headers: Headers([("Content-Type", "application/pdf"), ("Content-Disposition", "inline; filename=\"\(id).pdf\"")]), body: pdf)
    }

    private func reportPDF(tenant: String, definition: DashboardSpec) async throws -> [UInt8] {
        var pages: [(spec: ChartSpec, external: [ExternalSource: DataTable])] = []
        for panel in definition.panels {
            let bytes = try await spec(of: panel, tenant: tenant)
            let parsed = try await charts.context.offLoop { try ChartRenderer.parseSpec(bytes) }
            pages.append((parsed, try await charts.resolve(parsed.externalSources, tenant: tenant)))
        }
        let renderer = charts.renderer
        return try await charts.context.offLoop { [pages] in try renderer.renderReport(pages) }
    }

    /// Makes, stores and announces a report; returns its id.
    private func generate(tenant: String, id: String, definition: DashboardSpec) async throws -> String {
        let pdf = try await reportPDF(tenant: tenant, definition: definition)
        let now = Date()
        let report = "r\(Int64(now.timeIntervalSince1970 * 1000))-\(UUID().uuidString.prefix(8).lowercased())"
        try await charts.store.saveReport(tenant: tenant, dashboard: id, id: report, createdMilliseconds: Int64(now.timeIntervalSince1970 * 1000),
                                          pdf: pdf, keep: Self.keptReports)
        let announcement = ["dashboard": id, "report": report, "pdf": "\(Self.base)/\(id)/reports/\(report)", "pages": "\(definition.panels.count)", "bytes": "\(pdf.count)"]
        try await charts.context.bus.publish(Self.generatedTopic, json: announcement, tenant: tenant, durable: true)
        return report
    }

    /// Remembers when a dashboard's next report is due (or forgets a dashboard without a schedule).
    private func plan(tenant: String, id: String, _ schedule: CronSchedule?) {
        let key = tenant + "\u{0}" + id
        guard let schedule, let at = schedule.next(after: Date()) else { due[key] = nil; return }
        due[key] = (tenant, id, schedule, at)
    }

    /// Reads every scheduled dashboard and checks every `seconds` for reports that are due.
    func startScheduler(every seconds: Int) async throws {
        for stored in try await charts.store.allDashboards() {
            guard let definition = try? DashboardSpec.parse(stored.definition) else { continue }
            plan(tenant: stored.tenant, id: stored.id, definition.schedule)
        }
        _ = charts.context.timers.schedule(after: .seconds(seconds), repeating: .seconds(seconds)) { [weak self] in
            guard let self else { return }
            Task { @PluginActor in await self.runDue() }
        }
    }

    private func runDue() async {
        let now = Date()
        for (key, entry) in due where entry.at <= now {
            due[key] = entry.schedule.next(after: now).map { (entry.tenant, entry.id, entry.schedule, $0) }
            do {
                // The definition may have changed or gone since it was planned.
                guard let stored = try await charts.store.dashboard(tenant: entry.tenant, id: entry.id) else { due[key] = nil; continue }
                _ = try await generate(tenant: entry.tenant, id: entry.id, definition: try DashboardSpec.parse(stored))
            } catch {
                charts.context.logger.error("scheduled report failed", metadata: ["dashboard": "\(entry.id)", "error": "\(error)"])
            }
        }
    }
}
