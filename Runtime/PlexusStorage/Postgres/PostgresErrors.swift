import CLibPQ
import Foundation

/// Maps PostgreSQL failures (SQLSTATE classes) to `StorageError` kinds.
enum PostgresErrors {
    /// The kind for a SQLSTATE.
    static func kind(sqlState: String) -> StorageError.Kind {
        switch sqlState {
        case "40001", "40P01": return .serializationFailure
        case "57014": return .timeout
        case "57P01", "57P02", "57P03": return .unavailable
        case "42501": return .denied
        case "53100": return .diskFull
        case "55P03": return .busy
        case "XX001", "XX002": return .corrupt
        default: break
        }
        switch sqlState.prefix(2) {
        case "23": return .constraint
        case "08": return .unavailable
        case "28": return .denied
        case "53": return .busy
        case "42", "22", "0A", "25", "2B", "34", "3F", "26", "2F", "P0": return .misuse
        case "58": return .io
        default: return .other
        }
    }

    /// The error a failed result carries (SQLSTATE and primary message), or the connection's message.
    static func error(result: OpaquePointer?, connection: OpaquePointer?) -> StorageError {
        if let result, let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))) {
            let sqlState = String(cString: state)
            let message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) } ?? "unknown error"
            var text = message
            if let detail = PQresultErrorField(result, Int32(UInt8(ascii: "D"))) { text += " (\(String(cString: detail)))" }
            return StorageError(kind(sqlState: sqlState), text, sqlState: sqlState)
        }
        return connectionError(connection)
    }

    /// The connection's last error as `.unavailable` (libpq gives no SQLSTATE for a lost connection).
    static func connectionError(_ connection: OpaquePointer?) -> StorageError {
        var message = connection.flatMap { PQerrorMessage($0) }.map { String(cString: $0) } ?? "no connection"
        message = message.trimmingCharacters(in: .whitespacesAndNewlines)
        if message.isEmpty { message = "the connection to PostgreSQL was lost" }
        return StorageError(.unavailable, "PostgreSQL is unavailable: \(message)")
    }
}
