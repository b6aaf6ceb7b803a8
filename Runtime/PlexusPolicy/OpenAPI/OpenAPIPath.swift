/// A route pattern of the runtime (`/notes/:id/*`) taken apart for OpenAPI path templating.
struct OpenAPIPath {
    enum Segment: Hashable {
        case literal(String)
        case parameter(String)
        case wildcard
    }

    /// The segments in order.
    let segments: [Segment]

    /// Parses a runtime pattern, with the runtime's rules: starts with `/`, no empty segment but a
    /// tolerated trailing `/`, parameter names of letters, digits and `_`, unique, `*` only last.
    init(_ pattern: String) throws(PolicyError) {
        func fail(_ why: String) -> PolicyError { PolicyError(.invalidRoute, "path '\(pattern)': \(why)") }
        guard pattern.hasPrefix("/") else { throw fail("must start with '/'") }
        var segments: [Segment] = []
        var names = Set<String>()
        let parts = pattern.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (position, part) in parts.enumerated() {
            if part.isEmpty {
                if position == parts.count - 1 { break }
                throw fail("has an empty segment")
            }
            if part == "*" {
                guard position == parts.count - 1 else { throw fail("'*' must be the last segment") }
                segments.append(.wildcard)
            } else if part.hasPrefix(":") {
                let name = String(part.dropFirst())
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw fail("parameter '\(part)' needs a name of letters, digits or '_'")
                }
                guard names.insert(name).inserted else { throw fail("parameter ':\(name)' appears twice") }
                segments.append(.parameter(name))
            } else {
                guard !part.contains(where: { "?#*:{}".contains($0) }) else {
                    throw fail("segment '\(part)' contains a reserved character")
                }
                segments.append(.literal(String(part)))
            }
        }
        self.segments = segments
    }

    /// Parameter names in order; the wildcard is named `rest` (or `rest_2`, ... if taken).
    var parameterNames: [String] {
        let declared = Set(segments.compactMap { if case .parameter(let name) = $0 { name } else { nil } })
        return segments.compactMap { segment in
            switch segment {
            case .literal: return nil
            case .parameter(let name): return name
            case .wildcard:
                var name = "rest"
                var suffix = 2
                while declared.contains(name) {
                    name = "rest_\(suffix)"
                    suffix += 1
                }
                return name
            }
        }
    }

    /// Whether the last segment is a wildcard.
    var hasWildcard: Bool { segments.last == .wildcard }

    /// The pattern with parameter names erased; routes of the same shape match the same paths
    /// (the runtime's notion of a duplicate route).
    var shape: String {
        "/" + segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter: ":"
            case .wildcard: "*"
            }
        }.joined(separator: "/")
    }

    /// The OpenAPI path hierarchy: parameters and wildcard both erased to `{}`. OpenAPI treats
    /// templates of the same hierarchy as the same path, so they must share one path item.
    var hierarchy: String {
        "/" + segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter, .wildcard: "{}"
            }
        }.joined(separator: "/")
    }

    /// The OpenAPI path template with the given names for the parameters, e.g. `/notes/{id}/{rest}`.
    func template(names: [String]) -> String {
        var next = names.makeIterator()
        return "/" + segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter, .wildcard: "{\(next.next() ?? "_")}"
            }
        }.joined(separator: "/")
    }

    /// The path as an identifier fragment: `/notes/:id/*` → `notes_id_rest`, `/` → `root`.
    var slug: String {
        let words = segments.isEmpty ? ["root"] : segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .parameter(let name): name
            case .wildcard: "rest"
            }
        }
        return OpenAPIPath.identifier(words.joined(separator: "_"))
    }

    /// Letters and digits kept (lowercased), runs of anything else turned into one `_`.
    static func identifier(_ text: String) -> String {
        var result = ""
        var pendingUnderscore = false
        for scalar in text.unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                if pendingUnderscore && !result.isEmpty { result.append("_") }
                pendingUnderscore = false
                result.unicodeScalars.append(contentsOf: String(scalar).lowercased().unicodeScalars)
            } else {
                pendingUnderscore = true
            }
        }
        return result.isEmpty ? "x" : result
    }
}
