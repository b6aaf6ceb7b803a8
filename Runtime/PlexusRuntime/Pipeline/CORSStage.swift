/// Cross-origin requests (`[cors]`): answers preflights, and adds the CORS headers for an
/// allowed `Origin` to whatever answer a request gets. Never refuses an actual request: the
/// browser enforces what the headers say.
final class CORSStage: RequestStage {
    let settings: GatewaySettings.CORS

    init(settings: GatewaySettings.CORS) {
        self.settings = settings
    }

    var isEnabled: Bool { settings.isEnabled }

    func screen(_ request: RequestContext, now: Double) -> GatewayRefusal? {
        guard settings.isEnabled, let origin = request.header(.origin).map({ String(decoding: $0, as: UTF8.self) }),
              settings.allows(origin) else { return nil }
        request.extraHeaders.append(("Access-Control-Allow-Origin", settings.allowedOrigins.contains("*") ? "*" : origin))
        request.extraHeaders.append(("Vary", "Origin"))
        request.extraHeaders.append(("Access-Control-Expose-Headers", "RateLimit, RateLimit-Policy, Retry-After, X-Request-Id, WWW-Authenticate"))
        if settings.allowCredentials { request.extraHeaders.append(("Access-Control-Allow-Credentials", "true")) }
        return nil
    }

    /// The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method` and an
    /// `Origin`) on a path that allows `allowedMethods`, or nil when the request is not one.
    func preflight(_ request: RequestContext, allowedMethods: [String]) -> (status: Int, headers: [(String, String)])? {
        guard request.method == "OPTIONS", request.header("access-control-request-method") != nil,
              let origin = request.header(.origin).map({ String(decoding: $0, as: UTF8.self) }) else { return nil }
        guard settings.isEnabled, settings.allows(origin) else {
            return (403, [])
        }
        var headers: [(String, String)] = [
            ("Access-Control-Allow-Origin", settings.allowedOrigins.contains("*") ? "*" : origin), ("Vary", "Origin"),
            ("Access-Control-Allow-Methods", allowedMethods.joined(separator: ", ")),
            ("Access-Control-Allow-Headers", settings.allowedHeaders),
            ("Access-Control-Max-Age", "\(settings.maxAgeSeconds)"),
        ]
        if settings.allowCredentials { headers.append(("Access-Control-Allow-Credentials", "true")) }
        return (204, headers)
    }
}
