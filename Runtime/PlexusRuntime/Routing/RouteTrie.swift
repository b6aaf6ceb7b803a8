import Glibc

/// An immutable prefix tree of routes, built once the plugins have started.
///
/// Lookup walks one node per path segment: a literal child wins over a parameter child, which
/// wins over a trailing wildcard; the search backtracks when a more specific branch dead-ends.
/// It reads the path's UTF-8 bytes in place: segments are compared as bytes (a node's few
/// literal children by length, then contents), and nothing is allocated unless a segment has
/// percent-escapes or a parameter is captured.
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
        /// Literal children by their decoded segment bytes.
        var literals: [(segment: [UInt8], node: Node)] = []
        var parameter: (name: String, node: Node)?
        var wildcard: [(method: String, target: Target)] = []
        var methods: [(method: String, target: Target)] = []

        func literal(_ segment: UnsafeRawBufferPointer) -> Node? {
            // Plain loops, no generic algorithms: this runs per path segment of every request.
            var index = 0
            while index < literals.count {
                if literals[index].segment.count == segment.count,
                   literals[index].segment.withUnsafeBytes({ memcmp($0.baseAddress!, segment.baseAddress!, segment.count) == 0 }) {
                    return literals[index].node
                }
                index += 1
            }
            return nil
        }
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
                let bytes = Array(text.utf8)
                if let next = node.literals.first(where: { $0.segment == bytes })?.node {
                    node = next
                } else {
                    let next = Node()
                    node.literals.append((bytes, next))
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
                Self.set(&node.wildcard, method, target)
                return
            }
        }
        Self.set(&node.methods, method, target)
    }

    private static func set(_ table: inout [(method: String, target: Target)], _ method: String, _ target: Target) {
        if let index = table.firstIndex(where: { $0.method == method }) {
            table[index].target = target
        } else {
            table.append((method, target))
        }
    }

    /// The target for `method` in `table`, with `HEAD` falling back to `GET`.
    private static func lookup(_ table: [(method: String, target: Target)], _ method: String) -> Target? {
        var get: Target?
        var index = 0
        while index < table.count {
            if table[index].method == method { return table[index].target }
            if table[index].method == "GET" { get = table[index].target }
            index += 1
        }
        return method == "HEAD" ? get : nil
    }

    /// Finds the route for `method` and `path`, a raw path starting with `/` whose percent-escapes
    /// are not decoded yet: it is split at `/` first, then each segment is decoded (see
    /// ``PathSegment``), so `%2F` never splits a segment. Literal segments match decoded; captured
    /// parameters are decoded; a trailing wildcard captures the decoded rest.
    public func match(method: String, path: Substring) -> Match {
        var path = path
        return path.withUTF8 { bytes in
            var start = 0, end = bytes.count
            if start < end { start += 1 }  // the leading `/`
            if end - start > 1, bytes[end - 1] == UInt8(ascii: "/") { end -= 1 }  // trailing slash
            let rest = UnsafeRawBufferPointer(start: bytes.baseAddress.map { $0 + start }, count: end - start)
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
    }

    /// Walks `rest` (the path after a `/`, segments separated by `/`) without splitting it up front.
    private func search(_ node: Node, _ rest: UnsafeRawBufferPointer, atEnd: Bool, _ method: String,
                        _ parameters: inout [(name: String, value: String)], _ allowed: inout Set<String>) -> Target? {
        if atEnd {
            if let target = Self.lookup(node.methods, method) { return target }
            for entry in node.methods { allowed.insert(entry.method) }
            // A wildcard also matches an empty rest (`/files/` for `/files/*`).
            return wildcardTarget(node, rest, method, &parameters, &allowed)
        }
        var length = 0, escaped = false
        while length < rest.count, rest[length] != UInt8(ascii: "/") {
            if rest[length] == UInt8(ascii: "%") { escaped = true }
            length += 1
        }
        let raw = UnsafeRawBufferPointer(start: rest.baseAddress, count: length)
        let nextAtEnd = length == rest.count
        let after = nextAtEnd ? UnsafeRawBufferPointer(start: rest.baseAddress.map { $0 + length }, count: 0)
                              : UnsafeRawBufferPointer(start: rest.baseAddress! + length + 1, count: rest.count - length - 1)
        if escaped {
            // Escaped: decode it (nil for a malformed escape, a NUL or invalid UTF-8) and go on with the decoded bytes.
            guard let decoded = PathSegment.decode(String(decoding: raw, as: UTF8.self)[...]) else { return nil }
            var text = String(decoded)
            return text.withUTF8 { segment in
                step(node, UnsafeRawBufferPointer(segment), after, nextAtEnd, method, rest, &parameters, &allowed)
            }
        }
        return step(node, raw, after, nextAtEnd, method, rest, &parameters, &allowed)
    }

    /// Tries `node`'s children for one decoded `segment`: the literal, then the parameter, then a wildcard over `rest`.
    private func step(_ node: Node, _ segment: UnsafeRawBufferPointer, _ after: UnsafeRawBufferPointer, _ nextAtEnd: Bool,
                      _ method: String, _ rest: UnsafeRawBufferPointer,
                      _ parameters: inout [(name: String, value: String)], _ allowed: inout Set<String>) -> Target? {
        if !segment.isEmpty, let next = node.literal(segment),
           let target = search(next, after, atEnd: nextAtEnd, method, &parameters, &allowed) {
            return target
        }
        if !segment.isEmpty, let parameter = node.parameter {
            parameters.append((parameter.name, String(decoding: segment, as: UTF8.self)))
            if let target = search(parameter.node, after, atEnd: nextAtEnd, method, &parameters, &allowed) { return target }
            parameters.removeLast()
        }
        return wildcardTarget(node, rest, method, &parameters, &allowed)
    }

    private func wildcardTarget(_ node: Node, _ rest: UnsafeRawBufferPointer, _ method: String,
                                _ parameters: inout [(name: String, value: String)], _ allowed: inout Set<String>) -> Target? {
        guard !node.wildcard.isEmpty else { return nil }
        guard let target = Self.lookup(node.wildcard, method) else {
            for entry in node.wildcard { allowed.insert(entry.method) }
            return nil
        }
        let text = String(decoding: rest, as: UTF8.self)
        parameters.append(("*", text.split(separator: "/", omittingEmptySubsequences: false).map { PathSegment.decode($0) ?? $0 }.joined(separator: "/")))
        return target
    }
}
