/// Why the gateway answers a request itself instead of handing it to the plugin.
struct GatewayRefusal {
    let status: Int
    let detail: String
    var headers: [(String, String)] = []

    /// 401 with the RFC 6750 challenge; `error` is set when credentials were sent but are invalid.
    static func unauthenticated(_ detail: String, error: String? = nil) -> GatewayRefusal {
        var challenge = #"Bearer realm="plexus""#
        if let error {
            challenge += #", error="\#(error)", error_description="\#(detail.replacingOccurrences(of: "\"", with: "'"))""#
        }
        return GatewayRefusal(status: 401, detail: detail, headers: [("WWW-Authenticate", challenge)])
    }

    /// 403: the caller is known but lacks a right.
    static func forbidden(_ detail: String, scope: String? = nil) -> GatewayRefusal {
        guard let scope else { return GatewayRefusal(status: 403, detail: detail) }
        return GatewayRefusal(status: 403, detail: detail,
                              headers: [("WWW-Authenticate", #"Bearer realm="plexus", error="insufficient_scope", scope="\#(scope)""#)])
    }
}
