import ChartEngine
import Foundation
import PlexusSDK

/// The HTTP face of the chart engine. Parsing and rendering run off the loop (``PluginContext/offLoop(_:)``);
/// saved charts and data sets are confined to the caller's verified tenant ("" without one).
@PluginActor
final class ChartRoutes {
    let context: PluginContext
    let renderer: ChartRenderer
    let store: ChartStore
    private(set) var rendered = 0
    /// Recent bus events kept for `data: {"topic": ...}`.
    var windows: EventWindowBuffer

    static let base = "/api/v1/visualizations"

    init(context: PluginContext, renderer: ChartRenderer, store: ChartStore, windows: EventWindowBuffer) {
        self.context = context
        self.renderer = renderer
        self.store = store
        self.windows = windows
    }

    /// Keeps the events of `patterns` (comma-separated) for topic windows.
    func follow(_ patterns: String) throws {
        for pattern in patterns.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !pattern.isEmpty {
            try context.bus.subscribe(pattern, queueLimit: 4096) { [unowned self] event in
                windows.append(WindowEvent(timeMilliseconds: event.time.timeIntervalSince1970 * 1000, topic: event.topic, payload: event.payload),
                               tenant: event.tenant)
            }
        }
    }

    func register(maxBodyBytes: UInt64) throws {
        let routes = context.routes
        try routes.post(Self.base + "/render", options: RouteOptions(summary: "Render a chart spec (Vega-Lite subset, or a PXC1 columnar upload) as ?format=svg|png|pdf"),
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

    /// Parses, resolves external data and renders off the loop.
    func render(_ body: [UInt8], format: ChartRenderer.Format, tenant: String) async throws -> Response {
        guard !body.isEmpty else { throw HTTPError.badRequest("the body is empty; send a chart spec (JSON)") }
        // A columnar upload (``ColumnUpload``: "PXC1", a JSON header, float64 columns) or a JSON spec.
        let maxRows = renderer.limits.maxRows
        let spec = try await context.offLoop {
            ColumnUpload.matches(body) ? try ColumnUpload.parse(body, maxRows: maxRows) : try ChartRenderer.parseSpec(body)
        }
        let external = try await resolve(spec.externalSources, tenant: tenant)
        let renderer = self.renderer
        let bytes = try await context.offLoop { try renderer.render(spec, as: format, external: external) }
        rendered += 1
        return Response(headers: Headers([("Content-Type", format.contentType)]), body: bytes)
    }

    /// The tables of a spec's external sources: stored sets (a missing one is left out, the engine names
    /// it), topic windows from the kept events, and service answers (a JSON array of flat objects).
    func resolve(_ sources: Set<ExternalSource>, tenant: String) async throws -> [ExternalSource: DataTable] {
        let limit = renderer.limits.maxRows
        var tables: [ExternalSource: DataTable] = [:]
        for source in sources {
            switch source {
            case .named(let name):
                guard let rows = try await store.datasets(tenant: tenant, names: [name])[name] else { continue }
                tables[source] = try await context.offLoop { try JSONParser.parseRows(rows, path: "$.data.name", maxRows: limit) }
            case .topic(let window):
                let events = windows.events(for: window, tenant: tenant)
                let now = Date().timeIntervalSince1970 * 1000
                tables[source] = try await context.offLoop { window.table(events, now: now) }
            case .service(let name, let payload):
                let answer: [UInt8]
                do { answer = try await context.services.call(name, payload: Array(payload.utf8), timeout: .seconds(5)) } catch {
                    throw HTTPError(status: 502, detail: "$.data.service: the service '\(name)' did not answer: \(error)")
                }
                tables[source] = try await context.offLoop {
                    try JSONParser.parseRows(answer, path: "$.data.service (the answer of '\(name)')", maxRows: limit)
                }
            }
        }
        return tables
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
        let count = try await context.offLoop { try JSONParser.parseRows(body, path: "$", maxRows: limit).count }
        try await store.saveDataset(tenant: Self.tenant(request), name: name, rows: body, count: count)
        return try Response.json(["name": name, "rows": "\(count)"], status: 201)
    }

    static func format(_ text: String) throws -> ChartRenderer.Format {
        guard let format = ChartRenderer.Format(rawValue: text.lowercased()) else {
            throw HTTPError.badRequest("format '\(text.prefix(20))' is not supported; allowed: svg, png, pdf")
        }
        return format
    }

    static func tenant(_ request: Request) -> String { request.verifiedTenant ?? "" }

    func guarded(_ request: Request, _ body: () async throws -> Response) async -> Response {
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
