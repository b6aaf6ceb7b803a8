/// One cell of a data table.
public enum DataValue: Sendable, Hashable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null

    /// The value as a number: numbers, booleans (0/1) and numeric strings; nil otherwise.
    public var number: Double? {
        switch self {
        case .number(let n): n
        case .bool(let b): b ? 1 : 0
        case .string(let s): Double(s)
        case .null: nil
        }
    }

    /// The value as milliseconds since 1970 (UTC): numbers as they are, ISO 8601 strings parsed.
    public var timestamp: Double? {
        switch self {
        case .number(let n): n
        case .string(let s): CivilTime.parseISO(s)
        default: nil
        }
    }

    /// The value as text (labels, legend entries, discrete domains).
    public var text: String {
        switch self {
        case .number(let n): NumberFormat.plain(n)
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        }
    }

    /// JavaScript-like truthiness for filters.
    public var truthy: Bool {
        switch self {
        case .number(let n): n != 0 && !n.isNaN
        case .string(let s): !s.isEmpty
        case .bool(let b): b
        case .null: false
        }
    }

    init(_ json: JSONValue) {
        switch json {
        case .number(let n): self = .number(n)
        case .string(let s): self = .string(s)
        case .bool(let b): self = .bool(b)
        default: self = .null
        }
    }
}

/// Rows in columns: one array of values per field name.
public struct DataTable: Sendable, Equatable {
    public private(set) var names: [String] = []
    public private(set) var columns: [[DataValue]] = []
    public private(set) var count = 0
    private var indexOf: [String: Int] = [:]
    /// Columns made from plain numbers (``setNumbers(_:_:)``, NaN for a missing value), kept beside their
    /// values so the drawing reads them without unboxing a million cells; replacing a column drops it.
    public private(set) var numberColumns: [String: [Double]] = [:]

    /// Equal names, values and row count (the number copies follow from the values).
    public static func == (lhs: DataTable, rhs: DataTable) -> Bool {
        lhs.names == rhs.names && lhs.columns == rhs.columns && lhs.count == rhs.count
    }

    public init(count: Int = 0) { self.count = count }

    /// A table of finished columns (each `count` long, names distinct).
    init(names: [String], columns: [[DataValue]], count: Int) {
        self.names = names
        self.columns = columns
        self.count = count
        for (index, name) in names.enumerated() { indexOf[name] = index }
    }

    /// Reads inline `values` (an array of flat objects), at most `maxRows`.
    public static func from(values: JSONValue, path: String, maxRows: Int) throws(ChartError) -> DataTable {
        if case .rows(let rows) = values {
            guard rows.table.count <= maxRows else {
                throw ChartError(.tooLarge, path: path, "\(rows.table.count) rows; the limit is \(maxRows) (aggregate or downsample before sending)")
            }
            return rows.table
        }
        guard case .array(let rows) = values else { throw ChartError(.unsupported, path: path, "must be an array of objects") }
        guard rows.count <= maxRows else {
            throw ChartError(.tooLarge, path: path, "\(rows.count) rows; the limit is \(maxRows) (aggregate or downsample before sending)")
        }
        var table = DataTable(count: rows.count)
        for (index, row) in rows.enumerated() {
            guard case .object(let members) = row else {
                throw ChartError(.unsupported, path: "\(path)[\(index)]", "each row must be an object, not \(row.typeName)")
            }
            for (key, value) in members {
                switch value {
                case .array, .object: throw ChartError(.unsupported, path: "\(path)[\(index)].\(key)", "nested values are not supported; flatten the row")
                default: break
                }
                let column = table.column(key)
                table.columns[column][index] = DataValue(value)
            }
        }
        return table
    }

    /// The column index of `name`, created (all null) if missing.
    public mutating func column(_ name: String) -> Int {
        if let existing = indexOf[name] { return existing }
        names.append(name)
        columns.append(Array(repeating: .null, count: count))
        indexOf[name] = columns.count - 1
        return columns.count - 1
    }

    /// The column index of `name`, nil when the data has no such field.
    public func index(of name: String) -> Int? { indexOf[name] }

    /// Appends a column of values (replacing one of the same name).
    public mutating func set(_ name: String, _ values: [DataValue]) {
        precondition(values.count == count)
        numberColumns[name] = nil
        if let existing = indexOf[name] { columns[existing] = values; return }
        // A new column: appended as it is (no all-null column made first and thrown away).
        names.append(name)
        columns.append(values)
        indexOf[name] = columns.count - 1
    }

    /// Sets a column of numbers (NaN is a missing value, null in the cells).
    public mutating func setNumbers(_ name: String, _ numbers: [Double]) {
        set(name, numbers.map { $0.isNaN ? .null : .number($0) })
        numberColumns[name] = numbers
    }

    /// A table of the rows at `rows`, in that order.
    public func selecting(_ rows: [Int]) -> DataTable {
        var result = DataTable(count: rows.count)
        for (name, values) in zip(names, columns) { result.set(name, rows.map { values[$0] }) }
        return result
    }

    /// The value of `field` in `row` (null when the field is absent).
    public func value(_ field: String, _ row: Int) -> DataValue {
        guard let column = indexOf[field] else { return .null }
        return columns[column][row]
    }
}
