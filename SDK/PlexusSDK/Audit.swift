/// How an audited action ended.
public enum AuditOutcome: String, Sendable, Equatable {
    case success, failure, denied
}

/// One record a plugin writes to the runtime's audit log (ABI 1.8).
public struct AuditEntry: Sendable, Equatable {
    /// What was done, e.g. `flag.put` (1 to 64 bytes of a-z, 0-9, '.', '_', '-'); the runtime
    /// records it as `plugin.<plugin name>.<action>`.
    public var action: String
    /// Who asked (a caller's subject); nil: the plugin itself.
    public var actor: String?
    /// The tenant the change belongs to.
    public var tenant: String?
    /// What it was done to, e.g. the flag's name.
    public var target: String?
    /// The request that asked for it (its `X-Request-Id`).
    public var requestID: String?
    public var outcome: AuditOutcome
    /// Free text.
    public var detail: String?

    /// An entry; see the properties.
    public init(action: String, actor: String? = nil, tenant: String? = nil, target: String? = nil, requestID: String? = nil,
                outcome: AuditOutcome = .success, detail: String? = nil) {
        (self.action, self.actor, self.tenant, self.target, self.requestID, self.outcome, self.detail) = (action, actor, tenant, target, requestID, outcome, detail)
    }

    /// An entry for a change `request`'s caller asked for: its subject, tenant and request id.
    public init(action: String, for request: Request, target: String? = nil, outcome: AuditOutcome = .success, detail: String? = nil) {
        self.init(action: action, actor: request.caller?.subject, tenant: request.tenant, target: target, requestID: request.requestID,
                  outcome: outcome, detail: detail)
    }
}

/// Where audit records go: the runtime's audit log (ABI 1.8) or a test host.
@PluginActor
public protocol AuditDriver: AnyObject {
    /// Writes `entry`, or throws ``PluginError`` naming what the log refused.
    func record(_ entry: AuditEntry) throws
}

/// A runtime without the audit host call (older than ABI 1.8).
public final class UnsupportedAudit: AuditDriver {
    public nonisolated init() {}
    public func record(_ entry: AuditEntry) throws { throw PluginError.unsupported("the audit log (ABI 1.8 or newer needed)") }
}

/// A plugin's handle on the runtime's audit log (ABI 1.8): the changes it makes, beside the
/// gateway's own records, read by operators at `GET /admin/audit`.
@PluginActor
public struct AuditTrail {
    let driver: any AuditDriver

    /// Writes `entry` (the runtime adds the time and prefixes the action with `plugin.<name>.`).
    public func record(_ entry: AuditEntry) throws { try driver.record(entry) }
}
