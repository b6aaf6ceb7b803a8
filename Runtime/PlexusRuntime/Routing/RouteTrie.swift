/// An immutable prefix tree of routes, built once the plugins have started.
///
/// Lookup walks one node per path segment: a literal child wins over a parameter child, which
/// wins over a trailing wildcard; the search backtracks when a more specific branch dead-ends.
public struct RouteTrie<Target> {
    /// What a lookup finds.
    public enum Match {
        /// A route for this method and path, with the captured parameters.
        case found(Target, parameters: [(name: String, value: String)])
        /// The path exists for other methods only.
        case methodNotAllowed(allowed: [String])
        /// No route has this path.
        case notFound
    }

    private final class Node {
        var literals: [Substring: Node] = [:]
        var parameter: (name: String, node: Node)?
        var wildcard: [String: Target] = [:]
        var methods: [String: Target] = [:]
    }

    private let root = Node()

    /// Builds a trie from `(method, pattern, target)` triples. Callers have already rejected
    /// collisions (same method and same ``RoutePattern/shape``); a later duplicate replaces an earlier one.
    public init(_ routes: [(method: String, pattern: RoutePattern, target: Target)]) {
        for route in routes { insert(route.method, route.pattern, route.target) }
    }

    private func insert(_ method: String, _ pattern: RoutePattern, _ target: Target) {
        var node = root
        for segment in pattern.segments {
            switch segment {
            case .literal(let text):
                if let next = node.literals[Substring(text)] {
                    node = next
                } else {
                    let next = Node()
                    node.literals[Substring(text)] = next
                    node = next
                }
            case .parameter(let name):
                if let existing = node.parameter {
                    node = existing.node
                } else {
                    let next = Node()
                    node.parameter = (name, next)
                    node = next
                }
            case .wildcard:
                node.wildcard[method] = target
                return
            }
        }
        node.methods[method] = target
    }

    /// Finds the route for `method` and `path`, a raw path starting with `/` whose percent-escapes
    /// are not decoded yet: it is split at `/` first, then each segment is decoded (see
    /// ``PathSegment``), so `%2F` never splits a segment. Literal segments match decoded; captured
    /// parameters are decoded; a trailing wildcard captures the decoded rest.
    public func match(method: String, path: Substring) -> Match {
        var rest = path.dropFirst()
        if rest.count > 1, rest.utf8.last == UInt8(ascii: "/") { rest = rest.dropLast() }  // trailing slash
        var parameters: [(name: String, value: String)] = []
        var allowed = Set<String>()
        if let target = search(root, rest, atEnd: rest.isEmpty, method, &parameters, &allowed) {
            return .found(target, parameters: parameters)
        }
        if !allowed.isEmpty {
            var methods = allowed
            if methods.contains("GET") { methods.insert("HEAD") }
            return .methodNotAllowed(allowed: methods.sorted())
        }
        return .notFound
    }

    /// Walks `rest` (the path after a `/`, segments separated by `/`) without splitting it up front.
    private func search(_ node: Node, _ rest: Substring, atEnd: Bool, _ method: String,
                        _ parameters: inout [(name: String, value: String)], _ allowed: inout Set<String>) -> Target? {
        if atEnd {
            if let target = node.methods[method] ?? (method == "HEAD" ? node.methods["GET"] : nil) { return target }
            allowed.formUnion(node.methods.keys)
            // A wildcard also matches an empty rest (`/files/` for `/files/*`).
            return wildcardTarget(node, rest, method, &parameters, &allowed)
        }
        let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/"))
        let rawSegment = slash.map { rest[..<$0] } ?? rest
        let after = slash.map { rest[rest.index(after: $0)...] } ?? rest[rest.endIndex...]
        let nextAtEnd = slash == nil
        guard let segment = PathSegment.decode(rawSegment) else { return nil }
        if let next = node.literals[segment],
           let target = search(next, after, atEnd: nextAtEnd, method, &parameters, &allowed) {
            return target
        }
        if !segment.isEmpty, let parameter = node.parameter {
            parameters.append((parameter.name, String(segment)))
            if let target = search(parameter.node, after, atEnd: nextAtEnd, method, &parameters, &allowed) { return target }
            parameters.removeLast()
        }
        return wildcardTarget(node, rest, method, &parameters, &allowed)
    }

    private func wildcardTarget(_ node: Node, _ rest: Substring, _ method: String,
                                _ parameters: inout [(name: String, value: String)], _ allowed: inout Set<String>) -> Target? {
        guard !node.wildcard.isEmpty else { return nil }
        guard let target = node.wildcard[method] ?? (method == "HEAD" ? node.wildcard["GET"] : nil) else {
            allowed.formUnion(node.wildcard.keys)
            return nil
        }
        parameters.append(("*", String(rest.split(separator: "/", omittingEmptySubsequences: false).map { PathSegment.decode($0) ?? $0 }.joined(separator: "/"))))
        return target
    }
}
