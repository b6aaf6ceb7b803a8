import ComplianceEngine
import Foundation
import PlexusSDK

/// The compliance plugin: personal data and rule-pack checks over text and .docx, per tenant.
///
/// Routes (all tenant-scoped):
/// - `POST /api/v1/compliance/scan`: text, JSON `{"text", "packs"}` or a .docx; entities, violations, packs.
/// - `POST /api/v1/compliance/redact`: JSON `{"text", "packs", "mode": "mask"|"type"|"hash"}`; the redacted text and the map.
/// - `PUT`/`GET /api/v1/compliance/packs/:id` (`PUT` needs the `admin` role): a tenant's own pack, tested before it is kept.
/// - `POST /api/v1/compliance/documents/:id/versions`: checks a new version, re-checking only changed clauses.
/// - `GET /api/v1/compliance/documents/:id`: status and findings of every checked version.
///
/// Bus service: `compliance.check` checks a text (see ``registerCheckService()``).
///
/// Events: a durable subscription (group `compliance`) to `document.changed` fetches the new
/// version's text from the `doccompare.version` service and checks it the same way;
/// `compliance.checked` after every check, `compliance.violation` when something is violated.
///
/// Configuration (`plugins.d/compliance.toml`): `packs_dir` (default `plugins.d/compliance`),
/// `max_body_bytes` (default 16 MiB; the runtime answers 413 beyond it).
@PluginActor
public final class CompliancePlugin: Plugin {
    public static let manifest = PluginManifest(
        name: "compliance",
        version: "1.0.0",
        description: "Compliance checks: personal data recognisers and versioned rule packs per tenant",
        publishes: [
            TopicDeclaration("compliance.checked", description: "A document was checked: {tenant, packs, entities, violations}"),
            TopicDeclaration("compliance.violation", description: "A check found violations: {tenant, violations}"),
        ],
        configKeys: ["packs_dir", "max_body_bytes"]
    )

    let context: PluginContext
    let packsDirectory: String
    let maxBodyBytes: Int
    /// The packs shipped in `packs_dir`, by id (loaded in `start`).
    var shipped: [String: RulePack] = [:]
    /// Tenant packs already parsed and tested, by tenant and storage key, with the stored version they came from.
    var tenantPacks: [String: [String: (version: Int64, pack: RulePack)]] = [:]

    public init(context: PluginContext) throws {
        self.context = context
        packsDirectory = context.config.string("packs_dir", default: "plugins.d/compliance")
        maxBodyBytes = max(1, context.config.int("max_body_bytes", default: 16 << 20))
        try registerRoutes()
        try registerDocumentRoutes()
        try registerCheckService()
    }

    /// Loads the shipped packs off the loop; a pack that fails to load fails the plugin, naming it.
    public func start() async throws {
        let directory = packsDirectory
        shipped = try await context.offLoop { try PackDirectory.load(directory) }
        _ = try await context.storage.migrate(Self.migrations)
        try subscribeToDocumentChanges()
        context.logger.info("compliance ready", metadata: ["packs": "\(shipped.values.map(\.reference).sorted())"])
    }

    public func health() -> HealthReport { HealthReport(status: .ok, detail: "\(shipped.count) packs") }
}
