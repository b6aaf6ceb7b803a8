/// Resolves and checks the parameters of one manifest function: known types, unique names,
/// every `bytes` with exactly one length, every `out_bytes` with a capacity and a length, and no
/// pointer the client could choose.
enum NativeParameterCheck {
    static func resolve(_ declared: [NativeManifest.Parameter], structs: [String: NativeStruct]) throws(NativeManifestProblem) -> [NativeFunction.Parameter] {
        var types: [NativeType] = []
        var index: [String: Int] = [:]
        for (position, parameter) in declared.enumerated() {
            guard index[parameter.name] == nil else {
                throw NativeManifestProblem("parameter name '\(parameter.name)' is used twice", fix: "give every parameter its own name")
            }
            index[parameter.name] = position
            guard let type = NativeType.parse(parameter.type, structs: structs) else {
                throw NativeManifestProblem("parameter '\(parameter.name)' has unknown type '\(parameter.type)'", fix: "use one of \(NativeBinding.knownTypes)")
            }
            if case .void = type { throw NativeManifestProblem("parameter '\(parameter.name)' is void", fix: "remove it") }
            types.append(type)
        }
        var lengths: [Int: Int] = [:]  // target → length parameter
        var parameters: [NativeFunction.Parameter] = []
        for (position, parameter) in declared.enumerated() {
            let type = types[position]
            var lengthOf: Int?
            if let target = parameter.lengthOf {
                guard let targetIndex = index[target] else {
                    throw NativeManifestProblem("parameter '\(parameter.name)' is the length of '\(target)', which is not a parameter", fix: "set length_of to the name of a bytes or out_bytes parameter")
                }
                switch (type, types[targetIndex]) {
                case (.scalar(let scalar), .bytes) where scalar.isInteger, (.scalar(let scalar), .outBytes) where scalar.isInteger,
                     (.out(let scalar), .outBytes) where scalar.isInteger:
                    break
                case (_, .bytes), (_, .outBytes):
                    throw NativeManifestProblem("length parameter '\(parameter.name)' has type \(type.name)", fix: "make it an integer type (or out_<integer> for the written length of an out_bytes)")
                default:
                    throw NativeManifestProblem("parameter '\(parameter.name)' is the length of '\(target)', which is \(types[targetIndex].name), not bytes or out_bytes", fix: "point length_of at a bytes or out_bytes parameter")
                }
                if let other = lengths[targetIndex] {
                    throw NativeManifestProblem("'\(target)' has two lengths, '\(declared[other].name)' and '\(parameter.name)'", fix: "keep one length_of")
                }
                lengths[targetIndex] = position
                lengthOf = targetIndex
            }
            var capacityOf: Int?
            if case .outBytes = type {
                if let source = parameter.capacityOf {
                    guard let sourceIndex = index[source], case .bytes = types[sourceIndex] else {
                        throw NativeManifestProblem("out_bytes '\(parameter.name)' takes its capacity from '\(source)', which is not a bytes parameter", fix: "set capacity_of to a bytes parameter or use a fixed capacity")
                    }
                    capacityOf = sourceIndex
                }
                guard parameter.capacity != nil || capacityOf != nil else {
                    throw NativeManifestProblem("out_bytes '\(parameter.name)' has no capacity", fix: "add capacity = <bytes> (and/or capacity_of = \"<bytes parameter>\")")
                }
                guard (0...NativeFunction.maximumOutputBytes).contains(parameter.capacity ?? 0), parameter.capacityRatio >= 0, parameter.capacityRatio <= 16 else {
                    throw NativeManifestProblem("out_bytes '\(parameter.name)' has capacity \(parameter.capacity ?? 0) and ratio \(parameter.capacityRatio)", fix: "keep capacity within 0...\(NativeFunction.maximumOutputBytes) and capacity_ratio within 0...16")
                }
            } else if parameter.capacity != nil || parameter.capacityOf != nil {
                throw NativeManifestProblem("parameter '\(parameter.name)' has a capacity but is not out_bytes", fix: "remove capacity and capacity_of")
            }
            if parameter.defaultValue != nil {
                guard case .scalar = type, lengthOf == nil else {
                    throw NativeManifestProblem("parameter '\(parameter.name)' of type \(type.name) has a default", fix: "defaults are for scalar inputs only; remove it")
                }
            }
            parameters.append(NativeFunction.Parameter(name: parameter.name, type: type, lengthOf: lengthOf, capacity: parameter.capacity ?? 0,
                                                       capacityOf: capacityOf, capacityRatio: parameter.capacityRatio, defaultValue: parameter.defaultValue))
        }
        for (position, type) in types.enumerated() {
            switch type {
            case .bytes where lengths[position] == nil:
                throw NativeManifestProblem("bytes parameter '\(declared[position].name)' has no length", fix: "add an integer parameter with length_of = \"\(declared[position].name)\"")
            case .outBytes where lengths[position] == nil:
                throw NativeManifestProblem("out_bytes parameter '\(declared[position].name)' has no length", fix: "add an integer (capacity) or out_<integer> (capacity in, written length out) parameter with length_of = \"\(declared[position].name)\"")
            default: break
            }
        }
        return parameters
    }
}
