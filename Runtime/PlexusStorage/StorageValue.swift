/// A value bound to or read from SQL: SQLite's five storage classes.
public enum StorageValue: Sendable, Hashable {
    /// SQL NULL.
    case null
    /// A 64-bit signed integer.
    case integer(Int64)
    /// A 64-bit float.
    case real(Double)
    /// UTF-8 text.
    case text(String)
    /// Raw bytes.
    case blob([UInt8])
}

extension StorageValue: ExpressibleByNilLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral
{
    /// `nil` is `.null`.
    public init(nilLiteral: ()) { self = .null }
    /// An integer literal is `.integer`.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A float literal is `.real`.
    public init(floatLiteral value: Double) { self = .real(value) }
    /// A string literal is `.text`.
    public init(stringLiteral value: String) { self = .text(value) }
}

extension StorageValue {
    /// The integer, if this is `.integer`.
    public var integerValue: Int64? { if case .integer(let v) = self { v } else { nil } }
    /// The number, if this is `.real` or `.integer`.
    public var realValue: Double? {
        switch self {
        case .real(let v): v
        case .integer(let v): Double(v)
        default: nil
        }
    }
    /// The string, if this is `.text`.
    public var textValue: String? { if case .text(let v) = self { v } else { nil } }
    /// The bytes, if this is `.blob`.
    public var blobValue: [UInt8]? { if case .blob(let v) = self { v } else { nil } }
    /// Whether this is `.null`.
    public var isNull: Bool { self == .null }
}

/// One result row: values in column order, addressable by index or column name.
public struct StorageRow: Sendable, Hashable {
    /// The column names of the result this row belongs to.
    public let columns: [String]
    /// The values, one per column.
    public let values: [StorageValue]

    /// The value at a column index.
    public subscript(index: Int) -> StorageValue { values[index] }
    /// The value of the first column with that name, or nil if there is none.
    public subscript(column: String) -> StorageValue? {
        columns.firstIndex(of: column).map { values[$0] }
    }
}

/// The rows a query produced.
public struct QueryResult: Sendable, Hashable {
    /// The column names, in order.
    public let columns: [String]
    /// The rows, in the order SQLite returned them.
    public let rows: [StorageRow]
}

/// What a data-changing statement did.
public struct ExecuteResult: Sendable, Hashable {
    /// Rows inserted, updated or deleted by the statement (`sqlite3_changes`).
    public let changes: Int
    /// The rowid of the most recent successful INSERT on this connection.
    public let lastInsertRowID: Int64
}
