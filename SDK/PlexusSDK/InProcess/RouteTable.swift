/// Routes kept in memory, matched the way the runtime's router matches them: literal segments
/// before `:name` parameters, a trailing `*` capturing the rest as parameter `*`, `HEAD`
/// answered by a `GET` route. Two routes of one method whose patterns differ only in parameter
/// names collide and the second is refused.
@PluginActor
public final class RouteTable: RouteDriver {
    /// A route matched for a request, with the parameters it captured.
    public struct Match {
        /// The route.
        public let route: RouteDefinition
        /// `:name` values and `*`.
        public let parameters: [String: String]
    }

    /// Every route, in registration order.
    public private(set) var routes: [RouteDefinition] = []
    private var shapes: Set<String> = []

    /// An empty table.
    public init() {}

    public func add(_ route: RouteDefinition) throws {
        guard route.pattern.hasPrefix("/") else {
            throw PluginError.routeRejected(method: route.method, pattern: route.pattern, reason: "a pattern starts with '/'")
        }
        let segments = Self.segments(route.pattern)
        if let index = segments.firstIndex(of: "*"), index != segments.count - 1 {
            throw PluginError.routeRejected(method: route.method, pattern: route.pattern, reason: "'*' may only be the last segment")
        }
        if segments.contains(where: { $0 == ":" }) {
            throw PluginError.routeRejected(method: route.method, pattern: route.pattern, reason: "a parameter needs a name after ':'")
        }
        let shape = route.method + " " + segments.map { $0.hasPrefix(":") ? ":" : $0 }.joined(separator: "/")
        guard shapes.insert(shape).inserted else {
            throw PluginError.routeRejected(method: route.method, pattern: route.pattern, reason: "another route has the same method and pattern")
        }
        routes.append(route)
    }

    /// The route for `method` and the decoded `path`, preferring literal segments; nil when none matches.
    /// `methodsAllowed` lists the methods that match the path at all (for a 405).
    public func match(_ method: String, _ path: String) -> (match: Match?, methodsAllowed: [String]) {
        let parts = Self.segments(path)
        var best: (score: [Int], match: Match)?
        var allowed: [String] = []
        for route in routes {
            guard let (parameters, score) = Self.bind(Self.segments(route.pattern), parts) else { continue }
            allowed.append(route.method)
            guard route.method == method || (method == "HEAD" && route.method == "GET") else { continue }
            if best == nil || score.lexicographicallyPrecedes(best!.score, by: >) || (method == "HEAD" && route.method == "HEAD") {
                best = (score, Match(route: route, parameters: parameters))
            }
        }
        return (best?.match, allowed)
    }

    private static func segments(_ text: String) -> [String] {
        text.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
    }

    /// The parameters `pattern` captures from `path`, and a score ranking literal segments first.
    private static func bind(_ pattern: [String], _ path: [String]) -> ([String: String], [Int])? {
        var parameters: [String: String] = [:]
        var score: [Int] = []
        for (index, segment) in pattern.enumerated() {
            if segment == "*" {
                parameters["*"] = path.dropFirst(index).joined(separator: "/")
                score.append(0)
                return (parameters, score)
            }
            guard index < path.count else { return nil }
            if segment.hasPrefix(":") {
                guard !path[index].isEmpty else { return nil }
                parameters[String(segment.dropFirst())] = path[index]
                score.append(1)
            } else {
                guard segment == path[index] else { return nil }
                score.append(2)
            }
        }
        return pattern.count == path.count ? (parameters, score) : nil
    }
}
