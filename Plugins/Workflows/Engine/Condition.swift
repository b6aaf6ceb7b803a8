/// A test over a JSON value: `{"path": "$.x", "op": "gt", "value": 3}`, combined with
/// `{"all": […]}`, `{"any": […]}` and `{"not": …}`. The `value` is a ``Mapping`` (it may read
/// the state). Operators: `eq`, `ne`, `gt`, `gte`, `lt`, `lte` (numbers or strings), `exists`,
/// `missing`, `in` (the value is an array holding the field), `contains` (a string or array
/// field holds the value).
public indirect enum Condition: Sendable, Equatable {
    case all([Condition])
    case any([Condition])
    case not(Condition)
    case compare(JSONPath, Operator, Mapping)

    /// The comparison operators.
    public enum Operator: String, Sendable, CaseIterable {
        case eq, ne, gt, gte, lt, lte, exists, missing, `in`, contains
    }

    /// Parses `json`; throws a ``DefinitionError`` naming `at` and what is wrong.
    public static func parse(_ json: JSON, at: String) throws -> Condition {
        guard let fields = json.object else { throw DefinitionError(at, "a condition is an object, not \(json.typeName)") }
        if let list = fields["all"] ?? fields["any"] {
            let key = fields["all"] != nil ? "all" : "any"
            guard fields.count == 1, let items = list.array, !items.isEmpty else {
                throw DefinitionError("\(at).\(key)", "'\(key)' is a non-empty array of conditions and the object's only field")
            }
            let parsed = try items.enumerated().map { try parse($0.element, at: "\(at).\(key)[\($0.offset)]") }
            return key == "all" ? .all(parsed) : .any(parsed)
        }
        if let inner = fields["not"] {
            guard fields.count == 1 else { throw DefinitionError("\(at).not", "'not' must be the object's only field") }
            return .not(try parse(inner, at: "\(at).not"))
        }
        guard let pathText = fields["path"]?.string else { throw DefinitionError("\(at).path", "a condition needs 'path' (e.g. \"$.input.amount\"), or 'all', 'any' or 'not'") }
        guard let path = JSONPath(pathText) else { throw DefinitionError("\(at).path", "'\(pathText)' is not a path like $.field.sub[0]") }
        let opText = fields["op"]?.string ?? "eq"
        guard let op = Operator(rawValue: opText) else {
            throw DefinitionError("\(at).op", "unknown operator '\(opText)'; known: \(Operator.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if op != .exists && op != .missing && fields["value"] == nil { throw DefinitionError("\(at).value", "operator '\(opText)' needs a 'value'") }
        for key in fields.keys where !["path", "op", "value"].contains(key) {
            throw DefinitionError("\(at).\(key)", "unknown field '\(key)'; a comparison has path, op and value")
        }
        return .compare(path, op, Mapping(fields["value"] ?? .null))
    }

    /// Whether `subject` passes; `state` feeds the values' mappings (often the same value).
    public func test(_ subject: JSON, state: JSON) -> Bool {
        switch self {
        case let .all(items): return items.allSatisfy { $0.test(subject, state: state) }
        case let .any(items): return items.contains { $0.test(subject, state: state) }
        case let .not(inner): return !inner.test(subject, state: state)
        case let .compare(path, op, mapping):
            let field = path.read(subject)
            let value = mapping.resolve(state)
            switch op {
            case .exists: return field != nil && field != .null
            case .missing: return field == nil || field == .null
            case .eq: return field == value
            case .ne: return field != value
            case .in: return value.array?.contains(field ?? .null) ?? false
            case .contains:
                if let text = field?.string, let part = value.string { return text.contains(part) }
                return field?.array?.contains(value) ?? false
            case .gt, .gte, .lt, .lte:
                guard let field else { return false }
                let order: Int
                if let a = field.number, let b = value.number { order = a < b ? -1 : (a > b ? 1 : 0) }
                else if let a = field.string, let b = value.string { order = a < b ? -1 : (a > b ? 1 : 0) }
                else { return false }
                switch op {
                case .gt: return order > 0
                case .gte: return order >= 0
                case .lt: return order < 0
                default: return order <= 0
                }
            }
        }
    }

    /// Paths of the state that the condition's values read.
    public var valueReferences: [(path: JSONPath, at: String)] {
        switch self {
        case let .all(items), let .any(items): return items.flatMap(\.valueReferences)
        case let .not(inner): return inner.valueReferences
        case let .compare(_, _, mapping): return mapping.references
        }
    }

    /// The paths the condition tests.
    public var subjectPaths: [JSONPath] {
        switch self {
        case let .all(items), let .any(items): return items.flatMap(\.subjectPaths)
        case let .not(inner): return inner.subjectPaths
        case let .compare(path, _, _): return [path]
        }
    }
}

/// A definition or rule that cannot be used: where (a JSON path into the document) and why.
public struct DefinitionError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Where, as a JSON path into the submitted document (`$.steps[2].service`).
    public let path: String
    /// What is wrong and how to fix it.
    public let message: String

    /// An error at `path` (with or without the leading `$`).
    public init(_ path: String, _ message: String) {
        self.path = path.hasPrefix("$") ? path : "$" + path
        self.message = message
    }

    /// `"<path>: <message>"`.
    public var description: String { "\(path): \(message)" }
}
