import Foundation

/// JSON Schemas of a native function's request and reply, from its manifest entry (for `/openapi.json`).
enum NativeSchema {
    static func scalar(_ scalar: NativeScalar) -> [String: Any] {
        switch scalar {
        case .bool: return ["type": "boolean"]
        case .float, .double: return ["type": "number", "format": scalar.name]
        case .integer(let bits, let signed):
            let limits = NativeScalarMemory.range(bits: bits, signed: signed)
            return ["type": "integer", "format": scalar.name, "minimum": limits.min, "maximum": limits.max]
        }
    }

    static func value(_ type: NativeType) -> [String: Any] {
        switch type {
        case .scalar(let item), .out(let item): Self.scalar(item)
        case .string: ["type": "string"]
        case .bytes, .outBytes: ["type": "string", "contentEncoding": "base64"]
        case .structValue(let layout), .structPointer(let layout): layout.schema
        case .void: [:]
        }
    }

    /// The JSON request body: one property per input parameter.
    static func request(_ function: NativeFunction) -> String {
        var properties: [String: Any] = [:]
        var required: [String] = []
        for parameter in function.parameters where parameter.isInput {
            properties[parameter.name] = value(parameter.type)
            if parameter.defaultValue == nil { required.append(parameter.name) }
        }
        return text(["type": "object", "properties": properties, "required": required, "additionalProperties": false])
    }

    /// The reply: `result` and the outputs.
    static func response(_ function: NativeFunction) -> String {
        var properties: [String: Any] = [:]
        if case .void = function.returns {} else { properties["result"] = value(function.returns) }
        for parameter in function.parameters {
            switch parameter.type {
            case .out, .outBytes, .structPointer: properties[parameter.name] = value(parameter.type)
            default: break
            }
        }
        return text(["type": "object", "properties": properties])
    }

    private static func text(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
