/// Validation of concrete topics such as `orders.eu.created`.
///
/// A topic is one or more non-empty segments separated by `.`; no segment may contain the
/// wildcard characters `+` or `#`.
public enum Topic {
    /// Checks `topic` and returns its segments, or throws ``EventLogError/invalidTopic``
    /// saying which segment is wrong.
    @discardableResult
    public static func validate(_ topic: String) throws(EventLogError) -> [Substring] {
        if topic.isEmpty {
            throw .invalidTopic("topic is empty", at: "topic ''")
        }
        let segments = topic.split(separator: ".", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            if segment.isEmpty {
                throw .invalidTopic("segment \(index + 1) is empty", at: "topic '\(topic)'")
            }
            if segment.contains("+") || segment.contains("#") {
                throw .invalidTopic("segment \(index + 1) '\(segment)' contains a wildcard; topics must be concrete", at: "topic '\(topic)'")
            }
        }
        return segments
    }
}

/// A subscription pattern over hierarchical topics, MQTT style.
///
/// Segments are separated by `.`. A `+` segment matches exactly one segment; a `#` segment,
/// allowed only last, matches the rest of the topic: zero or more segments (so `a.#` matches
/// `a`, `a.b` and `a.b.c`). Wildcards must be whole segments (`a+` is invalid).
public struct TopicPattern: Sendable, Hashable, CustomStringConvertible {
    /// One segment of a pattern.
    public enum Segment: Sendable, Hashable {
        /// Matches exactly this text.
        case literal(String)
        /// `+`: matches any one segment.
        case single
        /// `#`: matches zero or more trailing segments.
        case rest
    }

    /// The parsed segments.
    public let segments: [Segment]
    /// The pattern as written.
    public let description: String

    /// Parses and validates `pattern`, throwing ``EventLogError/invalidPattern`` with the reason.
    public init(_ pattern: String) throws(EventLogError) {
        if pattern.isEmpty {
            throw .invalidPattern("pattern is empty", at: "pattern ''")
        }
        let raw = pattern.split(separator: ".", omittingEmptySubsequences: false)
        var parsed: [Segment] = []
        parsed.reserveCapacity(raw.count)
        for (index, segment) in raw.enumerated() {
            let position = "segment \(index + 1)"
            switch segment {
            case "":
                throw .invalidPattern("\(position) is empty", at: "pattern '\(pattern)'")
            case "+":
                parsed.append(.single)
            case "#":
                guard index == raw.count - 1 else {
                    throw .invalidPattern("'#' must be the last segment, found at \(position)", at: "pattern '\(pattern)'")
                }
                parsed.append(.rest)
            default:
                if segment.contains("+") || segment.contains("#") {
                    throw .invalidPattern("\(position) '\(segment)' mixes a wildcard with text; wildcards must be whole segments", at: "pattern '\(pattern)'")
                }
                parsed.append(.literal(String(segment)))
            }
        }
        self.segments = parsed
        self.description = pattern
    }

    /// Whether `topic` (assumed valid) matches this pattern.
    public func matches(_ topic: String) -> Bool {
        let parts = topic.split(separator: ".", omittingEmptySubsequences: false)
        var index = 0
        for segment in segments {
            switch segment {
            case .rest:
                return true
            case .single:
                guard index < parts.count else { return false }
            case .literal(let text):
                guard index < parts.count, parts[index] == text else { return false }
            }
            index += 1
        }
        return index == parts.count
    }
}
