import ChartEngine
import PlexusSDK

/// The visualization plugin: renders Vega-Lite-subset chart specs to SVG, PNG and PDF on the server.
///
/// Routes (see ``ChartRoutes``), every one for an authenticated caller, confined to the caller's tenant:
/// - `POST /api/v1/visualizations/render?format=svg|png|pdf`: renders the spec in the body (JSON, or a
///   ``ColumnUpload``: `PXC1`, a JSON header and float64 columns, for large series).
/// - `POST /api/v1/visualizations/charts`: saves a spec (201, `Location`); `?id=` names it, else an id is made.
/// - `GET /api/v1/visualizations/:id.svg|png|pdf`: renders a saved chart.
/// - `PUT /api/v1/visualizations/datasets/:name`: stores rows (a JSON array of objects) a spec reads
///   with `"data": {"name": "<name>"}`.
/// - `PUT|GET /api/v1/visualizations/dashboards/:id`, `GET .../:id/panels/<n>.svg|png|pdf`, `GET .../:id/report`
///   (a PDF, a page per panel) and the public, self-contained live page `GET .../:id/page`; stored reports
///   (`POST|GET .../:id/reports`, `GET .../:id/reports/:report`), made on the definition's cron `schedule`
///   too, each announced as `report.generated` (durable).
/// - `GET /console`: the public, self-contained operator console page (``ConsolePage``), signed in with the admin key.
///
/// Spec data may also be `{"topic": ..., "last"|"minutes": ..., "field": ...}` (recent bus events the plugin
/// keeps) or `{"service": ..., "payload": ...}` (another plugin's answer, an array of flat objects).
///
/// Parsing and rendering run off the loop. Bad specs answer problem+json naming the JSON `path`.
///
/// Configuration (`plugins.d/visualization.toml`): `max_body_bytes` (default 64 MiB), `max_points`
/// (default 2,000,000 rows per data source), `font_directory` (default the fonts-dejavu-core directory),
/// `window_topics` (comma-separated patterns whose events topic windows can read, default `#`: all),
/// `window_events` (events kept per topic, default 1000), `window_max_topics` (default 256) and
/// `report_check_seconds` (how often scheduled dashboard reports are checked, default 20).
@PluginActor
final class VisualizationPlugin: Plugin {
    /// Name `visualization`, version 0.1.0.
    static let manifest = PluginManifest(
        name: "visualization",
        version: "0.1.0",
        description: "Charts from a Vega-Lite subset rendered to SVG, PNG and PDF; saved charts and data sets per tenant",
        publishes: [TopicDeclaration("report.generated", description: "A dashboard's PDF report was made and stored: dashboard, report, pdf (its path), pages, bytes")],
        configKeys: ["max_body_bytes", "max_points", "font_directory", "window_topics", "window_events", "window_max_topics", "report_check_seconds"]
    )

    private let context: PluginContext
    private let routes: ChartRoutes
    private let dashboards: DashboardRoutes

    /// Loads the fonts, reads the limits and registers the routes.
    init(context: PluginContext) throws {
        self.context = context
        let config = context.config
        var limits = ChartLimits()
        limits.maxRows = min(10_000_000, max(1, config.int("max_points", default: limits.maxRows)))
        let maxBody = max(1024, config.int("max_body_bytes", default: 64 << 20))
        let fonts = try FontContext(directory: config.string("font_directory", default: FontContext.defaultDirectory))
        let windows = EventWindowBuffer(perTopic: min(TopicWindow.maxEvents, max(1, config.int("window_events", default: 1000))),
                                        maxTopics: min(100_000, max(1, config.int("window_max_topics", default: 256))))
        routes = ChartRoutes(context: context, renderer: ChartRenderer(fonts: fonts, limits: limits), store: ChartStore(storage: context.storage),
                             windows: windows)
        try routes.register(maxBodyBytes: UInt64(maxBody))
        dashboards = DashboardRoutes(charts: routes)
        try dashboards.register(maxBodyBytes: UInt64(maxBody))
        try ConsoleRoute.register(on: context.routes)
        context.logger.info("visualization ready", metadata: ["max_points": "\(limits.maxRows)", "max_body_bytes": "\(maxBody)"])
    }

    /// Creates or upgrades the chart and data set tables.
    func start() async throws {
        _ = try await context.storage.migrate(ChartStore.migrations)
        try routes.follow(context.config.string("window_topics", default: "#"))
        try await dashboards.startScheduler(every: min(3600, max(1, context.config.int("report_check_seconds", default: 20))))
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
