import ChartEngine
import Foundation
import PlexusSDK

/// `GET /console`: the operator console page (``ConsolePage``). Public like the dashboard page: it holds
/// no data and reads everything with the admin key the operator types in.
enum ConsoleRoute {
    static let path = "/console"

    @PluginActor
    static func register(on routes: RouteRegistrar) throws {
        try routes.get(path, options: RouteOptions(access: .public, summary: "The operator console (HTML, self-contained; sign in with the admin key)")) { _ in
            let nonce = UUID().uuidString.replacingOccurrences(of: "-", with: "")
            return Response(headers: Headers([("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                                              ("Content-Security-Policy", ConsolePage.policy(nonce: nonce))]),
                            body: Array(ConsolePage.html(nonce: nonce).utf8))
        }
    }
}
