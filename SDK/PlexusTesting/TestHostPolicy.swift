import PlexusSDK

/// The gateway's route rules, checked in memory for a ``TestHost``: what a route declared in its
/// ``RouteOptions`` against who calls. Authentication itself (JWT, API keys) and the runtime-wide
/// policies (rate limits, breakers, CORS) are the runtime's and are tested over the wire.
public enum TestHostPolicy {
    /// Why the gateway would refuse a call before the handler runs.
    public struct Refusal: Sendable, Equatable {
        /// 401, 403 or 413.
        public let status: Int
        /// What is wrong.
        public let detail: String
        /// Extra headers (the `WWW-Authenticate` challenge).
        public let headers: [String]

        var headerPairs: [(String, String)] { headers.map { ("WWW-Authenticate", $0) } }
    }

    /// The refusal of `caller` on `route` (with the parameters it captured), or nil when the call passes.
    public static func refusal(_ route: RouteDefinition, _ parameters: [String: String], _ caller: TestCaller?, bodyBytes: Int) -> Refusal? {
        let options = route.options
        guard let caller else {
            guard options.access == .public else {
                return Refusal(status: 401, detail: "this route needs credentials", headers: [#"Bearer realm="plexus""#])
            }
            return bodyRefusal(route, bodyBytes)
        }
        if !options.roles.isEmpty, !options.roles.contains(where: caller.roles.contains) {
            return Refusal(status: 403, detail: "this route needs one of the roles \(options.roles.joined(separator: ", "))", headers: [])
        }
        if let missing = options.scopes.first(where: { !caller.scopes.contains($0) }) {
            return Refusal(status: 403, detail: "this route needs scope '\(missing)'",
                           headers: [#"Bearer realm="plexus", error="insufficient_scope", scope="\#(options.scopes.joined(separator: " "))""#])
        }
        if options.tenantRequired {
            guard let tenant = caller.tenant, !tenant.isEmpty else {
                return Refusal(status: 403, detail: "this route needs a caller that belongs to a tenant", headers: [])
            }
            if let named = parameters["tenant"], named != tenant {
                return Refusal(status: 403, detail: "the path names tenant '\(named)', the caller belongs to '\(tenant)'", headers: [])
            }
        }
        return bodyRefusal(route, bodyBytes)
    }

    private static func bodyRefusal(_ route: RouteDefinition, _ bodyBytes: Int) -> Refusal? {
        let bound = route.maxBodyBytes > 0 ? route.maxBodyBytes : route.options.maxBodyBytes
        guard bound > 0, UInt64(bodyBytes) > bound else { return nil }
        return Refusal(status: 413, detail: "the body has \(bodyBytes) bytes, this route takes at most \(bound)", headers: [])
    }
}
