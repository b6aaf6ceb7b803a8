import Foundation

/// `/ready` (public), `/health/plugins` and `/metrics` (the admin identity only, unless
/// `[observability] public = true`: they name plugins and why they fail).
enum ObservabilityEndpoints {
    /// Installs the endpoints; `readiness` answers `/ready`, `detailsPublic` is `[observability] public`.
    static func install(on routes: RouteRegistry, detailsPublic: Bool, readiness: @escaping () -> (ready: Bool, problems: [String]),
                        group: PluginGroup, health: HealthMonitor, loopLag: LoopLagMonitor, metrics: RuntimeMetrics, events: EventRouter) {
        let detailAccess: BuiltinAccess = detailsPublic ? .public : .admin
        routes.addBuiltin("GET", "/ready", BuiltinEndpoint(access: .public, summary: "Readiness: required plugins running") { _ in
            let (ready, problems) = readiness()
            return .json(status: ready ? 200 : 503, ["ready": ready, "problems": problems])
        })
        routes.addBuiltin("GET", "/health/plugins", BuiltinEndpoint(access: detailAccess, summary: "Health of each plugin") { [unowned group, unowned health, unowned loopLag] _ in
            let plugins = group.plugins.map { plugin -> [String: Any] in
                var entry: [String: Any] = ["name": plugin.name, "state": plugin.status.state.rawValue, "reason": plugin.status.reason]
                if let report = health.reports[plugin.name] {
                    entry["health"] = report.status
                    entry["detail"] = report.detail
                    entry["checked_at"] = ISO8601DateFormatter().string(from: report.checkedAt)
                    entry["check_duration_us"] = report.durationMicroseconds
                }
                return entry
            }
            return .json(status: 200, ["plugins": plugins, "loop_lag_ms": loopLag.lastLagMilliseconds,
                                      "loop_lag_max_ms": loopLag.maxLagMilliseconds])
        })
        routes.addBuiltin("GET", "/metrics", BuiltinEndpoint(access: detailAccess, summary: "Prometheus metrics") { [unowned group, unowned metrics, unowned events] _ in
            for plugin in group.plugins where plugin.manifest != nil {
                metrics.setPluginState(plugin.name, plugin.status.state)
            }
            metrics.recordBus(events)
            return BuiltinResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")],
                                              body: metrics.render())
        })
    }
}
