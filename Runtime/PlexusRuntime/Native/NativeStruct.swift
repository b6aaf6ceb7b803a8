import CFFI
import Foundation

/// A C struct described in a native manifest: named scalar fields in declaration order, laid out
/// by libffi with the platform's C rules. Immutable once built; its `ffi_type` lives as long as
/// the process (the prepared call interfaces point at it).
final class NativeStruct: @unchecked Sendable {
    /// One field: its name, scalar type and byte offset.
    struct Field: Sendable {
        let name: String
        let type: NativeScalar
        let offset: Int
    }

    let name: String
    let fields: [Field]
    /// `sizeof` of the struct as laid out by libffi.
    let size: Int
    let alignment: Int
    let ffiType: UnsafeMutablePointer<ffi_type>

    /// Lays out `fields` (name, type) in order; throws a reason when libffi refuses the layout.
    init(name: String, fields declared: [(String, NativeScalar)]) throws(NativeManifestProblem) {
        self.name = name
        let elements = UnsafeMutablePointer<UnsafeMutablePointer<ffi_type>?>.allocate(capacity: declared.count + 1)
        for (index, field) in declared.enumerated() { elements[index] = field.1.ffiType }
        elements[declared.count] = nil
        let type = UnsafeMutablePointer<ffi_type>.allocate(capacity: 1)
        type.initialize(to: ffi_type())
        type.pointee.type = UInt16(FFI_TYPE_STRUCT)
        type.pointee.elements = elements
        var offsets = [Int](repeating: 0, count: declared.count)
        let status = ffi_get_struct_offsets(FFI_DEFAULT_ABI, type, &offsets)
        guard status == FFI_OK else {
            throw NativeManifestProblem("struct '\(name)' cannot be laid out by libffi (status \(status.rawValue))", fix: "declare at least one field with a scalar type")
        }
        ffiType = type
        size = type.pointee.size
        alignment = Int(type.pointee.alignment)
        fields = zip(declared, offsets).map { Field(name: $0.0.0, type: $0.0.1, offset: $0.1) }
    }

    /// JSON Schema of the struct as an object with one property per field.
    var schema: [String: Any] {
        var properties: [String: Any] = [:]
        for field in fields { properties[field.name] = NativeSchema.scalar(field.type) }
        return ["type": "object", "properties": properties, "required": fields.map(\.name), "additionalProperties": false]
    }
}
