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
    /// The cells of each column; empty for a column of plain numbers until something asks for its cells.
    private var boxed: [[DataValue]] = []
    public private(set) var count = 0
    private var indexOf: [String: Int] = [:]
    /// Columns made from plain numbers (``setNumbers(_:_:)``, NaN for a missing value). The drawing reads them
    /// as they are; their cells are made only when a transform, a tooltip or a discrete scale asks
    /// (``values(at:)``), so a million-point upload is never boxed on its way to a line. Replacing a column
    /// drops its numbers.
    public private(set) var numberColumns: [String: [Double]] = [:]
    /// The range of a number column when whoever set it measured it on the way (a columnar upload does), so
    /// checks and scales need no pass of their own over a million values.
    public private(set) var numberRanges: [String: NumberRange] = [:]

    /// Every column's cells (prefer ``values(at:)`` for one column).
    public var columns: [[DataValue]] { names.indices.map(values(at:)) }

    /// The cells of column `index` (made from its numbers for a column of plain numbers).
    public func values(at index: Int) -> [DataValue] {
        if boxed[index].count == count { return boxed[index] }
        return numberColumns[names[index]]!.map { $0.isNaN ? .null : .number($0) }
    }

    /// The cell of column `index` in `row`.
    public func value(at index: Int, _ row: Int) -> DataValue {
        if boxed[index].count == count { return boxed[index][row] }
        let number = numberColumns[names[index]]![row]
        return number.isNaN ? .null : .number(number)
    }

    /// Equal names, values and row count (the number copies follow from the values).
    public static func == (lhs: DataTable, rhs: DataTable) -> Bool {
        lhs.names == rhs.names && lhs.columns == rhs.columns && lhs.count == rhs.count
    }

    public init(count: Int = 0) { self.count = count }

    /// A table of finished columns (each `count` long, names distinct).
    init(names: [String], columns: [[DataValue]], count: Int) {
        self.names = names
        self.boxed = columns
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
                table.boxed[column][index] = DataValue(value)
            }
        }
        return table
    }

    /// The column index of `name`, created (all null) if missing.
    public mutating func column(_ name: String) -> Int {
        if let existing = indexOf[name] { return existing }
        names.append(name)
        boxed.append(Array(repeating: .null, count: count))
        indexOf[name] = boxed.count - 1
        return boxed.count - 1
    }

    /// The column index of `name`, nil when the data has no such field.
    public func index(of name: String) -> Int? { indexOf[name] }

    /// Appends a column of values (replacing one of the same name).
    public mutating func set(_ name: String, _ values: [DataValue]) {
        precondition(values.count == count)
        numberColumns[name] = nil
        numberRanges[name] = nil
        store(name, values)
    }

    /// Sets a column of numbers (NaN is a missing value, null in the cells); its cells are made on demand.
    public mutating func setNumbers(_ name: String, _ numbers: [Double], range: NumberRange? = nil) {
        precondition(numbers.count == count)
        store(name, [])
        numberColumns[name] = numbers
        numberRanges[name] = range
    }

    /// Replaces or appends (as it is, no all-null column made first) the cells of `name`.
    private mutating func store(_ name: String, _ values: [DataValue]) {
        if let existing = indexOf[name] { boxed[existing] = values; return }
        names.append(name)
        boxed.append(values)
        indexOf[name] = boxed.count - 1
    }

    /// A table of the rows at `rows`, in that order (number columns stay numbers).
    public func selecting(_ rows: [Int]) -> DataTable {
        var result = DataTable(count: rows.count)
        for (index, name) in names.enumerated() {
            if boxed[index].count != count, let numbers = numberColumns[name] {
                result.setNumbers(name, rows.map { numbers[$0] })
            } else {
                let values = boxed[index]
                result.set(name, rows.map { values[$0] })
            }
        }
        return result
    }

    /// The value of `field` in `row` (null when the field is absent).
    public func value(_ field: String, _ row: Int) -> DataValue {
        guard let column = indexOf[field] else { return .null }
        return value(at: column, row)
    }
}

/// What one pass over a number column found: the smallest and largest finite value (nil when there is none)
/// and the first row holding an infinity.
public struct NumberRange: Sendable, Equatable {
    public var low: Double?
    public var high: Double?
    public var firstInfinite: Int?

    public init(low: Double? = nil, high: Double? = nil, firstInfinite: Int? = nil) {
        self.low = low
        self.high = high
        self.firstInfinite = firstInfinite
    }
}
