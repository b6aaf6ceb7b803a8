import Foundation

/// A JSON Schema of the subset settings use, checked when it is written and then used to check
/// values. Supported keywords: `type` (one name or a list), `enum`, `const`, `minimum`,
/// `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `minLength`, `maxLength`,
/// `pattern`, `format` (`email`, `uri`, `color`), `properties`, `required`,
/// `additionalProperties` (a boolean or a schema), `items`, `minItems`, `maxItems`,
/// `uniqueItems`, and the annotations `title`, `description`, `default`, `$schema`, `$id`. Any
/// other keyword is refused, so a schema never silently checks less than its author meant.
public struct Schema: Sendable {
    public let source: JSON
    private let node: Node

    private static let types: Set<String> = ["null", "boolean", "integer", "number", "string", "array", "object"]
    private static let annotations: Set<String> = ["title", "description", "default", "$schema", "$id", "examples"]

    /// Checks `source` and prepares it, or throws naming the keyword and its path.
    public init(_ source: JSON) throws {
        self.source = source
        node = try Node(source, path: "#", depth: 0)
    }

    /// Throws naming the first place where `value` breaks the schema.
    public func validate(_ value: JSON) throws {
        try node.check(value, path: "$")
    }

    private final class Node: @unchecked Sendable {
        var types: Set<String>?
        var enumeration: [JSON]?
        var constant: JSON?
        var minimum: Double?, maximum: Double?, exclusiveMinimum: Double?, exclusiveMaximum: Double?, multipleOf: Double?
        var minLength: Int?, maxLength: Int?
        var pattern: NSRegularExpression?, patternText = ""
        var format: String?
        var properties: [String: Node] = [:]
        var required: [String] = []
        var additional: Node?
        var additionalAllowed = true
        var items: Node?
        var minItems: Int?, maxItems: Int?
        var uniqueItems = false

        init(_ json: JSON, path: String, depth: Int) throws {
            guard depth < 16 else { throw ValidationError("schema at \(path) nests deeper than 16 levels") }
            if case .bool(true) = json { return }
            guard case .object(let members) = json else { throw ValidationError("schema at \(path) must be an object, found \(json.typeName)") }
            func number(_ key: String) throws -> Double? {
                guard let value = members[key] else { return nil }
                guard let number = value.numberValue, number.isFinite else { throw ValidationError("schema at \(path): '\(key)' must be a number") }
                return number
            }
            func count(_ key: String) throws -> Int? {
                guard let value = try number(key) else { return nil }
                guard value >= 0, value.rounded() == value, value <= 1e9 else { throw ValidationError("schema at \(path): '\(key)' must be a non-negative integer") }
                return Int(value)
            }
            for key in members.keys.sorted() {
                let known = ["type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
                             "maxLength", "pattern", "format", "properties", "required", "additionalProperties", "items", "minItems", "maxItems", "uniqueItems"]
                guard known.contains(key) || Schema.annotations.contains(key) else {
                    throw ValidationError("schema at \(path): keyword '\(key.prefix(60))' is not supported (supported: \(known.joined(separator: ", ")))")
                }
            }
            switch members["type"] {
            case nil: break
            case .string(let name)?:
                guard Schema.types.contains(name) else { throw ValidationError("schema at \(path): type '\(name.prefix(40))' is not a JSON Schema type") }
                types = [name]
            case .array(let names)?:
                let texts = names.compactMap(\.stringValue)
                guard texts.count == names.count, !texts.isEmpty, texts.allSatisfy(Schema.types.contains) else {
                    throw ValidationError("schema at \(path): type must be a type name or a non-empty list of them")
                }
                types = Set(texts)
            default: throw ValidationError("schema at \(path): type must be a type name or a list of them")
            }
            if let value = members["enum"] {
                guard case .array(let list) = value, !list.isEmpty else { throw ValidationError("schema at \(path): 'enum' must be a non-empty array") }
                enumeration = list
            }
            constant = members["const"]
            (minimum, maximum) = (try number("minimum"), try number("maximum"))
            (exclusiveMinimum, exclusiveMaximum) = (try number("exclusiveMinimum"), try number("exclusiveMaximum"))
            multipleOf = try number("multipleOf")
            if let multipleOf, multipleOf <= 0 { throw ValidationError("schema at \(path): 'multipleOf' must be greater than 0") }
            (minLength, maxLength) = (try count("minLength"), try count("maxLength"))
            (minItems, maxItems) = (try count("minItems"), try count("maxItems"))
            if let value = members["pattern"] {
                guard let text = value.stringValue, text.utf8.count <= 1000, let regex = try? NSRegularExpression(pattern: text) else {
                    throw ValidationError("schema at \(path): 'pattern' must be a valid regular expression")
                }
                (pattern, patternText) = (regex, text)
            }
            if let value = members["format"] {
                guard let text = value.stringValue, ["email", "uri", "color"].contains(text) else {
                    throw ValidationError("schema at \(path): 'format' must be email, uri or color")
                }
                format = text
            }
            if let value = members["properties"] {
                guard case .object(let props) = value else { throw ValidationError("schema at \(path): 'properties' must be an object") }
                for (name, schema) in props { properties[name] = try Node(schema, path: "\(path)/properties/\(name)", depth: depth + 1) }
            }
            if let value = members["required"] {
                guard case .array(let names) = value, names.allSatisfy({ $0.stringValue != nil }) else {
                    throw ValidationError("schema at \(path): 'required' must be an array of names")
                }
                required = names.compactMap(\.stringValue)
            }
            switch members["additionalProperties"] {
            case nil: break
            case .bool(let allowed)?: additionalAllowed = allowed
            case let schema?: additional = try Node(schema, path: "\(path)/additionalProperties", depth: depth + 1)
            }
            if let value = members["items"] { items = try Node(value, path: "\(path)/items", depth: depth + 1) }
            if let value = members["uniqueItems"] {
                guard let flag = value.boolValue else { throw ValidationError("schema at \(path): 'uniqueItems' must be true or false") }
                uniqueItems = flag
            }
        }

        func check(_ value: JSON, path: String) throws {
            if let types {
                let name = value.typeName
                guard types.contains(name) || (name == "integer" && types.contains("number")) else {
                    throw ValidationError("\(path) must be \(types.sorted().joined(separator: " or ")), found \(name)")
                }
            }
            if let enumeration, !enumeration.contains(value) { throw ValidationError("\(path) must be one of \(JSON.array(enumeration).text)") }
            if let constant, constant != value { throw ValidationError("\(path) must be \(constant.text)") }
            switch value {
            case .number(let number):
                if let minimum, number < minimum { throw ValidationError("\(path) must be at least \(minimum), found \(number)") }
                if let maximum, number > maximum { throw ValidationError("\(path) must be at most \(maximum), found \(number)") }
                if let exclusiveMinimum, number <= exclusiveMinimum { throw ValidationError("\(path) must be greater than \(exclusiveMinimum)") }
                if let exclusiveMaximum, number >= exclusiveMaximum { throw ValidationError("\(path) must be less than \(exclusiveMaximum)") }
                if let multipleOf, (number / multipleOf).rounded() != number / multipleOf { throw ValidationError("\(path) must be a multiple of \(multipleOf)") }
            case .string(let text):
                let length = text.count
                if let minLength, length < minLength { throw ValidationError("\(path) must be at least \(minLength) characters") }
                if let maxLength, length > maxLength { throw ValidationError("\(path) must be at most \(maxLength) characters") }
                if let pattern, pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                    throw ValidationError("\(path) must match the pattern \(patternText)")
                }
                if let format { try Self.checkFormat(format, text, path) }
            case .array(let list):
                if let minItems, list.count < minItems { throw ValidationError("\(path) must have at least \(minItems) items") }
                if let maxItems, list.count > maxItems { throw ValidationError("\(path) must have at most \(maxItems) items") }
                if uniqueItems, Set(list).count != list.count { throw ValidationError("\(path) must not repeat an item") }
                if let items { for (index, item) in list.enumerated() { try items.check(item, path: "\(path)[\(index)]") } }
            case .object(let members):
                for name in required where members[name] == nil { throw ValidationError("\(path) lacks the required property '\(name)'") }
                for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                    if let schema = properties[name] { try schema.check(member, path: "\(path).\(name)") }
                    else if let additional { try additional.check(member, path: "\(path).\(name)") }
                    else if !additionalAllowed { throw ValidationError("\(path) has the property '\(name.prefix(60))', which the schema does not allow") }
                }
            default: break
            }
        }

        static func checkFormat(_ format: String, _ text: String, _ path: String) throws {
            switch format {
            case "email":
                let parts = text.split(separator: "@", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !text.contains(" ") else { throw ValidationError("\(path) must be an e-mail address") }
            case "uri":
                guard let url = URL(string: text), let scheme = url.scheme, ["http", "https", "mailto"].contains(scheme.lowercased()) else {
                    throw ValidationError("\(path) must be an http(s) or mailto URI")
                }
            default:
                guard Color.isHex(text) else { throw ValidationError("\(path) must be a colour such as #1a2b3c") }
            }
        }
    }
}
