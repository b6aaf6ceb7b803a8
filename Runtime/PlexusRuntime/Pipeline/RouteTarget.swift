/// What a route leads to: a plugin's handler or one of the runtime's own endpoints. Both carry
/// the immutable route id the stages key their per-route state by.
enum RouteTarget {
    case plugin(RegisteredRoute)
    case builtin(BuiltinRoute)

    /// The route's id in its ``RouteRegistry`` (dense, from 0, never reused).
    var id: Int {
        switch self {
        case .plugin(let route): return route.id
        case .builtin(let builtin): return builtin.id
        }
    }

    var method: String {
        switch self {
        case .plugin(let route): return route.method
        case .builtin(let builtin): return builtin.method
        }
    }

    var pattern: RoutePattern {
        switch self {
        case .plugin(let route): return route.pattern
        case .builtin(let builtin): return builtin.pattern
        }
    }
}
