import Foundation

extension NativeFunction {
    /// Builds the reply of a finished call: `{"result": ..., "<output>": ...}`, or the problem its
    /// error convention reports. Frees a returned string with the declared function.
    func reply(result: UnsafeMutableRawPointer, errno: Int32, buffers: [UnsafeMutableRawPointer?], byteLengths: [Int]) throws(NativeCallProblem) -> String {
        var writer = NativeJSONWriter()
        var returned: Int64?
        var isNull = false
        switch returns {
        case .void: break
        case .scalar(let scalar):
            writer.raw("result", NativeScalarMemory.json(scalar, at: result))
            returned = NativeScalarMemory.integer(scalar, at: result)
        case .string:
            if let pointer = result.load(as: UnsafeMutablePointer<CChar>?.self) {
                let text = String(decoding: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)), as: UTF8.self)
                freeString?(pointer)
                writer.string("result", text)
            } else {
                isNull = true
                writer.raw("result", "null")
            }
        case .structValue(let layout):
            writer.raw("result", Self.object(layout, at: result))
        default: break
        }
        if let rule = declaration.error, Self.failed(rule, returned: returned, isNull: isNull) {
            var detail = "\(symbol) returned \(isNull ? "NULL" : returned.map(String.init) ?? "an error")"
            var problem = NativeCallProblem(status: rule.status, title: "Native call failed", detail: detail)
            problem.extra.append(("function", NativeJSONWriter.quoted(symbol)))
            if let returned { problem.extra.append(("returned", String(returned))) }
            if rule.errno, errno != 0 {
                let text = String(cString: strerror(errno))
                detail += ": \(text) (errno \(errno))"
                problem = NativeCallProblem(status: rule.status, title: "Native call failed", detail: detail, extra: problem.extra)
                problem.extra.append(("errno", String(errno)))
            }
            throw problem
        }
        for (index, parameter) in parameters.enumerated() {
            switch parameter.type {
            case .out(let scalar):
                writer.raw(parameter.name, NativeScalarMemory.json(scalar, at: buffers[index]!))
            case .outBytes:
                var length = byteLengths[index]
                if let lengthParameter = parameters.firstIndex(where: { $0.lengthOf == index }),
                   case .out(let scalar) = parameters[lengthParameter].type,
                   let written = NativeScalarMemory.integer(scalar, at: buffers[lengthParameter]!) {
                    length = Int(max(0, min(written, Int64(length))))
                }
                writer.string(parameter.name, Data(bytes: buffers[index]!, count: length).base64EncodedString())
            case .structPointer(let layout):
                writer.raw(parameter.name, Self.object(layout, at: buffers[index]!))
            default: break
            }
        }
        return writer.close()
    }

    /// Whether the return value falls in the declared error range.
    private static func failed(_ rule: NativeManifest.ErrorConvention, returned: Int64?, isNull: Bool) -> Bool {
        if rule.null && isNull { return true }
        guard let returned else { return false }
        if let below = rule.below, returned < below { return true }
        if let above = rule.above, returned > above { return true }
        return rule.equals.contains(returned)
    }

    /// A struct's fields as a JSON object.
    static func object(_ layout: NativeStruct, at base: UnsafeRawPointer) -> String {
        var writer = NativeJSONWriter()
        for field in layout.fields { writer.raw(field.name, NativeScalarMemory.json(field.type, at: base + field.offset)) }
        return writer.close()
    }
}
