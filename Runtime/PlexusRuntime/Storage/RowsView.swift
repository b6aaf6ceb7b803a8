import CPlexusABI
import PlexusStorage

/// Lends a C view (`plexus_rows`) of a result to a callback; valid only during the call.
enum RowsView {
    static func with<R>(columns: [String], rows: [[StorageValue]], changes: Int64 = 0, lastInsertRowID: Int64 = 0,
                        _ body: (UnsafePointer<plexus_rows>) -> R) -> R {
        // All text and blob bytes go into one buffer; values point into it.
        var storage: [UInt8] = []
        var columnSpans: [Range<Int>] = []
        for column in columns {
            let start = storage.count
            storage.append(contentsOf: column.utf8)
            columnSpans.append(start..<storage.count)
        }
        var valueSpans: [Range<Int>?] = []
        for row in rows {
            for value in row {
                switch value {
                case .text(let text):
                    let start = storage.count
                    storage.append(contentsOf: text.utf8)
                    valueSpans.append(start..<storage.count)
                case .blob(let bytes):
                    let start = storage.count
                    storage.append(contentsOf: bytes)
                    valueSpans.append(start..<storage.count)
                default:
                    valueSpans.append(nil)
                }
            }
        }
        return storage.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress)?.assumingMemoryBound(to: CChar.self)
            func bytes(_ span: Range<Int>?) -> plexus_bytes {
                guard let span else { return plexus_bytes(data: nil, length: 0) }
                return plexus_bytes(data: base.map { $0 + span.lowerBound }, length: span.count)
            }
            let names = columnSpans.map { bytes($0) }
            var values: [plexus_value] = []
            values.reserveCapacity(valueSpans.count)
            var index = 0
            for row in rows {
                for value in row {
                    var raw = plexus_value()
                    switch value {
                    case .null: raw.type = Int32(PLEXUS_VALUE_NULL.rawValue)
                    case .integer(let number): raw.type = Int32(PLEXUS_VALUE_INTEGER.rawValue); raw.integer = number
                    case .real(let number): raw.type = Int32(PLEXUS_VALUE_REAL.rawValue); raw.real = number
                    case .text: raw.type = Int32(PLEXUS_VALUE_TEXT.rawValue); raw.bytes = bytes(valueSpans[index])
                    case .blob: raw.type = Int32(PLEXUS_VALUE_BLOB.rawValue); raw.bytes = bytes(valueSpans[index])
                    }
                    values.append(raw)
                    index += 1
                }
            }
            return names.withUnsafeBufferPointer { names in
                values.withUnsafeBufferPointer { values in
                    var result = plexus_rows(struct_size: UInt32(MemoryLayout<plexus_rows>.size), column_count: columns.count,
                                             columns: names.baseAddress, row_count: rows.count, values: values.baseAddress,
                                             changes: changes, last_insert_rowid: lastInsertRowID)
                    return body(&result)
                }
            }
        }
    }

    /// Swift values from C parameters.
    static func parameters(_ pointer: UnsafePointer<plexus_value>?, _ count: Int) -> [StorageValue] {
        guard let pointer else { return [] }
        return (0..<count).map { index in
            let value = pointer[index]
            let bytes = value.bytes.data.map { Array(UnsafeRawBufferPointer(start: $0, count: value.bytes.length)) } ?? []
            switch value.type {
            case Int32(PLEXUS_VALUE_INTEGER.rawValue): return .integer(value.integer)
            case Int32(PLEXUS_VALUE_REAL.rawValue): return .real(value.real)
            case Int32(PLEXUS_VALUE_TEXT.rawValue): return .text(String(decoding: bytes, as: UTF8.self))
            case Int32(PLEXUS_VALUE_BLOB.rawValue): return .blob(bytes)
            default: return .null
            }
        }
    }
}
