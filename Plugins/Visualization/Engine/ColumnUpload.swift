/// A chart with its data as binary columns: the fast way to send a large series (no JSON number parsing).
///
/// Layout (every integer little-endian):
/// ```
/// "PXC1"                      4 bytes, the magic
/// header length H             UInt32
/// header                      H bytes of JSON: {"spec": {...}, "columns": ["t", "v", ...], "rows": N}
/// column 0 ... column C-1     N float64 values each (IEEE 754, little-endian), in the header's order
/// ```
/// The columns become the spec's top-level data (the spec must not give `data` itself). Faults of the
/// upload are named `header.rows`, `header.columns`, ...; faults of the spec by their JSON path in it. A NaN is a
/// missing value (skipped, like a JSON null); infinities are refused where a position needs a number.
public enum ColumnUpload {
    /// The first four bytes of an upload (a JSON document cannot start with them).
    public static let magic: [UInt8] = Array("PXC1".utf8)
    /// The media type of an upload.
    public static let contentType = "application/vnd.plexus.columns"
    /// The longest header.
    public static let maxHeaderBytes = 1 << 20
    /// The most columns.
    public static let maxColumns = 64

    /// Whether `bytes` start like an upload.
    public static func matches(_ bytes: [UInt8]) -> Bool { bytes.count >= 4 && Array(bytes[0..<4]) == magic }

    /// Reads an upload into a spec whose data is the columns; at most `maxRows` rows.
    public static func parse(_ bytes: [UInt8], maxRows: Int) throws(ChartError) -> ChartSpec {
        guard matches(bytes), bytes.count >= 8 else { throw ChartError(.syntax, path: "header", "a columnar upload starts with \"PXC1\" and a 4-byte header length") }
        let headerLength = Int(bytes[4]) | Int(bytes[5]) << 8 | Int(bytes[6]) << 16 | Int(bytes[7]) << 24
        guard headerLength <= maxHeaderBytes, 8 + headerLength <= bytes.count else {
            throw ChartError(.syntax, path: "header", "the header length \(headerLength) runs past the body (\(bytes.count) bytes) or past \(maxHeaderBytes) bytes")
        }
        let header = try members(try JSONParser.parse(Array(bytes[8..<8 + headerLength])), "header", allowed: ["spec", "columns", "rows"])
        guard case .number(let rowCount)? = header["rows"], rowCount >= 0, rowCount == rowCount.rounded() else {
            throw ChartError(.invalid, path: "header.rows", "missing or not a whole number of rows")
        }
        guard rowCount <= Double(maxRows) else { throw ChartError(.tooLarge, path: "header.rows", "\(Int(rowCount)) rows; the limit is \(maxRows)") }
        let names = try strings(header["columns"], "header.columns")
        guard !names.isEmpty, names.count <= maxColumns else { throw ChartError(.invalid, path: "header.columns", "give 1 to \(maxColumns) column names") }
        guard Set(names).count == names.count else { throw ChartError(.invalid, path: "header.columns", "column names repeat") }
        let rows = Int(rowCount), start = 8 + headerLength
        guard bytes.count - start == rows * names.count * 8 else {
            throw ChartError(.invalid, path: "header.columns", "\(names.count) columns of \(rows) float64 values need \(rows * names.count * 8) bytes after the header; the body has \(bytes.count - start)")
        }
        var table = DataTable(count: rows)
        bytes.withUnsafeBytes { raw in
            for (index, name) in names.enumerated() {
                let base = start + index * rows * 8
                // The column's range is measured as it is read (no pass of its own later).
                var low = Double.infinity, high = -Double.infinity, firstInfinite = Int.max
                let numbers = [Double](unsafeUninitializedCapacity: rows) { buffer, initialized in
                    for row in 0..<rows {
                        let value = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + row * 8, as: UInt64.self)))
                        buffer[row] = value
                        if value.isFinite { low = min(low, value); high = max(high, value) } else if value.isInfinite { firstInfinite = min(firstInfinite, row) }
                    }
                    initialized = rows
                }
                table.setNumbers(name, numbers, range: NumberRange(low: low <= high ? low : nil, high: low <= high ? high : nil,
                                                                   firstInfinite: firstInfinite == Int.max ? nil : firstInfinite))
            }
        }
        guard case .object(var spec)? = header["spec"] else { throw ChartError(.invalid, path: "header.spec", "missing (the chart spec, without data)") }
        if spec.contains(where: { $0.key == "data" }) {
            throw ChartError(.unsupported, path: "header.spec.data", "a columnar upload carries its data in its columns; leave data out of the spec")
        }
        spec.append((key: "data", value: .object([(key: "values", value: .rows(RowTable(table)))])))
        var parser = SpecParser()
        return try parser.parse(.object(spec))
    }
}
