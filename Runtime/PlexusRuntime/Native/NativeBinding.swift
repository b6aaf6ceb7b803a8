import Foundation

/// A native manifest checked against its library: the library loaded, every symbol found, every
/// type known, every `bytes` given its length, every struct's size matched where the library
/// declares it, and every call interface prepared. Any mismatch is one line naming the file,
/// the function and the fix.
struct NativeBinding: Sendable {
    let manifest: NativeManifest
    let functions: [NativeFunction]
    let structs: [NativeStruct]
    /// The library as loaded (a relative path resolved against the manifest's directory).
    let libraryPath: String

    /// Types a manifest may name, for the fix of an unknown one.
    static let knownTypes = "int8..int64, uint8..uint64, int, uint, long, ulong, size_t, ssize_t, float, double, bool, string, bytes, out_<scalar>, out_bytes, struct <name>, struct <name> *"

    /// Loads the library of `manifest` (found beside `file` when it names a relative path) and binds every function.
    static func bind(_ manifest: NativeManifest, file: URL) throws(PluginLoadError) -> NativeBinding {
        let name = file.lastPathComponent
        var path = manifest.library
        if path.contains("/"), !path.hasPrefix("/") { path = file.deletingLastPathComponent().appendingPathComponent(path).path }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw PluginLoadError(.dlopenFailed, "\(name): library '\(manifest.library)' cannot be loaded: \(reason); fix: install the library or set library to its path")
        }
        func symbol(_ text: String) -> UnsafeMutableRawPointer? { dlsym(handle, text) }
        var structs: [String: NativeStruct] = [:]
        for declared in manifest.structs {
            do {
                structs[declared.name] = try layout(declared, symbol: symbol)
            } catch {
                throw PluginLoadError(.invalidManifest, "\(name): struct '\(declared.name)': \(error)")
            }
        }
        var functions: [NativeFunction] = []
        var seen = Set<String>()
        for declared in manifest.functions {
            do throws(NativeManifestProblem) {
                guard seen.insert(declared.symbol).inserted else {
                    throw NativeManifestProblem("declared twice", fix: "remove one of the two [[functions]] entries")
                }
                functions.append(try function(declared, structs: structs, symbol: symbol))
            } catch {
                throw PluginLoadError(error.problem.hasPrefix("symbol") ? .unresolvedSymbol : .invalidManifest, error.diagnosis(file: name, function: declared.symbol))
            }
        }
        guard !functions.isEmpty else {
            throw PluginLoadError(.invalidManifest, "\(name): declares no function; fix: add a [[functions]] table with symbol, returns and params")
        }
        return NativeBinding(manifest: manifest, functions: functions, structs: manifest.structs.compactMap { structs[$0.name] }, libraryPath: path)
    }

    private static func layout(_ declared: NativeManifest.Struct, symbol: (String) -> UnsafeMutableRawPointer?) throws(NativeManifestProblem) -> NativeStruct {
        guard !declared.fields.isEmpty else { throw NativeManifestProblem("has no fields", fix: "list its fields in C order: fields = [{name = \"x\", type = \"int32\"}]") }
        var fields: [(String, NativeScalar)] = []
        for field in declared.fields {
            guard let scalar = NativeScalar.names[field.type] else {
                throw NativeManifestProblem("field '\(field.name)' has type '\(field.type)', which a struct field cannot have", fix: "use a scalar: int8..int64, uint8..uint64, float, double, bool")
            }
            fields.append((field.name, scalar))
        }
        let layout = try NativeStruct(name: declared.name, fields: fields)
        if let sizeName = declared.sizeofSymbol {
            guard let address = symbol(sizeName) else {
                throw NativeManifestProblem("sizeof symbol '\(sizeName)' is not in the library", fix: "export `const size_t \(sizeName) = sizeof(struct \(declared.name));` or drop sizeof_symbol")
            }
            let size = address.load(as: Int.self)
            guard size == layout.size else {
                throw NativeManifestProblem("the manifest's fields make \(layout.size) bytes but the library's \(sizeName) says \(size)",
                                            fix: "list every field of the C struct, in order, with its exact type")
            }
        }
        return layout
    }

    private static func function(_ declared: NativeManifest.Function, structs: [String: NativeStruct],
                                 symbol: (String) -> UnsafeMutableRawPointer?) throws(NativeManifestProblem) -> NativeFunction {
        guard let address = symbol(declared.symbol) else {
            throw NativeManifestProblem("symbol '\(declared.symbol)' is not exported by the library", fix: "check the spelling against `nm -D --defined-only` of the library")
        }
        guard let returns = NativeType.parse(declared.returns, structs: structs) else {
            throw NativeManifestProblem("unknown return type '\(declared.returns)'", fix: "use one of \(knownTypes), or void")
        }
        switch returns {
        case .bytes, .out, .outBytes, .structPointer:
            throw NativeManifestProblem("cannot return '\(returns.name)' (the runtime would not know its size or owner)", fix: "return a scalar, string, struct by value or void, and hand buffers out through out_bytes")
        case .string where declared.free == nil && declared.lifetime != "static":
            throw NativeManifestProblem("returns a string but says neither who frees it nor that it is static", fix: "add free = \"<the library's free function>\" or lifetime = \"static\"")
        default: break
        }
        if declared.lifetime != nil, declared.lifetime != "static" {
            throw NativeManifestProblem("lifetime '\(declared.lifetime!)' is unknown", fix: "write lifetime = \"static\" or use free = \"...\"")
        }
        var freeString: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
        if let freeName = declared.free {
            guard case .string = returns else { throw NativeManifestProblem("free is only for a returned string", fix: "remove free") }
            guard let address = symbol(freeName) else {
                throw NativeManifestProblem("free function '\(freeName)' is not exported by the library", fix: "name the library's function that frees the returned string")
            }
            freeString = unsafeBitCast(address, to: (@convention(c) (UnsafeMutableRawPointer?) -> Void).self)
        }
        if let rule = declared.error {
            let integral = if case .scalar(let scalar) = returns { scalar.isInteger || scalar == .bool } else { false }
            if (rule.below != nil || rule.above != nil || !rule.equals.isEmpty) && !integral {
                throw NativeManifestProblem("error range on a function that returns \(returns.name)", fix: "use error = { null = true } for a string, or drop the range")
            }
            if rule.null, !(returns.name == "string") { throw NativeManifestProblem("error null on a function that does not return a string", fix: "drop null = true") }
        }
        let parameters = try NativeParameterCheck.resolve(declared.parameters, structs: structs)
        guard declared.route != nil || declared.service != nil else {
            throw NativeManifestProblem("has neither a route nor a service", fix: "add route = \"POST /api/v1/...\" or service = \"name.function\"")
        }
        return try NativeFunction(symbol: declared.symbol, address: address, returns: returns, parameters: parameters,
                                  freeString: freeString, declaration: declared)
    }
}
