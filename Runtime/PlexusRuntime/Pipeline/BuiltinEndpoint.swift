/// A response produced by the runtime itself (built-in endpoints).
public struct BuiltinResponse {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        (self.status, self.headers, self.body) = (status, headers, body)
    }
}

/// Who may call a built-in endpoint.
public enum BuiltinAccess {
    /// Anyone (health checks, the OpenAPI document).
    case `public`
    /// Any verified caller (the event API).
    case authenticated
    /// The installation's admin only: the admin role with no tenant (plugins, reload, dead
    /// letters, metrics: what spans every tenant).
    case admin
    /// The admin role of any tenant, for endpoints that scope what they show and change to the
    /// caller's tenant (API keys, the audit log).
    case tenantAdmin
}

/// A built-in endpoint. It answers through `respond` (at once or later, on the loop), or
/// takes the connection over as a stream.
///
/// It describes itself for `/openapi.json` where it is registered: a summary, the status of
/// its success, and whether it streams (streams are left out: OpenAPI describes requests and
/// responses).
public struct BuiltinEndpoint {
    let access: BuiltinAccess
    let run: (HTTPExchange, @escaping (BuiltinResponse) -> Void) -> Void
    let summary: String?
    let successStatus: Int
    let streams: Bool

    /// An endpoint that answers synchronously.
    init(access: BuiltinAccess, summary: String? = nil, successStatus: Int = 200, handler: @escaping (HTTPExchange) -> BuiltinResponse) {
        self.init(access: access, summary: summary, successStatus: successStatus, deferred: { exchange, respond in respond(handler(exchange)) })
    }

    /// An endpoint that answers later (or streams).
    init(access: BuiltinAccess, summary: String? = nil, successStatus: Int = 200, streams: Bool = false,
         deferred: @escaping (HTTPExchange, @escaping (BuiltinResponse) -> Void) -> Void) {
        self.access = access
        self.summary = summary
        self.successStatus = successStatus
        self.streams = streams
        self.run = deferred
    }
}

/// A built-in endpoint as registered in the ``RouteRegistry``, beside the plugins' routes.
final class BuiltinRoute {
    /// The route id (shared numbering with plugin routes).
    let id: Int
    let method: String
    let pattern: RoutePattern
    let endpoint: BuiltinEndpoint

    init(id: Int, method: String, pattern: RoutePattern, endpoint: BuiltinEndpoint) {
        (self.id, self.method, self.pattern, self.endpoint) = (id, method, pattern, endpoint)
    }

    var access: BuiltinAccess { endpoint.access }
}
