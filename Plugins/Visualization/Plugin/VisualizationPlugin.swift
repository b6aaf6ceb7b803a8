import ChartEngine
import PlexusSDK

/// The visualization plugin: renders Vega-Lite-subset chart specs to SVG, PNG and PDF on the server.
///
/// Routes (see ``ChartRoutes``), every one for an authenticated caller, confined to the caller's tenant:
/// - `POST /api/v1/visualizations/render?format=svg|png|pdf`: renders the spec in the body.
/// - `POST /api/v1/visualizations/charts`: saves a spec (201, `Location`); `?id=` names it, else an id is made.
/// - `GET /api/v1/visualizations/:id.svg|png|pdf`: renders a saved chart.
/// - `PUT /api/v1/visualizations/datasets/:name`: stores rows (a JSON array of objects) a spec reads
///   with `"data": {"name": "<name>"}`.
///
/// Parsing and rendering run off the loop. Bad specs answer problem+json naming the JSON `path`.
///
/// Configuration (`plugins.d/visualization.toml`): `max_body_bytes` (default 64 MiB), `max_points`
/// (default 2,000,000 rows per data source), `font_directory` (default the fonts-dejavu-core directory).
@PluginActor
final class VisualizationPlugin: Plugin {
    /// Name `visualization`, version 0.1.0.
    static let manifest = PluginManifest(
        name: "visualization",
        version: "0.1.0",
        description: "Charts from a Vega-Lite subset rendered to SVG, PNG and PDF; saved charts and data sets per tenant",
        configKeys: ["max_body_bytes", "max_points", "font_directory"]
    )

    private let context: PluginContext
    private let routes: ChartRoutes

    /// Loads the fonts, reads the limits and registers the routes.
    init(context: PluginContext) throws {
        self.context = context
        let config = context.config
        var limits = ChartLimits()
        limits.maxRows = min(10_000_000, max(1, config.int("max_points", default: limits.maxRows)))
        let maxBody = max(1024, config.int("max_body_bytes", default: 64 << 20))
        let fonts = try FontContext(directory: config.string("font_directory", default: FontContext.defaultDirectory))
        routes = ChartRoutes(context: context, renderer: ChartRenderer(fonts: fonts, limits: limits), store: ChartStore(storage: context.storage))
        try routes.register(maxBodyBytes: UInt64(maxBody))
        context.logger.info("visualization ready", metadata: ["max_points": "\(limits.maxRows)", "max_body_bytes": "\(maxBody)"])
    }

    /// Creates or upgrades the chart and data set tables.
    func start() async throws {
        _ = try await context.storage.migrate(ChartStore.migrations)
    }

    func stop() async {}

    /// Healthy; reports how many charts were rendered.
    func health() -> HealthReport {
        HealthReport(status: .ok, detail: "rendered \(routes.rendered) charts")
    }
}

/// The C entry point the runtime looks up in `libPlexusVisualization.so`.
@_cdecl("plexus_plugin_entry_v1")
public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
    PluginExport.descriptor(for: VisualizationPlugin.self, host: host)
}
