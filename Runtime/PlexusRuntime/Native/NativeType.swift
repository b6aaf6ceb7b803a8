import Foundation
import CFFI

/// A C scalar a native manifest may name: integers of 8 to 64 bits, `float`, `double`, `bool`.
enum NativeScalar: Equatable, Sendable {
    case integer(bits: Int, signed: Bool)
    case float, double, bool

    /// The manifest's spelling of each scalar, with the C aliases of LP64 Linux.
    static let names: [String: NativeScalar] = [
        "int8": .integer(bits: 8, signed: true), "uint8": .integer(bits: 8, signed: false),
        "int16": .integer(bits: 16, signed: true), "uint16": .integer(bits: 16, signed: false),
        "int32": .integer(bits: 32, signed: true), "uint32": .integer(bits: 32, signed: false),
        "int64": .integer(bits: 64, signed: true), "uint64": .integer(bits: 64, signed: false),
        "int": .integer(bits: 32, signed: true), "uint": .integer(bits: 32, signed: false),
        "long": .integer(bits: 64, signed: true), "ulong": .integer(bits: 64, signed: false),
        "size_t": .integer(bits: 64, signed: false), "ssize_t": .integer(bits: 64, signed: true),
        "float": .float, "double": .double, "bool": .bool,
    ]

    /// Bytes the value occupies in C.
    var size: Int {
        switch self {
        case .integer(let bits, _): bits / 8
        case .float: 4
        case .double: 8
        case .bool: 1
        }
    }

    /// The canonical name (as the manifest and `plexus plugin inspect` spell it).
    var name: String {
        switch self {
        case .integer(let bits, let signed): "\(signed ? "" : "u")int\(bits)"
        case .float: "float"
        case .double: "double"
        case .bool: "bool"
        }
    }

    /// libffi's descriptor of this scalar.
    var ffiType: UnsafeMutablePointer<ffi_type> {
        switch self {
        case .integer(8, true): plexus_ffi_sint8()
        case .integer(8, false), .bool: plexus_ffi_uint8()
        case .integer(16, true): plexus_ffi_sint16()
        case .integer(16, false): plexus_ffi_uint16()
        case .integer(32, true): plexus_ffi_sint32()
        case .integer(32, false): plexus_ffi_uint32()
        case .integer(_, true): plexus_ffi_sint64()
        case .integer: plexus_ffi_uint64()
        case .float: plexus_ffi_float()
        case .double: plexus_ffi_double()
        }
    }

    /// Whether this is an integer type (which can carry a `length_of`).
    var isInteger: Bool { if case .integer = self { true } else { false } }
}

/// The type of one parameter or return value of a native function.
enum NativeType: Sendable {
    /// Passed by value.
    case scalar(NativeScalar)
    /// NUL-terminated UTF-8 (`const char *`): a JSON string in; out with a free function or a static lifetime.
    case string
    /// A pointer to bytes the client sends (base64 in JSON, or the raw body); a length parameter carries its size.
    case bytes
    /// A pointer to a scalar the function writes (`out_int64`, `out_double`, ...), reported in the reply.
    case out(NativeScalar)
    /// A buffer of a declared capacity the function fills, reported (base64) in the reply.
    case outBytes
    /// A struct described in the manifest, by value.
    case structValue(NativeStruct)
    /// A pointer to such a struct, filled from the request and reported back after the call.
    case structPointer(NativeStruct)
    /// No value (a return type only).
    case void

    /// The manifest's spelling.
    var name: String {
        switch self {
        case .scalar(let scalar): scalar.name
        case .string: "string"
        case .bytes: "bytes"
        case .out(let scalar): "out_\(scalar.name)"
        case .outBytes: "out_bytes"
        case .structValue(let layout): "struct \(layout.name)"
        case .structPointer(let layout): "struct \(layout.name) *"
        case .void: "void"
        }
    }

    /// What libffi passes: the scalar or struct itself, or a pointer.
    var ffiType: UnsafeMutablePointer<ffi_type> {
        switch self {
        case .scalar(let scalar): scalar.ffiType
        case .structValue(let layout): layout.ffiType
        case .void: plexus_ffi_void()
        default: plexus_ffi_pointer()
        }
    }

    /// Parses a type name; `structs` are the manifest's struct layouts by name.
    static func parse(_ text: String, structs: [String: NativeStruct]) -> NativeType? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let scalar = NativeScalar.names[trimmed] { return .scalar(scalar) }
        switch trimmed {
        case "string": return .string
        case "bytes": return .bytes
        case "out_bytes": return .outBytes
        case "void": return .void
        default: break
        }
        if trimmed.hasPrefix("out_"), let scalar = NativeScalar.names[String(trimmed.dropFirst(4))] { return .out(scalar) }
        if trimmed.hasPrefix("struct ") {
            var rest = trimmed.dropFirst(7).trimmingCharacters(in: .whitespaces)
            let pointer = rest.hasSuffix("*")
            if pointer { rest = rest.dropLast().trimmingCharacters(in: .whitespaces) }
            guard let layout = structs[rest] else { return nil }
            return pointer ? .structPointer(layout) : .structValue(layout)
        }
        return nil
    }
}
