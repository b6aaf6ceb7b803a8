import Foundation
import PlexusTOML

/// A `plugins.d/<name>.native.toml` file as written: what the operator declared, not yet checked
/// against the library (``NativeBinding`` does that).
struct NativeManifest: Sendable {
    /// One parameter of a function.
    struct Parameter: Sendable {
        let name: String
        let type: String
        /// For an integer (or `out_<integer>`) parameter: the `bytes` or `out_bytes` parameter whose length it carries.
        let lengthOf: String?
        /// For `out_bytes`: fixed capacity in bytes, plus `capacityRatio` times the length of `capacityOf`.
        let capacity: Int?
        let capacityOf: String?
        let capacityRatio: Double
        /// The value used when the request does not carry one (scalars only).
        let defaultValue: NativeValue?
    }

    /// How a failed call shows in the return value.
    struct ErrorConvention: Sendable {
        var below: Int64?
        var above: Int64?
        var equals: [Int64] = []
        var null = false
        /// Report `errno` (cleared before the call) in the problem.
        var errno = false
        /// The HTTP status of the problem (default 422).
        var status = 422
    }

    /// One C function served as a route and/or a bus service.
    struct Function: Sendable {
        let symbol: String
        let returns: String
        let parameters: [Parameter]
        /// `METHOD /path`.
        let route: String?
        let service: String?
        let access: String
        let roles: String?
        let scopes: String?
        let timeoutMilliseconds: UInt64
        let summary: String?
        /// For a returned `string`: the symbol that frees it, or `static` lifetime.
        let free: String?
        let lifetime: String?
        let error: ErrorConvention?
        /// Run on the loop thread instead of the pool (only for functions known to return at once).
        let onLoop: Bool
    }

    /// One struct: fields in order, and optionally a symbol of the library holding its `sizeof` (a `size_t`).
    struct Struct: Sendable {
        let name: String
        let fields: [(name: String, type: String)]
        let sizeofSymbol: String?
    }

    let name: String
    let version: String
    let description: String
    let library: String
    let structs: [Struct]
    let functions: [Function]

    /// Reads and shape-checks `text`; problems are thrown as one line naming the function where there is one.
    init(text: String, file: String) throws(PluginLoadError) {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch {
            throw PluginLoadError(.invalidManifest, "\(file):\(error.line):\(error.column): \(error.message); fix: correct the TOML syntax")
        }
        var function: String?
        do {
            let root = NativeTOMLReader(table, at: "")
            try root.onlyKeys(["name", "version", "description", "library", "structs", "functions"])
            name = try root.requiredString("name")
            version = try root.requiredString("version")
            description = try root.string("description") ?? ""
            library = try root.requiredString("library")
            structs = try root.tables("structs").map { reader in
                try reader.onlyKeys(["name", "fields", "sizeof_symbol"])
                let fields = try reader.tables("fields").map { field in
                    try field.onlyKeys(["name", "type"])
                    return (name: try field.requiredString("name"), type: try field.requiredString("type"))
                }
                return Struct(name: try reader.requiredString("name"), fields: fields, sizeofSymbol: try reader.string("sizeof_symbol"))
            }
            var functions: [Function] = []
            for reader in try root.tables("functions") {
                function = try reader.string("symbol")
                functions.append(try Self.function(reader))
            }
            self.functions = functions
        } catch let problem as NativeManifestProblem {
            throw PluginLoadError(.invalidManifest, problem.diagnosis(file: file, function: function))
        } catch {
            throw PluginLoadError(.invalidManifest, "\(file): \(error)")
        }
    }

    private static func function(_ reader: NativeTOMLReader) throws -> Function {
        try reader.onlyKeys(["symbol", "returns", "params", "route", "service", "access", "roles", "scopes", "timeout_ms",
                             "summary", "free", "lifetime", "error", "on_loop"])
        let parameters = try reader.tables("params").map { param in
            try param.onlyKeys(["name", "type", "length_of", "capacity", "capacity_of", "capacity_ratio", "default"])
            return Parameter(name: try param.requiredString("name"), type: try param.requiredString("type"),
                             lengthOf: try param.string("length_of"), capacity: try param.integer("capacity").map(Int.init),
                             capacityOf: try param.string("capacity_of"), capacityRatio: try param.double("capacity_ratio") ?? 1,
                             defaultValue: param.value("default"))
        }
        var convention: ErrorConvention?
        if let error = try reader.table("error") {
            try error.onlyKeys(["below", "above", "equals", "null", "errno", "status"])
            var rule = ErrorConvention()
            rule.below = try error.integer("below")
            rule.above = try error.integer("above")
            rule.equals = try error.integers("equals")
            rule.null = try error.bool("null") ?? false
            rule.errno = try error.bool("errno") ?? false
            rule.status = Int(try error.integer("status") ?? 422)
            guard (400...599).contains(rule.status) else {
                throw NativeManifestProblem("error status \(rule.status) is not a 4xx or 5xx status", fix: "use e.g. 422 or 500")
            }
            convention = rule
        }
        let access = try reader.string("access") ?? "authenticated"
        guard access == "public" || access == "authenticated" else {
            throw NativeManifestProblem("access '\(access)' is neither 'public' nor 'authenticated'", fix: "write access = \"public\" or leave it out")
        }
        return Function(symbol: try reader.requiredString("symbol"), returns: try reader.string("returns") ?? "void", parameters: parameters,
                        route: try reader.string("route"), service: try reader.string("service"), access: access,
                        roles: try reader.string("roles"), scopes: try reader.string("scopes"),
                        timeoutMilliseconds: UInt64(max(0, try reader.integer("timeout_ms") ?? 0)), summary: try reader.string("summary"),
                        free: try reader.string("free"), lifetime: try reader.string("lifetime"), error: convention,
                        onLoop: try reader.bool("on_loop") ?? false)
    }
}
