import Foundation

/// `/ready` (public), `/health/plugins` and `/metrics` (the admin identity only, unless
/// `[observability] public = true`: they name plugins and why they fail).
enum ObservabilityEndpoints {
    static func install(on server: HTTPServer, runtime: Runtime) {
        let detailAccess: HTTPServer.BuiltinAccess = runtime.config.observabilityPublic ? .public : .admin
        server.builtins.append(("GET", "/ready", HTTPServer.Builtin(access: .public) { [unowned runtime] _ in
            let (ready, problems) = runtime.readiness
            return .json(status: ready ? 200 : 503, ["ready": ready, "problems": problems])
        }))
        server.builtins.append(("GET", "/health/plugins", HTTPServer.Builtin(access: detailAccess) { [unowned runtime] _ in
            let plugins = runtime.group.plugins.map { plugin -> [String: Any] in
                var entry: [String: Any] = ["name": plugin.name, "state": plugin.status.state.rawValue, "reason": plugin.status.reason]
                if let report = runtime.health.reports[plugin.name] {
                    entry["health"] = report.status
                    entry["detail"] = report.detail
                    entry["checked_at"] = ISO8601DateFormatter().string(from: report.checkedAt)
                    entry["check_duration_us"] = report.durationMicroseconds
                }
                return entry
            }
            return .json(status: 200, ["plugins": plugins, "loop_lag_ms": runtime.loopLag.lastLagMilliseconds,
                                      "loop_lag_max_ms": runtime.loopLag.maxLagMilliseconds])
        }))
        server.builtins.append(("GET", "/metrics", HTTPServer.Builtin(access: detailAccess) { [unowned runtime] _ in
            for plugin in runtime.group.plugins where plugin.manifest != nil {
                runtime.metrics.setPluginState(plugin.name, plugin.status.state)
            }
            runtime.metrics.recordBus(runtime.events)
            return HTTPServer.BuiltinResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                              body: runtime.metrics.render())
        }))
    }
}
