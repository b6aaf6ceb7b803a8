/// One row-level change to a plugin's own table, reported after its transaction commits.
public struct StorageChange: Sendable, Hashable, CustomStringConvertible {
    /// What happened to the row.
    public enum Operation: String, Sendable, Hashable {
        /// The row was inserted.
        case insert
        /// The row was updated.
        case update
        /// The row was deleted.
        case delete
    }

    /// The table the row belongs to.
    public let table: String
    /// What happened to the row.
    public let operation: Operation
    /// The row's rowid.
    public let rowID: Int64

    /// Creates a change record.
    public init(table: String, operation: Operation, rowID: Int64) {
        self.table = table
        self.operation = operation
        self.rowID = rowID
    }

    /// `insert items#3`.
    public var description: String { "\(operation.rawValue) \(table)#\(rowID)" }
}
