/// One entry of the audit log: who did what to what, when, and how it ended.
public struct AuditRecord: Sendable, Hashable, Codable {
    /// The log's number for the record, increasing in append order. Assigned by `AuditLog.append`
    /// (whatever is passed in is replaced).
    public var id: Int64
    /// When it happened, in Unix seconds.
    public var time: Double
    /// Who: a subject, an API key id, `anonymous`, or `ip:1.2.3.4`.
    public var actor: String
    /// What kind of identity `actor` is.
    public var actorKind: AuditActorKind
    /// What was attempted, e.g. `auth.failure`, `admin.reload`.
    public var action: AuditAction
    /// What it was done to (a plugin, a route, a key id), if anything.
    public var target: String?
    /// How it ended.
    public var outcome: AuditOutcome
    /// The request that caused it, if any.
    public var requestID: String?
    /// The tenant it happened in, if any.
    public var tenant: String?
    /// Free text: the reason for a failure, the parameters of an admin action.
    public var detail: String

    /// Creates a record; `id` is assigned by `AuditLog.append`.
    public init(
        id: Int64 = 0, time: Double, actor: String, actorKind: AuditActorKind, action: AuditAction,
        target: String? = nil, outcome: AuditOutcome, requestID: String? = nil, tenant: String? = nil,
        detail: String = ""
    ) {
        self.id = id
        self.time = time
        self.actor = actor
        self.actorKind = actorKind
        self.action = action
        self.target = target
        self.outcome = outcome
        self.requestID = requestID
        self.tenant = tenant
        self.detail = detail
    }
}

/// How an audited action ended.
public enum AuditOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// It was done.
    case success
    /// It was attempted and failed (bad credentials, an error).
    case failure
    /// It was refused by policy (missing role, scope or tenant).
    case denied
}

/// An audited action, dotted from general to specific (`admin.plugin.release`).
///
/// Use the static members; new actions are added as new members, so a typo is a compile error
/// rather than a row nobody queries for.
public struct AuditAction: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The dotted name stored in the log.
    public let rawValue: String

    /// An action with that dotted name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A credential was presented and rejected (bad signature, expired, unknown key).
    public static let authFailure = AuditAction(rawValue: "auth.failure")
    /// An authenticated caller was refused for lack of a role, scope or tenant.
    public static let authDenied = AuditAction(rawValue: "auth.denied")
    /// An API key was created.
    public static let apiKeyCreate = AuditAction(rawValue: "auth.apikey.create")
    /// An API key was revoked.
    public static let apiKeyRevoke = AuditAction(rawValue: "auth.apikey.revoke")
    /// An administrator reloaded the configuration or the plugin set.
    public static let adminReload = AuditAction(rawValue: "admin.reload")
    /// An administrator released (unloaded) a plugin.
    public static let adminPluginRelease = AuditAction(rawValue: "admin.plugin.release")
    /// An administrator loaded a plugin.
    public static let adminPluginLoad = AuditAction(rawValue: "admin.plugin.load")
    /// A circuit breaker opened.
    public static let circuitOpen = AuditAction(rawValue: "circuit.open")
    /// A circuit breaker closed again.
    public static let circuitClose = AuditAction(rawValue: "circuit.close")

    /// The dotted name.
    public var description: String { rawValue }

    /// Decodes from a bare string.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes as a bare string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// What kind of identity an audit record's actor is.
public struct AuditActorKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The name stored in the log.
    public let rawValue: String

    /// A kind with that name.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// A verified JWT subject.
    public static let subject = AuditActorKind(rawValue: "subject")
    /// An API key (the actor is its id, never the secret).
    public static let apiKey = AuditActorKind(rawValue: "api_key")
    /// No credential was presented.
    public static let anonymous = AuditActorKind(rawValue: "anonymous")
    /// Only the client address is known (`ip:1.2.3.4`), e.g. for a rejected credential.
    public static let ip = AuditActorKind(rawValue: "ip")
    /// The runtime itself (a breaker opening, a supervisor reload).
    public static let system = AuditActorKind(rawValue: "system")
    /// Named by a plugin (ABI 1.8 `audit_record`): the plugin says who asked; the runtime did not verify it.
    public static let plugin = AuditActorKind(rawValue: "plugin")

    /// The name.
    public var description: String { rawValue }

    /// Decodes from a bare string.
    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    /// Encodes as a bare string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
