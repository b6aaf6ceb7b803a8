import CPlexusABI

/// A SQL parameter or result value.
public enum SQLValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByNilLiteral {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// A text value.
    public init(stringLiteral value: String) { self = .text(value) }
    /// An integer value.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A real value.
    public init(floatLiteral value: Double) { self = .real(value) }
    /// NULL.
    public init(nilLiteral: ()) { self = .null }

    /// The integer, if this is one.
    public var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
    /// The real (or integer) as a Double.
    public var real: Double? {
        switch self {
        case .real(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
    /// The text, if this is text.
    public var text: String? { if case .text(let value) = self { value } else { nil } }
    /// The bytes, if this is a blob.
    public var blob: [UInt8]? { if case .blob(let value) = self { value } else { nil } }

    init(_ raw: plexus_value) {
        switch raw.type {
        case Int32(PLEXUS_VALUE_INTEGER.rawValue): self = .integer(raw.integer)
        case Int32(PLEXUS_VALUE_REAL.rawValue): self = .real(raw.real)
        case Int32(PLEXUS_VALUE_TEXT.rawValue): self = .text(raw.bytes.string)
        case Int32(PLEXUS_VALUE_BLOB.rawValue): self = .blob(raw.bytes.bytes)
        default: self = .null
        }
    }

    /// Lends C values for `values` (pointers valid during `body`).
    static func withC<R>(_ values: [SQLValue], _ body: (UnsafeBufferPointer<plexus_value>) -> R) -> R {
        withNested([values]) { pointers, _ in body(UnsafeBufferPointer(start: pointers[0], count: values.count)) }
    }

    /// Lends C arrays for several parameter lists at once.
    static func withNested<R>(_ lists: [[SQLValue]], _ body: (UnsafeBufferPointer<UnsafePointer<plexus_value>?>, UnsafeBufferPointer<Int>) -> R) -> R {
        var pack = BytePack([])
        for list in lists {
            for value in list {
                switch value {
                case .text(let text): pack.append(text.utf8)
                case .blob(let bytes): pack.append(bytes)
                default: pack.append([UInt8]())
                }
            }
        }
        return pack.withBytes { bytes in
            var flat: [plexus_value] = []
            var index = 0
            for list in lists {
                for value in list {
                    var raw = plexus_value()
                    switch value {
                    case .null: raw.type = Int32(PLEXUS_VALUE_NULL.rawValue)
                    case .integer(let number): raw.type = Int32(PLEXUS_VALUE_INTEGER.rawValue); raw.integer = number
                    case .real(let number): raw.type = Int32(PLEXUS_VALUE_REAL.rawValue); raw.real = number
                    case .text: raw.type = Int32(PLEXUS_VALUE_TEXT.rawValue); raw.bytes = bytes[index]
                    case .blob: raw.type = Int32(PLEXUS_VALUE_BLOB.rawValue); raw.bytes = bytes[index]
                    }
                    flat.append(raw)
                    index += 1
                }
            }
            return flat.withUnsafeBufferPointer { flat in
                var pointers: [UnsafePointer<plexus_value>?] = []
                var offset = 0
                for list in lists {
                    pointers.append(flat.baseAddress.map { $0 + offset })
                    offset += list.count
                }
                let counts = lists.map(\.count)
                return pointers.withUnsafeBufferPointer { pointers in counts.withUnsafeBufferPointer { body(pointers, $0) } }
            }
        }
    }
}

/// A result row; values by position or by column name.
public struct SQLRow: Sendable {
    /// Column names.
    public let columns: [String]
    /// Values, in column order.
    public let values: [SQLValue]

    /// Creates a row (for storage drivers and tests).
    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value at `index`.
    public subscript(index: Int) -> SQLValue { values[index] }
    /// The value of column `name` (NULL when there is no such column).
    public subscript(name: String) -> SQLValue { columns.firstIndex(of: name).map { values[$0] } ?? .null }
}
