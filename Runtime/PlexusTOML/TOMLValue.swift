/// A TOML value (TOML 1.0).
///
/// Dates and times are kept as the text they were written in (checked for shape and ranges):
/// no reader of Plexus needs them as dates.
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    /// An offset or local date-time, a local date or a local time, as written.
    case datetime(String)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The string, or nil when the value is not a string.
    public var string: String? { if case .string(let v) = self { return v }; return nil }
    /// The integer, or nil when the value is not an integer.
    public var int: Int64? { if case .integer(let v) = self { return v }; return nil }
    /// The float, or nil when the value is not a float (an integer is not).
    public var double: Double? { if case .float(let v) = self { return v }; return nil }
    /// The boolean, or nil when the value is not one.
    public var bool: Bool? { if case .bool(let v) = self { return v }; return nil }
    /// The date or time as written, or nil.
    public var datetime: String? { if case .datetime(let v) = self { return v }; return nil }
    /// The elements, or nil when the value is not an array (an array of tables is one).
    public var array: [TOMLValue]? { if case .array(let v) = self { return v }; return nil }
    /// The table, or nil when the value is not a table (an inline table is one).
    public var table: TOMLTable? { if case .table(let v) = self { return v }; return nil }
}

/// A TOML table: its keys in the order they were first written, and their values.
public struct TOMLTable: Equatable, Sendable {
    /// The keys, in the order they were first written.
    public private(set) var keys: [String] = []
    private var values: [String: TOMLValue] = [:]

    /// An empty table.
    public init() {}

    /// The value of `key`, or nil.
    public subscript(key: String) -> TOMLValue? {
        values[key]
    }

    /// Sets `key` (appended to ``keys`` when new).
    mutating func set(_ key: String, _ value: TOMLValue) {
        if values.updateValue(value, forKey: key) == nil { keys.append(key) }
    }

    /// Parses a TOML document; throws a ``TOMLError`` naming the line and column.
    public init(string text: String) throws(TOMLError) {
        var parser = TOMLParser(text)
        self = try parser.parse()
    }
}

/// A TOML syntax or semantic error: what is wrong, at a line and column (both from 1).
public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The line of the error, from 1.
    public let line: Int
    /// The column (in bytes) of the error, from 1.
    public let column: Int
    /// What is wrong.
    public let message: String

    /// `message` alone; the line and column are separate so callers can name their file.
    public var description: String { message }
}
