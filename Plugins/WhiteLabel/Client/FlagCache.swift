import Foundation
import PlexusSDK
import WhiteLabelEngine

/// A tenant's flags as `flags.changed` carries them and `whitelabel.flags.snapshot` answers.
public struct FlagSnapshot: Codable, Sendable {
    public let tenant: String
    public let plan: String?
    public let flags: [FlagDefinition]

    public init(tenant: String, plan: String?, flags: [FlagDefinition]) { (self.tenant, self.plan, self.flags) = (tenant, plan, flags) }
}

/// The flag helper for other plugins: a local copy of the tenants' flags, fetched once per
/// tenant from the white-label plugin (`whitelabel.flags.snapshot`) and then kept current from
/// `flags.changed` events, so evaluating a flag costs no round trip.
///
/// ```swift
/// let flags = try FlagCache(context: context)
/// try await flags.load(tenant: "acme")
/// if flags.isEnabled("new-checkout", tenant: "acme", context: FlagContext(userId: user)) { … }
/// ```
@PluginActor
public final class FlagCache {
    /// The service that answers a tenant's snapshot.
    public static let snapshotService = "whitelabel.flags.snapshot"

    private let context: PluginContext
    private var table = FlagTable()
    /// How many `flags.changed` events were applied.
    public private(set) var updates = 0

    /// Subscribes to `flags.changed`.
    public init(context: PluginContext) throws {
        self.context = context
        try context.bus.subscribe("flags.changed") { [weak self] event in
            guard let self, let snapshot = try? event.decode(FlagSnapshot.self) else { return }
            // The event's tenant is the one the runtime recorded; a payload naming another is ignored.
            guard event.tenant.isEmpty || event.tenant == snapshot.tenant else { return }
            self.apply(snapshot)
        }
    }

    /// Fetches `tenant`'s flags once (later changes arrive as events).
    public func load(tenant: String) async throws {
        let reply = try await context.services.call(Self.snapshotService, payload: Array(try JSONEncoder().encode(["tenant": tenant])))
        apply(try JSONDecoder().decode(FlagSnapshot.self, from: Data(reply)))
    }

    /// Replaces a tenant's copy (flags that do not compile are skipped).
    public func apply(_ snapshot: FlagSnapshot) {
        table.replace(tenant: snapshot.tenant, plan: snapshot.plan, definitions: snapshot.flags)
        updates += 1
    }

    /// The flag's answer (off when the flag or tenant is unknown here). The tenant and its plan
    /// are filled in from the copy.
    public func evaluate(_ name: String, tenant: String, context: FlagContext, now: Double = Date().timeIntervalSince1970) -> FlagResult {
        table.evaluate(name, tenant: tenant, context: context, now: now)
    }

    /// A handle on one flag of one tenant for a hot path: it looks nothing up when evaluated,
    /// and later `flags.changed` events keep it current.
    public func handle(_ name: String, tenant: String) -> FlagHandle {
        table.handle(name, tenant: tenant)
    }

    /// Whether the flag is on.
    public func isEnabled(_ name: String, tenant: String, context: FlagContext) -> Bool {
        evaluate(name, tenant: tenant, context: context).enabled
    }
}
