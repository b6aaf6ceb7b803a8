import Foundation

/// A JSON template resolved against a state: a string that is a path (`"$.input.tenant"`) is
/// the value there (null when absent); a string with `{{$.path}}` parts is text with those
/// values spliced in; `{"$add": [a, b, …]}` is the sum of its resolved numbers; objects and
/// arrays are resolved field by field; anything else is itself.
public struct Mapping: Sendable, Equatable {
    /// The template as written.
    public let template: JSON

    /// A template.
    public init(_ template: JSON) { self.template = template }

    /// The template resolved against `state`.
    public func resolve(_ state: JSON) -> JSON { Self.resolve(template, state) }

    /// Every path the template reads, with where in the template it sits (`.a.b`).
    public var references: [(path: JSONPath, at: String)] {
        var found: [(JSONPath, String)] = []
        Self.collect(template, "", &found)
        return found
    }

    /// Paths that do not parse, with where they sit, for the definition checker.
    public var malformed: [(text: String, at: String)] {
        var found: [(String, String)] = []
        Self.collectMalformed(template, "", &found)
        return found
    }

    static func resolve(_ template: JSON, _ state: JSON) -> JSON {
        switch template {
        case let .string(text):
            if text.hasPrefix("$"), let path = JSONPath(text) { return path.read(state) ?? .null }
            if text.contains("{{") { return .string(interpolate(text, state)) }
            return template
        case let .array(items): return .array(items.map { resolve($0, state) })
        case let .object(fields):
            if fields.count == 1, let operands = fields["$add"]?.array {
                return .number(operands.reduce(0) { $0 + (resolve($1, state).number ?? 0) })
            }
            return .object(fields.mapValues { resolve($0, state) })
        default: return template
        }
    }

    /// `text` with each `{{$.path}}` replaced by the value there (strings bare, others as JSON).
    public static func interpolate(_ text: String, _ state: JSON) -> String {
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else { out += rest[open.lowerBound...]; return out }
            let inner = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if let path = JSONPath(inner) {
                switch path.read(state) {
                case let .string(value)?: out += value
                case let value?: out += value.text
                case nil: break
                }
            }
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    /// The paths inside `{{ }}` of `text`.
    static func placeholders(_ text: String) -> [String] {
        var found: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            found.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return found
    }

    private static func collect(_ template: JSON, _ at: String, _ found: inout [(JSONPath, String)]) {
        switch template {
        case let .string(text):
            if text.hasPrefix("$"), let path = JSONPath(text) { found.append((path, at)) }
            for inner in placeholders(text) { if let path = JSONPath(inner) { found.append((path, at)) } }
        case let .array(items): for (index, item) in items.enumerated() { collect(item, "\(at)[\(index)]", &found) }
        case let .object(fields): for key in fields.keys.sorted() { collect(fields[key]!, "\(at).\(key)", &found) }
        default: break
        }
    }

    private static func collectMalformed(_ template: JSON, _ at: String, _ found: inout [(String, String)]) {
        switch template {
        case let .string(text):
            if text.hasPrefix("$."), JSONPath(text) == nil { found.append((text, at)) }
            for inner in placeholders(text) where JSONPath(inner) == nil { found.append((inner, at)) }
        case let .array(items): for (index, item) in items.enumerated() { collectMalformed(item, "\(at)[\(index)]", &found) }
        case let .object(fields): for key in fields.keys.sorted() { collectMalformed(fields[key]!, "\(at).\(key)", &found) }
        default: break
        }
    }

    public static func == (lhs: Mapping, rhs: Mapping) -> Bool { lhs.template == rhs.template }
}
