import CPlexusABI

/// Every route the runtime serves, the plugins' and its own built-in endpoints, in one place:
/// it refuses collisions (naming both sides), keeps plugins out of the reserved prefixes and off
/// the built-ins' paths, numbers every route with an immutable id, and is what the router and
/// `/openapi.json` are built from.
final class RouteRegistry {
    /// Paths plugins may not register routes under.
    static let reservedPrefixes = ["/admin", "/health", "/ready", "/metrics", "/api/v1/events"]

    private var byShape: [String: RouteTarget] = [:]
    /// Built-in endpoints by path shape (any method): a plugin may not use their paths at all.
    private var builtinPaths: [String: BuiltinRoute] = [:]
    /// The built-in endpoints in registration order.
    private(set) var builtins: [BuiltinRoute] = []
    private var nextID = 0

    /// How many route ids were handed out (every id is below it).
    var idCount: Int { nextID }

    /// Registers one of the runtime's own endpoints. Built-ins are registered before any plugin
    /// starts; two built-ins on one method and path are a programming error.
    func addBuiltin(_ method: String, _ path: String, _ endpoint: BuiltinEndpoint) {
        let pattern = try! RoutePattern(path)
        let key = method + " " + pattern.shape
        precondition(byShape[key] == nil, "built-in endpoint \(method) \(path) registered twice")
        let route = BuiltinRoute(id: takeID(), method: method, pattern: pattern, endpoint: endpoint)
        byShape[key] = .builtin(route)
        if builtinPaths[pattern.shape] == nil { builtinPaths[pattern.shape] = route }
        builtins.append(route)
    }

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
        if let reserved = Self.reservedPrefixes.first(where: { pattern.text == $0 || pattern.text.hasPrefix($0 + "/") }) {
            return HostCallFailure(PLEXUS_E_REFUSED, "\(method) \(pattern) of plugin '\(plugin.name)' is under \(reserved), which the runtime reserves for itself")
        }
        if let builtin = builtinPaths[pattern.shape] {
            return HostCallFailure(PLEXUS_E_REFUSED, "\(method) \(pattern) of plugin '\(plugin.name)' is on the path of the runtime's built-in endpoint \(builtin.method) \(builtin.pattern), which plugins cannot replace")
        }
        let policy: RoutePolicy
        do { policy = try RoutePolicy(spec) } catch { return HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "\(method) \(pattern): \(error)") }
        let key = method + " " + pattern.shape
        if case .plugin(let existing) = byShape[key] {
            if existing.plugin === plugin {
                return HostCallFailure(PLEXUS_E_ALREADY_EXISTS, "\(method) \(pattern) is registered twice by plugin '\(plugin.name)'")
            }
            return HostCallFailure(PLEXUS_E_ALREADY_EXISTS, "\(method) \(pattern) of plugin '\(plugin.name)' collides with \(existing.method) \(existing.pattern) of plugin '\(existing.plugin.name)'")
        }
        let route = RegisteredRoute(id: takeID(), method: method, pattern: pattern, maxBodyBytes: spec.max_body_bytes,
                                    handler: handler, context: spec.route_ctx, plugin: plugin, policy: policy)
        byShape[key] = .plugin(route)
        plugin.routes.append(route)
        return nil
    }

    /// Forgets every route of `plugin` (it failed).
    func remove(_ plugin: PluginInstance) {
        byShape = byShape.filter {
            if case .plugin(let route) = $0.value { return route.plugin !== plugin }
            return true
        }
        plugin.routes.removeAll()
    }

    /// The routes of running plugins, in id order.
    func liveRoutes() -> [RegisteredRoute] {
        byShape.values.compactMap { target -> RegisteredRoute? in
            guard case .plugin(let route) = target, route.plugin.status.state == .running else { return nil }
            return route
        }.sorted { $0.id < $1.id }
    }

    /// The plugin routes frozen into the router by ``mount()`` (what `/openapi.json` lists).
    private(set) var mountedRoutes: [RegisteredRoute] = []

    /// Freezes what the router serves: the routes of running plugins and every built-in endpoint.
    func mount() -> [RouteTarget] {
        mountedRoutes = liveRoutes()
        return mountedRoutes.map { .plugin($0) } + builtins.map { .builtin($0) }
    }

    private func takeID() -> Int {
        defer { nextID += 1 }
        return nextID
    }
}
