import CFFI
import Foundation

/// Memory of one native call: every buffer it allocated, freed when the call's reply is built.
private final class NativeArena {
    private var blocks: [UnsafeMutableRawPointer] = []

    /// Zeroed memory of at least `size` bytes, 16-byte aligned.
    func allocate(_ size: Int) -> UnsafeMutableRawPointer {
        let count = max(size, 16)
        let block = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 16)
        block.initializeMemory(as: UInt8.self, repeating: 0, count: count)
        blocks.append(block)
        return block
    }

    /// A slot holding `pointer` (what libffi passes for a pointer parameter).
    func slot(holding pointer: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        let slot = allocate(8)
        slot.storeBytes(of: pointer, as: UnsafeMutableRawPointer.self)
        return slot
    }

    deinit { for block in blocks { block.deallocate() } }
}

extension NativeFunction {
    /// Calls the function with `arguments` (by parameter name) and, for the raw-body form, `raw`
    /// filling ``rawBodyParameter``; returns the reply's JSON. Any thread; the caller marks it in
    /// the blame record. Every client value is checked before the call; no pointer comes from it.
    func invoke(arguments: [String: NativeValue], raw: [UInt8]?) throws(NativeCallProblem) -> String {
        if let unknown = arguments.keys.sorted().first(where: { key in !parameters.contains { $0.name == key && $0.isInput } }) {
            throw .badRequest("unknown parameter '\(unknown)' for \(symbol); expected \(parameters.filter(\.isInput).map(\.name).joined(separator: ", "))")
        }
        let arena = NativeArena()
        let count = parameters.count
        let values = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: max(count, 1))
        defer { values.deallocate() }
        var byteLengths = [Int](repeating: 0, count: count)
        var buffers = [UnsafeMutableRawPointer?](repeating: nil, count: count)
        // Inputs first: lengths and capacities depend on them.
        for (index, parameter) in parameters.enumerated() where parameter.isInput {
            switch parameter.type {
            case .scalar(let scalar):
                guard let value = arguments[parameter.name] ?? parameter.defaultValue else { throw .badArgument(parameter.name, "is missing") }
                let slot = arena.allocate(8)
                try NativeScalarMemory.store(value, as: scalar, at: slot, name: parameter.name)
                values[index] = slot
            case .string:
                guard case .string(let text)? = arguments[parameter.name] else {
                    throw .badArgument(parameter.name, arguments[parameter.name] == nil ? "is missing" : "must be a string, got \(arguments[parameter.name]!.kind)")
                }
                let utf8 = Array(text.utf8)
                guard !utf8.contains(0) else { throw .badArgument(parameter.name, "contains a NUL character, which a C string cannot hold") }
                let buffer = arena.allocate(utf8.count + 1)
                buffer.copyMemory(from: utf8, byteCount: utf8.count)
                values[index] = arena.slot(holding: buffer)
            case .bytes:
                let bytes: [UInt8]
                if index == rawBodyParameter, let raw {
                    bytes = raw
                } else if case .string(let encoded)? = arguments[parameter.name] {
                    guard let decoded = Data(base64Encoded: encoded) else { throw .badArgument(parameter.name, "is not valid base64") }
                    bytes = [UInt8](decoded)
                } else {
                    throw .badArgument(parameter.name, arguments[parameter.name] == nil ? "is missing" : "must be a base64 string, got \(arguments[parameter.name]!.kind)")
                }
                let buffer = arena.allocate(bytes.count)
                buffer.copyMemory(from: bytes, byteCount: bytes.count)
                byteLengths[index] = bytes.count
                values[index] = arena.slot(holding: buffer)
            case .structValue(let layout), .structPointer(let layout):
                guard case .object(let fields)? = arguments[parameter.name] else {
                    throw .badArgument(parameter.name, arguments[parameter.name] == nil ? "is missing" : "must be an object with \(layout.fields.map(\.name).joined(separator: ", ")), got \(arguments[parameter.name]!.kind)")
                }
                if let unknown = fields.keys.sorted().first(where: { key in !layout.fields.contains { $0.name == key } }) {
                    throw .badArgument(parameter.name, "has no field '\(unknown)' (struct \(layout.name) has \(layout.fields.map(\.name).joined(separator: ", ")))")
                }
                let buffer = arena.allocate(layout.size)
                for field in layout.fields {
                    guard let value = fields[field.name] else { throw .badArgument("\(parameter.name).\(field.name)", "is missing") }
                    try NativeScalarMemory.store(value, as: field.type, at: buffer + field.offset, name: "\(parameter.name).\(field.name)")
                }
                buffers[index] = buffer
                if case .structValue = parameter.type { values[index] = buffer } else { values[index] = arena.slot(holding: buffer) }
            default: break
            }
        }
        // Outputs: buffers with their capacities, and cells for out scalars.
        for (index, parameter) in parameters.enumerated() {
            switch parameter.type {
            case .outBytes:
                let extra = parameter.capacityOf.map { (Double(byteLengths[$0]) * parameter.capacityRatio).rounded(.up) } ?? 0
                let capacity = Double(parameter.capacity) + extra
                guard capacity <= Double(NativeFunction.maximumOutputBytes) else {
                    throw NativeCallProblem(status: 413, title: "Content too large", detail: "the output '\(parameter.name)' of \(symbol) would need \(Int(capacity)) bytes, more than \(NativeFunction.maximumOutputBytes)")
                }
                let buffer = arena.allocate(Int(capacity))
                byteLengths[index] = Int(capacity)
                buffers[index] = buffer
                values[index] = arena.slot(holding: buffer)
            case .out:
                let cell = arena.allocate(8)
                buffers[index] = cell
                values[index] = arena.slot(holding: cell)
            default: break
            }
        }
        // Lengths the runtime fills: a byte count, or an out_bytes capacity (in/out through a pointer).
        for (index, parameter) in parameters.enumerated() {
            guard let target = parameter.lengthOf else { continue }
            switch parameter.type {
            case .scalar(let scalar):
                let slot = arena.allocate(8)
                try storeLength(byteLengths[target], scalar, slot, parameter.name)
                values[index] = slot
            case .out(let scalar):
                try storeLength(byteLengths[target], scalar, buffers[index]!, parameter.name)
            default: break
            }
        }
        let result = arena.allocate(max(returns.ffiType.pointee.size, 16))
        plexus_ffi_clear_errno()
        ffi_call(cif, unsafeBitCast(address, to: (@convention(c) () -> Void).self), result, values)
        let error = plexus_ffi_errno()
        return try reply(result: result, errno: error, buffers: buffers, byteLengths: byteLengths)
    }

    private func storeLength(_ length: Int, _ scalar: NativeScalar, _ target: UnsafeMutableRawPointer, _ name: String) throws(NativeCallProblem) {
        do {
            try NativeScalarMemory.storeLength(length, as: scalar, at: target, name: name)
        } catch {
            throw NativeCallProblem(status: 413, title: "Content too large", detail: "\(length) bytes do not fit the length parameter '\(name)' (\(scalar.name)) of \(symbol)")
        }
    }
}
