/// What to read from the audit log: filters (all optional, combined with AND), a page size and a
/// cursor. Results are newest first.
public struct AuditQuery: Sendable, Hashable {
    /// The largest page size; larger limits are clamped to it.
    public static let maximumLimit = 1000

    /// Only records at or after this Unix time.
    public var since: Double?
    /// Only records strictly before this Unix time.
    public var until: Double?
    /// Only records with this action, or with actions under this prefix.
    public var action: AuditActionFilter?
    /// Only records by this actor (exact).
    public var actor: String?
    /// Only records with this outcome.
    public var outcome: AuditOutcome?
    /// Only records of this request.
    public var requestID: String?
    /// Only records in this tenant.
    public var tenant: String?
    /// Page size, 1...1000 (clamped); default 100.
    public var limit: Int
    /// Cursor: only records with an id below this one (pass the previous page's `nextCursor`).
    public var before: Int64?

    /// Creates a query; with no arguments, the newest 100 records.
    public init(
        since: Double? = nil, until: Double? = nil, action: AuditActionFilter? = nil, actor: String? = nil,
        outcome: AuditOutcome? = nil, requestID: String? = nil, tenant: String? = nil, limit: Int = 100,
        before: Int64? = nil
    ) {
        self.since = since
        self.until = until
        self.action = action
        self.actor = actor
        self.outcome = outcome
        self.requestID = requestID
        self.tenant = tenant
        self.limit = limit
        self.before = before
    }

    /// `limit` clamped to 1...`maximumLimit`.
    public var effectiveLimit: Int { min(max(limit, 1), Self.maximumLimit) }
}

/// How an `AuditQuery` matches actions.
public enum AuditActionFilter: Sendable, Hashable {
    /// Exactly this action.
    case exact(AuditAction)
    /// Every action whose name starts with this text, e.g. `auth.` (case-sensitive).
    case prefix(String)
}

/// One page of audit records, newest first.
public struct AuditPage: Sendable, Hashable {
    /// The records, newest (highest id) first.
    public let records: [AuditRecord]
    /// Pass as `AuditQuery.before` to get the next (older) page; nil when there is none.
    public let nextCursor: Int64?

    /// Creates a page; the log builds these, the initializer is public for tests and adapters.
    public init(records: [AuditRecord], nextCursor: Int64?) {
        self.records = records
        self.nextCursor = nextCursor
    }
}
