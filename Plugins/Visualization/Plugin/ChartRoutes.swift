import ChartEngine
import Foundation
import PlexusSDK

/// The HTTP face of the chart engine. Parsing and rendering run off the loop (``PluginContext/offLoop(_:)``);
/// saved charts and data sets are confined to the caller's verified tenant ("" without one).
@PluginActor
final class ChartRoutes {
    private let context: PluginContext
    private let renderer: ChartRenderer
    private let store: ChartStore
    private(set) var rendered = 0

    static let base = "/api/v1/visualizations"

    init(context: PluginContext, renderer: ChartRenderer, store: ChartStore) {
        self.context = context
        self.renderer = renderer
        self.store = store
    }

    func register(maxBodyBytes: UInt64) throws {
        let routes = context.routes
        try routes.post(Self.base + "/render", options: RouteOptions(summary: "Render a chart spec (Vega-Lite subset) as ?format=svg|png|pdf"),
                        maxBodyBytes: maxBodyBytes) { [unowned self] request async in
            await guarded(request) {
                let format = try Self.format(request.query["format"] ?? "svg")
                return try await render(request.body, format: format, tenant: Self.tenant(request))
            }
        }
        try routes.post(Self.base + "/charts", options: RouteOptions(summary: "Save a chart spec for the caller's tenant; 201 with Location"),
                        maxBodyBytes: maxBodyBytes) { [unowned self] request async in
            await guarded(request) { try await save(request) }
        }
        try routes.get(Self.base + "/:file", options: RouteOptions(summary: "Render a saved chart: /:id.svg, /:id.png or /:id.pdf")) { [unowned self] request async in
            await guarded(request) {
                let file = request.parameters["file"] ?? ""
                guard let dot = file.lastIndex(of: ".") else {
                    throw HTTPError.notFound("'\(file)': ask for <id>.svg, <id>.png or <id>.pdf")
                }
                let format = try Self.format(String(file[file.index(after: dot)...]))
                let id = try ChartStore.validateID(String(file[..<dot]), field: "path segment ':id'")
                guard let spec = try await store.spec(tenant: Self.tenant(request), id: id) else { throw HTTPError.notFound("no saved chart '\(id)'") }
                return try await render(spec, format: format, tenant: Self.tenant(request))
            }
        }
        try routes.put(Self.base + "/datasets/:name", options: RouteOptions(summary: "Store rows (a JSON array of objects) for data: {name}"),
                       maxBodyBytes: maxBodyBytes) { [unowned self] request async in
            await guarded(request) { try await saveDataset(request) }
        }
    }

    /// Parses, resolves named data and renders off the loop.
    private func render(_ body: [UInt8], format: ChartRenderer.Format, tenant: String) async throws -> Response {
        guard !body.isEmpty else { throw HTTPError.badRequest("the body is empty; send a chart spec (JSON)") }
        let spec = try await context.offLoop { try ChartRenderer.parseSpec(body) }
        let stored = try await store.datasets(tenant: tenant, names: spec.root.dataNames)
        let renderer = self.renderer
        let bytes = try await context.offLoop { () throws -> [UInt8] in
            var named: [String: DataTable] = [:]
            for (name, rows) in stored {
                named[name] = try DataTable.from(values: try JSONParser.parse(rows), path: "$.data.name", maxRows: renderer.limits.maxRows)
            }
            return try renderer.render(spec, as: format, named: named)
        }
        rendered += 1
        return Response(headers: Headers([("Content-Type", format.contentType)]), body: bytes)
    }

    /// `POST /charts[?id=]`: checks the spec parses, then stores it.
    private func save(_ request: Request) async throws -> Response {
        let body = request.body
        _ = try await context.offLoop { try ChartRenderer.parseSpec(body) }
        let id = try request.query["id"].map { try ChartStore.validateID($0, field: "query 'id'") } ?? UUID().uuidString.lowercased()
        try await store.save(tenant: Self.tenant(request), id: id, spec: body)
        var response = try Response.json(["id": id, "svg": "\(Self.base)/\(id).svg", "png": "\(Self.base)/\(id).png", "pdf": "\(Self.base)/\(id).pdf"], status: 201)
        response.headers.set("Location", "\(Self.base)/\(id).svg")
        return response
    }

    /// `PUT /datasets/:name`: the body must be an array of flat objects within the row limit.
    private func saveDataset(_ request: Request) async throws -> Response {
        let name = try ChartStore.validateID(request.parameters["name"] ?? "", field: "path segment ':name'")
        let (body, limit) = (request.body, renderer.limits.maxRows)
        let count = try await context.offLoop { try DataTable.from(values: try JSONParser.parse(body), path: "$", maxRows: limit).count }
        try await store.saveDataset(tenant: Self.tenant(request), name: name, rows: body, count: count)
        return try Response.json(["name": name, "rows": "\(count)"], status: 201)
    }

    private static func format(_ text: String) throws -> ChartRenderer.Format {
        guard let format = ChartRenderer.Format(rawValue: text.lowercased()) else {
            throw HTTPError.badRequest("format '\(text.prefix(20))' is not supported; allowed: svg, png, pdf")
        }
        return format
    }

    private static func tenant(_ request: Request) -> String { request.verifiedTenant ?? "" }

    private func guarded(_ request: Request, _ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch let error as ChartError {
            return Self.problem(error, instance: request.requestID)
        } catch {
            if !(error is HTTPResponseError) {
                context.logger.error("visualization handler failed", metadata: ["request_id": "\(request.requestID)", "error": "\(error)"])
            }
            return ProblemDetails.response(for: error, instance: request.requestID)
        }
    }

    /// problem+json for an engine error: `path` and `kind` as extension members.
    static func problem(_ error: ChartError, instance: String) -> Response {
        let (status, title): (Int, String) = switch error.kind {
        case .syntax: (400, "Invalid JSON")
        case .unsupported: (422, "Unsupported chart specification")
        case .invalid: (422, "Invalid chart specification")
        case .tooLarge: (413, "Chart too large")
        case .render: (500, "Rendering failed")
        }
        let body: [String: Any] = ["type": "about:blank", "status": status, "title": title, "detail": "\(error.path): \(error.message)",
                                   "instance": instance, "path": error.path, "kind": error.kind.rawValue]
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: Headers([("Content-Type", "application/problem+json")]), body: Array(data))
    }
}
