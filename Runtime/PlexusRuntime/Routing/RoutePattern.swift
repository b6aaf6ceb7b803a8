/// A parsed route pattern: literal segments, `:name` parameters and an optional trailing `*`.
public struct RoutePattern: Hashable, Sendable, CustomStringConvertible {
    /// One segment of a pattern.
    public enum Segment: Hashable, Sendable {
        case literal(String)
        case parameter(String)
        case wildcard
    }

    /// The segments, in order.
    public let segments: [Segment]
    /// The pattern as written.
    public let text: String

    /// Parses `text`, or throws a ``RoutePatternError`` that says what is wrong.
    public init(_ text: String) throws {
        guard text.hasPrefix("/") else { throw RoutePatternError("pattern '\(text)' must start with '/'") }
        var segments: [Segment] = []
        var names = Set<String>()
        let parts = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (index, part) in parts.enumerated() {
            if part.isEmpty {
                if index == parts.count - 1 && index > 0 { break }  // trailing slash is tolerated
                if parts.count == 1 { break }  // the root pattern "/"
                throw RoutePatternError("pattern '\(text)' has an empty segment")
            }
            if part == "*" {
                guard index == parts.count - 1 else { throw RoutePatternError("pattern '\(text)': '*' must be the last segment") }
                segments.append(.wildcard)
            } else if part.hasPrefix(":") {
                let name = String(part.dropFirst())
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw RoutePatternError("pattern '\(text)': parameter '\(part)' needs a name of letters, digits or '_'")
                }
                guard names.insert(name).inserted else { throw RoutePatternError("pattern '\(text)': parameter ':\(name)' appears twice") }
                segments.append(.parameter(name))
            } else {
                guard !part.contains(where: { $0 == "?" || $0 == "#" || $0 == "*" || $0 == ":" }) else {
                    throw RoutePatternError("pattern '\(text)': segment '\(part)' contains a reserved character")
                }
                segments.append(.literal(String(part)))
            }
        }
        self.segments = segments
        self.text = text
    }

    /// The pattern with parameter names erased: two patterns with the same shape match the same paths.
    public var shape: String {
        "/" + segments.map { segment -> String in
            switch segment {
            case .literal(let text): text
            case .parameter: ":"
            case .wildcard: "*"
            }
        }.joined(separator: "/")
    }

    /// The pattern as written.
    public var description: String { text }
}

/// A malformed route pattern.
public struct RoutePatternError: Error, CustomStringConvertible {
    /// What is wrong.
    public let description: String
    init(_ description: String) { self.description = description }
}
