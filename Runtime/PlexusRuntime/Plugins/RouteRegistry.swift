import CPlexusABI

/// Collects the routes plugins register and refuses collisions between them, naming both sides.
final class RouteRegistry {
    private var byShape: [String: RegisteredRoute] = [:]

    /// Adds a route for `plugin`, or returns why not (with the ABI 1.4 status code it is reported with).
    func add(_ spec: plexus_route_spec, for plugin: PluginInstance) -> HostCallFailure? {
        guard let methodC = spec.method, let patternC = spec.pattern, let handler = spec.handler else {
            return HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "route spec needs a method, a pattern and a handler")
        }
        let method = String(cString: methodC).uppercased()
        guard !method.isEmpty, method.utf8.allSatisfy({ (65...90).contains($0) }) else {
            return HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "method '\(method)' is not an HTTP method token")
        }
        let pattern: RoutePattern
        do { pattern = try RoutePattern(String(cString: patternC)) } catch { return HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "\(error)") }
        if let reserved = AdminEndpoints.reservedPrefixes.first(where: { pattern.text == $0 || pattern.text.hasPrefix($0 + "/") }) {
            return HostCallFailure(PLEXUS_E_REFUSED, "\(method) \(pattern) of plugin '\(plugin.name)' is under \(reserved), which the runtime reserves for itself")
        }
        let policy: RoutePolicy
        do { policy = try RoutePolicy(spec) } catch { return HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "\(method) \(pattern): \(error)") }
        let key = method + " " + pattern.shape
        if let existing = byShape[key] {
            if existing.plugin === plugin {
                return HostCallFailure(PLEXUS_E_ALREADY_EXISTS, "\(method) \(pattern) is registered twice by plugin '\(plugin.name)'")
            }
            return HostCallFailure(PLEXUS_E_ALREADY_EXISTS, "\(method) \(pattern) of plugin '\(plugin.name)' collides with \(existing.method) \(existing.pattern) of plugin '\(existing.plugin.name)'")
        }
        let route = RegisteredRoute(method: method, pattern: pattern, maxBodyBytes: spec.max_body_bytes,
                                    handler: handler, context: spec.route_ctx, plugin: plugin, policy: policy)
        byShape[key] = route
        plugin.routes.append(route)
        return nil
    }

    /// Forgets every route of `plugin` (it failed).
    func remove(_ plugin: PluginInstance) {
        byShape = byShape.filter { $0.value.plugin !== plugin }
        plugin.routes.removeAll()
    }

    /// The routes of running plugins.
    func liveRoutes() -> [RegisteredRoute] {
        byShape.values.filter { $0.plugin.status.state == .running }
    }
}
