import CLibPQ

/// Parameters to libpq and result values back: `StorageValue` in, text-format results out.
enum PostgresValues {
    /// Type OIDs sent with parameters (0: let the server infer, as for text and NULL).
    static let int8OID: UInt32 = 20
    static let float8OID: UInt32 = 701
    static let byteaOID: UInt32 = 17

    /// The OID a parameter is declared with.
    static func typeOID(_ value: StorageValue) -> UInt32 {
        switch value {
        case .integer: int8OID
        case .real: float8OID
        case .blob: byteaOID
        case .text, .null: 0
        }
    }

    /// One character per parameter type, for the prepared-statement cache key.
    static func signature(_ parameters: [StorageValue]) -> String {
        String(parameters.map { value -> Character in
            switch value {
            case .integer: "i"
            case .real: "r"
            case .blob: "b"
            case .text: "t"
            case .null: "n"
            }
        })
    }

    /// Calls `body` with libpq's parameter arrays (values, lengths, formats); text bytes carry a NUL.
    static func withParameters<R>(
        _ parameters: [StorageValue],
        _ body: (_ values: [UnsafePointer<CChar>?], _ lengths: [Int32], _ formats: [Int32]) throws(StorageError) -> R
    ) throws(StorageError) -> R {
        var buffers: [[UInt8]?] = []
        buffers.reserveCapacity(parameters.count)
        var lengths: [Int32] = []
        var formats: [Int32] = []
        for (offset, value) in parameters.enumerated() {
            switch value {
            case .null:
                buffers.append(nil); lengths.append(0); formats.append(0)
            case .integer(let v):
                buffers.append(Array(String(v).utf8) + [0]); lengths.append(0); formats.append(0)
            case .real(let v):
                let text = v.isNaN ? "NaN" : v.isInfinite ? (v < 0 ? "-Infinity" : "Infinity") : "\(v)"
                buffers.append(Array(text.utf8) + [0]); lengths.append(0); formats.append(0)
            case .text(let v):
                if v.utf8.contains(0) {
                    throw StorageError(.misuse, "parameter \(offset + 1): PostgreSQL text cannot hold NUL (U+0000); bind it as a blob")
                }
                buffers.append(Array(v.utf8) + [0]); lengths.append(0); formats.append(0)
            case .blob(let v):
                buffers.append(v); lengths.append(Int32(v.count)); formats.append(1)
            }
        }
        return try pinned(buffers) { (pointers) throws(StorageError) -> R in try body(pointers, lengths, formats) }
    }

    /// Calls `body` with a pointer to each buffer (nil for NULL), valid during the call.
    private static func pinned<R>(
        _ buffers: [[UInt8]?], _ body: ([UnsafePointer<CChar>?]) throws(StorageError) -> R
    ) throws(StorageError) -> R {
        // One flat allocation: offsets first, then pointers into it.
        var flat: [UInt8] = []
        var offsets: [Int?] = []
        for buffer in buffers {
            if let buffer {
                offsets.append(flat.count)
                flat.append(contentsOf: buffer)
                flat.append(0)
            } else {
                offsets.append(nil)
            }
        }
        if flat.isEmpty { flat.append(0) }
        let result: Result<R, StorageError> = flat.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            let pointers = offsets.map { $0.map { base + $0 } }
            do throws(StorageError) {
                return .success(try body(pointers))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The rows of a `PGRES_TUPLES_OK` result, typed by column OID.
    static func rows(_ result: OpaquePointer) -> QueryResult {
        let columnCount = PQnfields(result)
        let rowCount = PQntuples(result)
        let columns = (0..<columnCount).map { PQfname(result, $0).map { String(cString: $0) } ?? "" }
        let types = (0..<columnCount).map { PQftype(result, $0) }
        var rows: [StorageRow] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [StorageValue] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                values.append(value(result, row, column, type: types[Int(column)]))
            }
            rows.append(StorageRow(columns: columns, values: values))
        }
        return QueryResult(columns: columns, rows: rows)
    }

    /// One field, typed by its column's OID: integers, floats (and numeric), booleans (0/1), bytea, else text.
    static func value(_ result: OpaquePointer, _ row: Int32, _ column: Int32, type: UInt32) -> StorageValue {
        if PQgetisnull(result, row, column) != 0 { return .null }
        guard let raw = PQgetvalue(result, row, column) else { return .null }
        let length = Int(PQgetlength(result, row, column))
        let bytes = UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self)
        let buffer = UnsafeBufferPointer(start: bytes, count: length)
        switch type {
        case 20, 21, 23, 26:  // int8, int2, int4, oid
            return Int64(String(decoding: buffer, as: UTF8.self)).map(StorageValue.integer) ?? .text(String(decoding: buffer, as: UTF8.self))
        case 700, 701, 1700:  // float4, float8, numeric
            return Double(String(decoding: buffer, as: UTF8.self)).map(StorageValue.real) ?? .text(String(decoding: buffer, as: UTF8.self))
        case 16:  // bool
            return .integer(length > 0 && bytes[0] == UInt8(ascii: "t") ? 1 : 0)
        case byteaOID:
            return .blob(decodeHex(buffer))
        default:
            return .text(String(decoding: buffer, as: UTF8.self))
        }
    }

    /// `\x0aff` (bytea's text output) to bytes.
    static func decodeHex(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x") else { return Array(text) }
        func nibble(_ c: UInt8) -> UInt8 {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: 0
            }
        }
        var out = [UInt8]()
        out.reserveCapacity((text.count - 2) / 2)
        var i = 2
        while i + 1 < text.count {
            out.append(nibble(text[i]) << 4 | nibble(text[i + 1]))
            i += 2
        }
        return out
    }
}
