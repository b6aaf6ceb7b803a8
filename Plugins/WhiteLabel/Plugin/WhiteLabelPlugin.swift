import Foundation
import PlexusSDK
import WhiteLabelEngine

/// The white-label plugin: tenants and their domains, branding, feature flags and layered
/// settings, managed at run time. Domains and suspensions reach the gateway through the host's
/// tenant directory (ABI 1.7; the operator grants it with `[tenants] directory_plugins`).
///
/// Everything is held in memory, loaded from the plugin's storage at start and written through
/// on every change (storage first: a write that fails changes nothing).
@PluginActor
public final class WhiteLabelPlugin: Plugin {
    public static let manifest = PluginManifest(
        name: "whitelabel", version: "1.0.0", description: "Tenants, domains, branding, feature flags and layered settings",
        publishes: [
            TopicDeclaration(Topics.flagsChanged, description: "A tenant's flags changed: {tenant, flags} (every definition)"),
            TopicDeclaration(Topics.settingsChanged, description: "A tenant's setting changed: {tenant, key, version, layer}"),
            TopicDeclaration(Topics.onboarded, description: "A tenant was onboarded: {tenant, domains, plan}"),
            TopicDeclaration(Topics.tenantChanged, description: "A tenant was created, changed or deleted: {tenant, status}"),
        ],
        configKeys: ["admin_role", "platform_name"]
    )

    /// The topics this plugin publishes.
    public enum Topics {
        public static let flagsChanged = "flags.changed"
        public static let settingsChanged = "tenant.settings.changed"
        public static let onboarded = "tenant.onboarded"
        public static let tenantChanged = "tenant.changed"
    }

    let context: PluginContext
    let state: WhiteLabelState
    /// The role of operators and tenant admins (`admin_role`, default `admin`).
    let adminRole: String
    let platformName: String

    public init(context: PluginContext) throws {
        self.context = context
        adminRole = context.config.string("admin_role", default: "admin")
        platformName = context.config.string("platform_name", default: "Plexus")
        state = WhiteLabelState(storage: context.storage)
        try registerTenantRoutes()
        try registerFlagRoutes()
        try registerSettingRoutes()
        try registerBrandingRoutes()
        try registerOnboarding()
    }

    public func start() async throws {
        try await state.load()
        try publishDirectory()
    }

    /// Hands every tenant's domains and status to the gateway.
    func publishDirectory() throws {
        let entries = state.registry.all.map { TenantDirectoryEntry(tenant: $0.id, hosts: $0.domains, suspended: $0.status == .suspended) }
        try context.tenancy.publish(entries)
    }

    // MARK: Who may do what

    /// The installation's operator: the admin role and no tenant.
    func isOperator(_ request: Request) -> Bool {
        guard let caller = request.caller else { return false }
        return caller.tenant == nil && caller.roles.contains(adminRole)
    }

    /// An admin of the request's verified tenant (or the operator).
    func isTenantAdmin(_ request: Request) -> Bool {
        request.caller?.roles.contains(adminRole) ?? false
    }

    func requireOperator(_ request: Request) throws {
        guard isOperator(request) else { throw HTTPError.forbidden("this needs the installation's operator (the '\(adminRole)' role with no tenant)") }
    }

    /// The verified tenant, which must exist here.
    func requireKnownTenant(_ request: Request) throws -> Tenant {
        let id = try request.requireTenant()
        guard let tenant = state.registry[id] else { throw HTTPError.notFound("tenant '\(id)' is not managed by the white-label plugin") }
        return tenant
    }

    /// Runs `body`, answering engine errors as problem+json (400, 404, 409).
    func mapped<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw Self.http(error) }
    }

    func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw Self.http(error) }
    }

    static func http(_ error: Error) -> Error {
        switch error {
        case let error as ValidationError: HTTPError.badRequest(error.description)
        case let error as ConflictError: HTTPError.conflict(error.description)
        case let error as NotFoundError: HTTPError.notFound(error.description)
        case let error as DecodingError: HTTPError.badRequest(Self.describe(error))
        default: error
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context): "field '\(path(context.codingPath + [key]))' is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "field '\(path(context.codingPath))' has the wrong type: \(context.debugDescription)"
        case .dataCorrupted(let context): "the body is not valid: \(context.debugDescription)"
        @unknown default: "the body is not valid"
        }
    }

    /// `flags[0].name`.
    static func path(_ keys: [CodingKey]) -> String {
        keys.reduce("") { text, key in key.intValue.map { "\(text)[\($0)]" } ?? (text.isEmpty ? key.stringValue : "\(text).\(key.stringValue)") }
    }

    /// Decodes a JSON body into `T`, 400 naming the field.
    func decode<T: Decodable>(_ type: T.Type, _ request: Request) throws -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(request.body)) } catch { throw Self.http(error) }
    }

    /// Publishes `value` as JSON on `topic` for `tenant` (its SSE clients only).
    /// Writes a change to the runtime's audit log (ABI 1.8) as `plugin.whitelabel.<action>`. A
    /// refused or unsupported record is logged, never failing the change it describes.
    func audit(_ action: String, actor: String?, tenant: String?, target: String?, requestID: String? = nil, detail: String? = nil) {
        do {
            try context.audit.record(AuditEntry(action: action, actor: actor?.isEmpty == true ? nil : actor, tenant: tenant, target: target,
                                                requestID: requestID, detail: detail))
        } catch {
            context.logger.warning("audit record \(action) not written: \(error)")
        }
    }

    /// ``audit(_:actor:tenant:target:requestID:detail:)`` for a change `request`'s caller made.
    func audit(_ action: String, _ request: Request, tenant: String?, target: String?, detail: String? = nil) {
        audit(action, actor: request.caller?.subject, tenant: tenant, target: target, requestID: request.requestID, detail: detail)
    }

    func publish<T: Encodable>(_ topic: String, _ value: T, tenant: String) async {
        do { _ = try await context.bus.publish(topic, json: value, tenant: tenant) } catch {
            context.logger.warning("publishing \(topic) failed: \(error)")
        }
    }
}
