import CSQLite

/// SQLite's SQLITE_TRANSIENT (not imported into Swift): makes SQLite copy bound data.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// Binding parameters and reading columns of a prepared statement. Worker-confined.
enum StatementIO {
    /// Binds `parameters` to positions 1...n; the count must match the statement's.
    static func bind(_ parameters: [StorageValue], to stmt: OpaquePointer) -> (code: Int32, message: String?) {
        let expected = Int(sqlite3_bind_parameter_count(stmt))
        if expected != parameters.count {
            return (SQLITE_RANGE, "statement has \(expected) parameter(s), \(parameters.count) given")
        }
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let rc: Int32
            switch value {
            case .null:
                rc = sqlite3_bind_null(stmt, index)
            case .integer(let v):
                rc = sqlite3_bind_int64(stmt, index, v)
            case .real(let v):
                rc = sqlite3_bind_double(stmt, index, v)
            case .text(let v):
                let bytes = Array(v.utf8)
                rc = bytes.withUnsafeBufferPointer { buffer in
                    // An empty buffer has no base address, which SQLite would bind as NULL.
                    guard let base = buffer.baseAddress, !buffer.isEmpty else {
                        return sqlite3_bind_text(stmt, index, "", 0, sqliteTransient)
                    }
                    return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                        sqlite3_bind_text(stmt, index, $0, Int32(buffer.count), sqliteTransient)
                    }
                }
            case .blob(let v):
                if v.isEmpty {
                    rc = sqlite3_bind_zeroblob(stmt, index, 0)
                } else {
                    rc = v.withUnsafeBytes {
                        sqlite3_bind_blob(stmt, index, $0.baseAddress, Int32($0.count), sqliteTransient)
                    }
                }
            }
            if rc != SQLITE_OK { return (rc, nil) }
        }
        return (SQLITE_OK, nil)
    }

    /// The column names of a statement's result.
    static func columnNames(_ stmt: OpaquePointer) -> [String] {
        (0..<sqlite3_column_count(stmt)).map { i in
            sqlite3_column_name(stmt, i).map { String(cString: $0) } ?? ""
        }
    }

    /// The current row's values.
    static func row(_ stmt: OpaquePointer) -> [StorageValue] {
        (0..<sqlite3_column_count(stmt)).map { column(stmt, $0) }
    }

    /// One column of the current row, typed by its storage class.
    static func column(_ stmt: OpaquePointer, _ i: Int32) -> StorageValue {
        switch sqlite3_column_type(stmt, i) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(stmt, i))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(stmt, i))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(stmt, i) else { return .text("") }
            let count = Int(sqlite3_column_bytes(stmt, i))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(stmt, i))
            guard count > 0, let bytes = sqlite3_column_blob(stmt, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }
}
