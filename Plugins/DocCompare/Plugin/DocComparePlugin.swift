import DocDiff
import PlexusSDK

/// The document comparison plugin: compares two versions of a text or .docx document.
///
/// Routes (both take a JSON body or `multipart/form-data`, see ``CompareRequest``):
/// - `POST /api/v1/documents/compare`: the edit script as JSON, a unified diff, or an HTML redline (`format`).
/// - `POST /api/v1/documents/redline`: always the HTML redline.
///
/// Stored versions per tenant (in the plugin's own storage, see ``VersionStore`` and ``VersionRoutes``):
/// - `POST /api/v1/documents/:tenant/:document/versions`: stores a version (201, `Location`).
/// - `GET /api/v1/documents/:tenant/:document/versions`: the history.
/// - `GET /api/v1/documents/:tenant/:document/versions/:version`: the stored text.
/// - `GET /api/v1/documents/:tenant/:document/compare?from=&to=`: compares two stored versions.
///
/// Events: `document.changed` (durable) for every stored version, `document.compared` for every comparison.
/// Bus services: `doccompare.version` returns a stored version's text (see ``registerVersionService()``);
/// `doccompare.compare` compares two stored versions (see ``registerCompareService()``).
///
/// Configuration (`plugins.d/doccompare.toml`):
/// - `max_input_bytes` (default 16 MiB): the largest document, raw or extracted from a .docx (413 beyond).
/// - `max_body_bytes` (default 3 × `max_input_bytes` + 64 KiB, room for two base64 documents): the largest
///   request body; the server itself answers 413 beyond it.
///
/// Parsing, decoding and diffing run off the loop thread.
@PluginActor
public final class DocComparePlugin: Plugin {
    /// Name `doccompare`, version 1.1.0.
    public static let manifest = PluginManifest(
        name: "doccompare",
        version: "1.1.0",
        description: "Document comparison: edit scripts, unified diffs and redlines of text and .docx; stored versions per tenant",
        publishes: [
            TopicDeclaration("document.changed",
                             description: "A document version was stored (durable): {tenant, document, version, bytes}"),
            TopicDeclaration("document.compared",
                             description: "A comparison ran: statistics, moves, granularity, algorithm, and tenant/document/from/to for stored versions"),
        ],
        configKeys: ["max_input_bytes", "max_body_bytes"]
    )

    /// The default `max_input_bytes`: 16 MiB.
    static let defaultMaxInputBytes = 16 << 20

    let context: PluginContext
    let maxInputBytes: Int
    let store: VersionStore
    var served = 0

    /// Reads the limits and registers the routes.
    public init(context: PluginContext) throws {
        self.context = context
        store = VersionStore(storage: context.storage)
        let maxInput = max(1, context.config.int("max_input_bytes", default: Self.defaultMaxInputBytes))
        maxInputBytes = maxInput
        let bodyLimit = max(1, context.config.int("max_body_bytes", default: 3 * maxInput + (64 << 10)))
        try context.routes.post("/api/v1/documents/compare", options: RouteOptions(summary: "Compares two documents (JSON or multipart)"), maxBodyBytes: UInt64(bodyLimit)) { [unowned self] request async throws in
            try await compare(request, forceHTML: false)
        }
        try context.routes.post("/api/v1/documents/redline", options: RouteOptions(summary: "An HTML redline of two documents"), maxBodyBytes: UInt64(bodyLimit)) { [unowned self] request async throws in
            try await compare(request, forceHTML: true)
        }
        try registerVersionRoutes(maxBodyBytes: UInt64(bodyLimit))
        try registerVersionService()
        try registerCompareService()
        context.logger.info("doccompare ready", metadata: ["max_input_bytes": "\(maxInput)", "max_body_bytes": "\(bodyLimit)"])
    }

    /// Creates or upgrades the version table.
    public func start() async throws {
        let applied = try await context.storage.migrate(VersionStore.migrations)
        if !applied.isEmpty { context.logger.info("doccompare storage migrated", metadata: ["applied": "\(applied)"]) }
    }

    /// Runs one comparison on the runtime's thread pool and publishes `document.compared`.
    private func compare(_ request: Request, forceHTML: Bool) async throws -> Response {
        let limit = maxInputBytes
        let outcome = try await context.offLoop {
            // The comparison's buffers are freed when `respond` returns; hand them back to the system.
            defer { MemoryRelease.returnFreedMemory() }
            return try CompareService.respond(to: request, forceHTML: forceHTML, maxInputBytes: limit)
        }
        served += 1
        await publishCompared(outcome.summary, tenant: "")
        return outcome.response
    }

    /// Publishes `document.compared`; a refused publish is logged, the comparison still answers.
    func publishCompared(_ summary: CompareSummary, tenant: String) async {
        do {
            let payload = Array(try CompareService.encoder.encode(summary))
            try await context.bus.publish("document.compared", payload: payload, contentType: "application/json", tenant: tenant)
        } catch {
            context.logger.warning("document.compared was not published", metadata: ["error": "\(error)"])
        }
    }

    /// Healthy; reports how many comparisons were answered.
    public func health() -> HealthReport {
        HealthReport(status: .ok, detail: "answered \(served) comparisons")
    }
}
