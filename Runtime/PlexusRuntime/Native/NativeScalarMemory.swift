import Foundation

/// Moves checked scalar values between ``NativeValue``s and C memory.
enum NativeScalarMemory {
    /// Stores `value` as `scalar` at `target`, refusing a value of the wrong kind or out of the type's range.
    static func store(_ value: NativeValue, as scalar: NativeScalar, at target: UnsafeMutableRawPointer, name: String) throws(NativeCallProblem) {
        switch scalar {
        case .bool:
            guard case .bool(let flag) = value else { throw .badArgument(name, "must be true or false, got \(value.kind)") }
            target.storeBytes(of: flag ? 1 : 0, as: UInt8.self)
        case .float, .double:
            let number: Double
            switch value {
            case .integer(let integer): number = Double(integer)
            case .unsigned(let integer): number = Double(integer)
            case .double(let real): number = real
            default: throw .badArgument(name, "must be a number, got \(value.kind)")
            }
            if scalar == .float {
                guard abs(number) <= Double(Float.greatestFiniteMagnitude) else { throw .badArgument(name, "\(number) is out of the range of a C float") }
                target.storeBytes(of: Float(number), as: Float.self)
            } else {
                target.storeBytes(of: number, as: Double.self)
            }
        case .integer(let bits, let signed):
            let limits = range(bits: bits, signed: signed)
            let fits: Bool, bitsValue: UInt64
            switch value {
            case .integer(let integer):
                fits = integer >= 0 ? UInt64(integer) <= limits.max : signed && integer >= limits.min
                bitsValue = UInt64(bitPattern: integer)
            case .unsigned(let integer):
                fits = integer <= limits.max
                bitsValue = integer
            default: throw .badArgument(name, "must be an integer (\(scalar.name)), got \(value.kind)")
            }
            guard fits else { throw .badArgument(name, "\(value.text) is out of the range of \(scalar.name) (\(limits.min) to \(limits.max))") }
            switch bits {
            case 8: target.storeBytes(of: UInt8(truncatingIfNeeded: bitsValue), as: UInt8.self)
            case 16: target.storeBytes(of: UInt16(truncatingIfNeeded: bitsValue), as: UInt16.self)
            case 32: target.storeBytes(of: UInt32(truncatingIfNeeded: bitsValue), as: UInt32.self)
            default: target.storeBytes(of: bitsValue, as: UInt64.self)
            }
        }
    }

    /// Stores a length the runtime computed (it was checked to fit first).
    static func storeLength(_ length: Int, as scalar: NativeScalar, at target: UnsafeMutableRawPointer, name: String) throws(NativeCallProblem) {
        try store(.integer(Int64(length)), as: scalar, at: target, name: name)
    }

    /// The smallest and largest value of an integer type.
    static func range(bits: Int, signed: Bool) -> (min: Int64, max: UInt64) {
        if bits == 64 { return signed ? (Int64.min, UInt64(Int64.max)) : (0, UInt64.max) }
        return signed ? (-(Int64(1) << (bits - 1)), (UInt64(1) << (bits - 1)) - 1) : (0, (UInt64(1) << bits) - 1)
    }

    /// The value of `scalar` at `source`, as JSON. (A narrow integer return value is widened by
    /// libffi to 64 bits; on little-endian machines its low bytes are the value itself.)
    static func json(_ scalar: NativeScalar, at source: UnsafeRawPointer) -> String {
        switch scalar {
        case .bool: source.load(as: UInt8.self) != 0 ? "true" : "false"
        case .float: NativeJSONWriter.number(Double(source.loadUnaligned(as: Float.self)))
        case .double: NativeJSONWriter.number(source.loadUnaligned(as: Double.self))
        case .integer(let bits, let signed):
            switch (bits, signed) {
            case (8, true): String(source.load(as: Int8.self))
            case (8, false): String(source.load(as: UInt8.self))
            case (16, true): String(source.loadUnaligned(as: Int16.self))
            case (16, false): String(source.loadUnaligned(as: UInt16.self))
            case (32, true): String(source.loadUnaligned(as: Int32.self))
            case (32, false): String(source.loadUnaligned(as: UInt32.self))
            case (_, true): String(source.loadUnaligned(as: Int64.self))
            default: String(source.loadUnaligned(as: UInt64.self))
            }
        }
    }

    /// An integer value of `scalar` at `source` (for error conventions and out lengths); nil for non-integers.
    static func integer(_ scalar: NativeScalar, at source: UnsafeRawPointer) -> Int64? {
        switch scalar {
        case .integer(let bits, let signed):
            switch (bits, signed) {
            case (8, true): Int64(source.load(as: Int8.self))
            case (8, false): Int64(source.load(as: UInt8.self))
            case (16, true): Int64(source.loadUnaligned(as: Int16.self))
            case (16, false): Int64(source.loadUnaligned(as: UInt16.self))
            case (32, true): Int64(source.loadUnaligned(as: Int32.self))
            case (32, false): Int64(source.loadUnaligned(as: UInt32.self))
            case (_, true): source.loadUnaligned(as: Int64.self)
            default: Int64(clamping: source.loadUnaligned(as: UInt64.self))
            }
        case .bool: Int64(source.load(as: UInt8.self))
        default: nil
        }
    }
}

extension NativeValue {
    /// The value as it appears in messages.
    var text: String {
        switch self {
        case .integer(let value): String(value)
        case .unsigned(let value): String(value)
        case .double(let value): String(value)
        case .bool(let value): String(value)
        case .string(let value): "'\(value.prefix(40))'"
        default: kind
        }
    }
}
