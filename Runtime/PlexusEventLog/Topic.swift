/// The grammar every topic and topic pattern obeys, checked in one place.
///
/// A topic is 1 to ``maxSegments`` segments separated by `.`, at most ``maxTopicBytes`` bytes
/// of UTF-8 in all and ``maxSegmentBytes`` per segment. A segment is one or more printable
/// characters: no whitespace (spaces, tabs, line endings, U+2028 …), no control characters
/// (NUL, DEL, C1 controls), no format characters (zero-width joiners, bidi overrides) and no
/// unassigned code points. So a topic can always be written on one line of a Server-Sent
/// Events frame, a log line or a header, and never ends or forges one.
///
/// Wildcards: a concrete topic contains no `+` or `#`; in a pattern, `+` and `#` are whole
/// segments only (``TopicPattern``).
public enum TopicGrammar {
    /// The longest topic or pattern, in bytes of UTF-8.
    public static let maxTopicBytes = 256
    /// The longest segment, in bytes of UTF-8.
    public static let maxSegmentBytes = 64
    /// The most segments in a topic or pattern.
    public static let maxSegments = 16

    /// Whether `scalar` may appear in a segment (wildcards aside).
    public static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x21 || scalar.value == 0x7F { return false }
        if scalar.value < 0x7F { return true }
        if scalar.properties.isWhitespace { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .surrogate, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    /// Splits `text` into segments after checking its length and every character, or says
    /// what is wrong: the character (as U+XXXX) and its position, or the limit exceeded.
    /// `kind` is "topic" or "pattern", for the messages.
    static func segments(of text: String, kind: String) -> Result<[Substring], Problem> {
        if text.isEmpty { return .failure(Problem("\(kind) is empty", text)) }
        let bytes = text.utf8.count
        if bytes > maxTopicBytes {
            return .failure(Problem("\(kind) is \(bytes) bytes long; the limit is \(maxTopicBytes) bytes", text))
        }
        var position = 0
        for scalar in text.unicodeScalars {
            position += 1
            if scalar != "." && !isAllowed(scalar) {
                return .failure(Problem("character \(describe(scalar)) at position \(position) is not allowed; \(kind)s are printable characters without whitespace or control characters", text))
            }
        }
        let segments = text.split(separator: ".", omittingEmptySubsequences: false)
        if segments.count > maxSegments {
            return .failure(Problem("\(kind) has \(segments.count) segments; the limit is \(maxSegments)", text))
        }
        for (index, segment) in segments.enumerated() {
            if segment.isEmpty { return .failure(Problem("segment \(index + 1) is empty", text)) }
            if segment.utf8.count > maxSegmentBytes {
                return .failure(Problem("segment \(index + 1) is \(segment.utf8.count) bytes long; the limit is \(maxSegmentBytes) bytes per segment", text))
            }
        }
        return .success(segments)
    }

    /// `U+000A (LINE FEED)`-style name of a character, safe to print anywhere.
    static func describe(_ scalar: Unicode.Scalar) -> String {
        let code = String(scalar.value, radix: 16, uppercase: true)
        let padded = String(repeating: "0", count: max(0, 4 - code.count)) + code
        let name = scalar.properties.name ?? scalar.properties.nameAlias
        return name.map { "U+\(padded) (\($0))" } ?? "U+\(padded)"
    }

    /// A printable excerpt of a rejected topic for an error message: at most 48 characters,
    /// with every character the grammar refuses shown as `\u{…}`.
    static func excerpt(_ text: String) -> String {
        var result = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == 48 { return result + "…" }
            result += scalar == "." || isAllowed(scalar) ? String(scalar) : "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            count += 1
        }
        return result
    }

    /// What is wrong with a topic or pattern, and a printable excerpt of it.
    struct Problem: Error {
        let detail: String
        let location: String
        init(_ detail: String, _ text: String) {
            self.detail = detail
            self.location = "'\(TopicGrammar.excerpt(text))'"
        }
    }
}

/// Validation of concrete topics such as `orders.eu.created`: ``TopicGrammar`` without wildcards.
public enum Topic {
    /// Checks `topic` and returns its segments, or throws ``EventLogError/invalidTopic``
    /// saying which character, segment or limit is wrong.
    @discardableResult
    public static func validate(_ topic: String) throws(EventLogError) -> [Substring] {
        let segments: [Substring]
        switch TopicGrammar.segments(of: topic, kind: "topic") {
        case .success(let parsed): segments = parsed
        case .failure(let problem): throw .invalidTopic(problem.detail, at: "topic \(problem.location)")
        }
        for (index, segment) in segments.enumerated() where segment.contains("+") || segment.contains("#") {
            throw .invalidTopic("segment \(index + 1) '\(segment)' contains a wildcard; topics must be concrete", at: "topic '\(topic)'")
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
        let raw: [Substring]
        switch TopicGrammar.segments(of: pattern, kind: "pattern") {
        case .success(let parsed): raw = parsed
        case .failure(let problem): throw .invalidPattern(problem.detail, at: "pattern \(problem.location)")
        }
        var parsed: [Segment] = []
        parsed.reserveCapacity(raw.count)
        for (index, segment) in raw.enumerated() {
            let position = "segment \(index + 1)"
            switch segment {
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
