/// A path into a JSON value: `$`, `$.a.b`, `$.items[0].name`. Field names are letters, digits,
/// `_` and `-`; indexes are decimal.
public struct JSONPath: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// One step of a path.
    public enum Segment: Sendable, Equatable, Hashable {
        case field(String)
        case index(Int)
    }

    /// The steps after `$`.
    public let segments: [Segment]

    /// Parses `text`; nil when it is not a path of the grammar above.
    public init?(_ text: String) {
        guard text.hasPrefix("$") else { return nil }
        var segments: [Segment] = []
        var rest = Substring(text.dropFirst())
        while let first = rest.first {
            if first == "." {
                rest = rest.dropFirst()
                let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
                guard !name.isEmpty else { return nil }
                segments.append(.field(String(name)))
                rest = rest.dropFirst(name.count)
            } else if first == "[" {
                let digits = rest.dropFirst().prefix { $0.isNumber }
                guard !digits.isEmpty, digits.count < 7, rest.dropFirst(1 + digits.count).first == "]" else { return nil }
                segments.append(.index(Int(digits)!))
                rest = rest.dropFirst(2 + digits.count)
            } else {
                return nil
            }
        }
        self.segments = segments
    }

    /// A path of `segments`.
    public init(segments: [Segment]) { self.segments = segments }

    /// The first field name, if the path starts with one.
    public var root: String? { if case let .field(name)? = segments.first { return name }; return nil }

    /// The value at this path in `value`, or nil when a step is missing.
    public func read(_ value: JSON) -> JSON? {
        var current = value
        for segment in segments {
            switch segment {
            case let .field(name):
                guard let next = current[name] else { return nil }
                current = next
            case let .index(index):
                guard let items = current.array, index < items.count else { return nil }
                current = items[index]
            }
        }
        return current
    }

    /// `value` with `newValue` at this path; objects are created along the way, arrays are not.
    public func write(_ newValue: JSON, into value: JSON) -> JSON {
        Self.write(newValue, segments[...], into: value)
    }

    private static func write(_ newValue: JSON, _ segments: ArraySlice<Segment>, into value: JSON) -> JSON {
        guard let first = segments.first else { return newValue }
        switch first {
        case let .field(name):
            var fields = value.object ?? [:]
            fields[name] = write(newValue, segments.dropFirst(), into: fields[name] ?? .null)
            return .object(fields)
        case let .index(index):
            guard var items = value.array, index < items.count else { return value }
            items[index] = write(newValue, segments.dropFirst(), into: items[index])
            return .array(items)
        }
    }

    /// Writes `newValue` at this path inside `value`, in place: objects are created along the way,
    /// arrays are not. Unlike ``write(_:into:)`` it does not copy the containers on the way (the old
    /// one copied the whole state object once per step output).
    public func write(_ newValue: JSON, into value: inout JSON) {
        Self.write(newValue, segments[...], into: &value)
    }

    private static func write(_ newValue: JSON, _ segments: ArraySlice<Segment>, into value: inout JSON) {
        guard let first = segments.first else {
            value = newValue
            return
        }
        switch first {
        case let .field(name):
            var fields: [String: JSON] = [:]
            if case let .object(existing) = value { fields = existing }
            value = .null   // the enum lets go of the dictionary, so the mutations below happen in place
            var child = fields.removeValue(forKey: name) ?? .null
            write(newValue, segments.dropFirst(), into: &child)
            fields[name] = child
            value = .object(fields)
        case let .index(index):
            guard case var .array(items) = value, index < items.count else { return }
            value = .null
            write(newValue, segments.dropFirst(), into: &items[index])
            value = .array(items)
        }
    }

    /// The path as text, `$.a[0].b`.
    public var description: String {
        "$" + segments.map { segment in
            switch segment {
            case let .field(name): ".\(name)"
            case let .index(index): "[\(index)]"
            }
        }.joined()
    }
}
