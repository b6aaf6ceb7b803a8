import Foundation

/// Inline data rows read straight into columns: the `.rows` case of ``JSONValue``.
public final class RowTable: Sendable {
    /// The rows, one column per field.
    public let table: DataTable

    init(_ table: DataTable) { self.table = table }
}

extension JSONParser {
    /// Parses a top-level JSON array of flat objects (a stored data set) into a table of at most `maxRows` rows.
    /// - Throws: ``ChartError`` `.syntax` for bad JSON, `.unsupported` for rows that are not flat objects,
    ///   `.tooLarge` beyond `maxRows`.
    public static func parseRows(_ bytes: [UInt8], path: String, maxRows: Int) throws(ChartError) -> DataTable {
        let value = try bytes.withUnsafeBufferPointer { buffer throws(ChartError) -> JSONValue in
            var parser = JSONParser(bytes: buffer, maxDepth: 64)
            parser.skipWhitespace()
            guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "[") else {
                throw ChartError(.unsupported, path: path, "must be an array of objects")
            }
            let value = try parser.rowsOrArray(depth: 0)
            parser.skipWhitespace()
            guard parser.index == buffer.count else { throw parser.error("unexpected data after the JSON value") }
            return value
        }
        return try DataTable.from(values: value, path: path, maxRows: maxRows)
    }

    /// At `[`: an array of flat objects becomes `.rows` (columns filled as the bytes are read, keys matched
    /// by their bytes against the previous row's order, numbers never boxed per row); anything else (a
    /// nested value, a row that is not an object) is read again as a plain `.array`.
    mutating func rowsOrArray(depth: Int) throws(ChartError) -> JSONValue {
        let start = index
        if let table = try columns() { return .rows(RowTable(table)) }
        index = start
        return try array(depth: depth)
    }

    /// The columns of an array of flat objects, nil when the array is something else.
    private mutating func columns() throws(ChartError) -> DataTable? {
        index += 1
        var builder = ColumnBuilder()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return builder.table() }
        var row = 0
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
            index += 1
            skipWhitespace()
            var member = 0
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1 } else {
                while true {
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name") }
                    let column = try key(&builder, member: member)
                    skipWhitespace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
                    index += 1
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unexpected end of input") }
                    let cell: DataValue
                    switch bytes[index] {
                    case UInt8(ascii: "{"), UInt8(ascii: "["): return nil
                    case UInt8(ascii: "\""): cell = .string(try string())
                    case UInt8(ascii: "t"): try literal("true"); cell = .bool(true)
                    case UInt8(ascii: "f"): try literal("false"); cell = .bool(false)
                    case UInt8(ascii: "n"): try literal("null"); cell = .null
                    case UInt8(ascii: "N"), UInt8(ascii: "I"): throw error("NaN and Infinity are not JSON numbers")
                    default: cell = .number(try number())
                    }
                    guard builder.set(column, row: row, cell) else { throw error("duplicate member '\(builder.names[column])'") }
                    member += 1
                    skipWhitespace()
                    guard index < bytes.count else { throw error("unexpected end of input") }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; break }
                    throw error("expected ',' or '}'")
                }
            }
            row += 1
            builder.endRow(row)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return builder.table() }
            throw error("expected ',' or ']'")
        }
    }

    /// Reads a member name and returns its column: the column the same position had in the previous row
    /// when the bytes match, else a search, else a new column.
    private mutating func key(_ builder: inout ColumnBuilder, member: Int) throws(ChartError) -> Int {
        let start = index + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            if member < builder.order.count, builder.matches(builder.order[member], bytes, start, end) {
                index = end + 1
                return builder.order[member]
            }
            for column in builder.names.indices where builder.matches(column, bytes, start, end) {
                index = end + 1
                builder.remember(column, at: member)
                return column
            }
        }
        let name = try string()
        let column = builder.names.firstIndex(of: name) ?? builder.add(name)
        builder.remember(column, at: member)
        return column
    }
}

/// Columns under construction: cells appended row by row, nulls for fields a row does not have.
private struct ColumnBuilder {
    var names: [String] = []
    var keys: [[UInt8]] = []
    var columns: [[DataValue]] = []
    /// The row each column was last set in (a duplicate member check), -1 for none.
    var lastRow: [Int] = []
    /// The columns of the previous row's members, in order.
    var order: [Int] = []
    var rows = 0

    mutating func add(_ name: String) -> Int {
        names.append(name)
        keys.append(Array(name.utf8))
        columns.append(Array(repeating: .null, count: rows))
        lastRow.append(-1)
        return names.count - 1
    }

    func matches(_ column: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        let key = keys[column]
        guard key.count == end - start else { return false }
        for offset in 0..<key.count where key[offset] != bytes[start + offset] { return false }
        return true
    }

    mutating func remember(_ column: Int, at member: Int) {
        if member < order.count { order[member] = column } else { order.append(column) }
    }

    /// Sets the cell; false when the row already has this member.
    mutating func set(_ column: Int, row: Int, _ value: DataValue) -> Bool {
        guard lastRow[column] != row else { return false }
        lastRow[column] = row
        columns[column].append(value)
        return true
    }

    /// Pads the columns the finished row did not mention.
    mutating func endRow(_ count: Int) {
        rows = count
        for column in columns.indices where columns[column].count < count { columns[column].append(.null) }
    }

    func table() -> DataTable {
        DataTable(names: names, columns: columns, count: rows)
    }
}

