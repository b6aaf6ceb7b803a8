/// Builds the OpenAPI 3.1.0 document of the gateway from its routes.
///
/// - Paths: `:name` becomes `{name}`; a trailing `*` becomes a parameter `{rest}` marked
///   `x-plexus-wildcard: true` (OpenAPI templating cannot say that it spans several segments).
///   Routes that OpenAPI sees as the same path (same segments, parameters in the same places)
///   share one path item, named after the first; if two of them have the same method (a `:name`
///   and a `*` route), the first (the `:name` one) is documented and the other is listed in the
///   top-level `x-plexus-undocumented`. As in the router, a later route with the same method and
///   shape replaces an earlier one.
/// - Security: `security: []` for public routes; otherwise `bearerAuth` (with the route's scopes)
///   or `apiKeyAuth`; roles in `x-plexus-roles`, tenant in `x-plexus-tenant-required`.
/// - Responses: the declared one, then shared `application/problem+json` responses: `401` and `403`
///   for authenticated routes only, `413` where a body is accepted, and `429`, `503`, `504`, `default`.
/// - Request body: a declared schema is `required` `application/json`; otherwise POST, PUT and
///   PATCH accept an optional body of any type (`application/octet-stream`, `*/*`).
/// - operationId: `<plugin>_<method>_<path slug>`, lowercase, with `_2`, `_3`, ... on a clash.
///
/// The output is deterministic: routes are ordered by path and method, keys sorted.
public struct OpenAPIBuilder: Sendable {
    /// `info.title`.
    public var title: String
    /// `info.version`: the version of the API (for instance the runtime's version).
    public var version: String
    /// `info.description`, if any.
    public var description: String?
    /// `servers`, omitted when empty.
    public var servers: [OpenAPIServer]

    /// Methods OpenAPI 3.1 path items can hold, in the order operations are listed.
    static let methods = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"]
    /// Methods whose requests carry a body when no schema says otherwise.
    static let bodyMethods: Set<String> = ["POST", "PUT", "PATCH"]

    /// A builder for a document with this `info` and `servers`.
    public init(title: String, version: String, description: String? = nil, servers: [OpenAPIServer] = []) {
        self.title = title
        self.version = version
        self.description = description
        self.servers = servers
    }

    /// The document as UTF-8 JSON bytes (keys sorted; `pretty` indents).
    ///
    /// - Throws: `.invalidRoute` naming the first malformed route.
    public func build(routes: [OpenAPIRoute], pretty: Bool = false) throws(PolicyError) -> [UInt8] {
        try document(routes: routes).serialized(pretty: pretty)
    }

    /// The document as a JSON value.
    ///
    /// - Throws: `.invalidRoute` for an unsupported method, a malformed path pattern, an empty
    ///   plugin name, a status outside 100...599, a negative body limit, or a schema that is
    ///   neither an object nor a boolean.
    public func document(routes: [OpenAPIRoute]) throws(PolicyError) -> JSONValue {
        // The router's rule: a later route with the same method and shape replaces an earlier one.
        var latest: [String: (route: OpenAPIRoute, path: OpenAPIPath)] = [:]
        for var route in routes {
            route.method = route.method.uppercased()
            let path = try Self.validate(route)
            latest["\(route.method) \(path.shape)"] = (route, path)
        }
        let ordered = latest.values.sorted { a, b in
            if a.path.hierarchy != b.path.hierarchy { return a.path.hierarchy < b.path.hierarchy }
            if a.path.hasWildcard != b.path.hasWildcard { return !a.path.hasWildcard }
            if a.route.path != b.route.path { return a.route.path < b.route.path }
            return Self.methods.firstIndex(of: a.route.method)! < Self.methods.firstIndex(of: b.route.method)!
        }

        var paths: [String: JSONValue] = [:]
        var templateOfHierarchy: [String: (template: String, names: [String])] = [:]
        var usedOperationIDs = Set<String>()
        var undocumented: [JSONValue] = []
        for (route, path) in ordered {
            let canonical = templateOfHierarchy[path.hierarchy] ?? {
                let names = path.parameterNames
                return (path.template(names: names), names)
            }()
            templateOfHierarchy[path.hierarchy] = canonical
            var item = paths[canonical.template]?.objectValue ?? [:]
            let key = route.method.lowercased()
            guard item[key] == nil else {
                undocumented.append(.string("\(route.method) \(route.path)"))
                continue
            }
            var operationID = "\(OpenAPIPath.identifier(route.plugin))_\(key)_\(path.slug)"
            if usedOperationIDs.contains(operationID) {
                var suffix = 2
                while usedOperationIDs.contains("\(operationID)_\(suffix)") { suffix += 1 }
                operationID += "_\(suffix)"
            }
            usedOperationIDs.insert(operationID)
            item[key] = operation(route, path: path, names: canonical.names, operationID: operationID)
            paths[canonical.template] = .object(item)
        }

        var info: [String: JSONValue] = ["title": .string(title), "version": .string(version)]
        if let description { info["description"] = .string(description) }
        var document: [String: JSONValue] = [
            "openapi": "3.1.0",
            "info": .object(info),
            "paths": .object(paths),
            "components": OpenAPIComponents.all,
        ]
        let tags = Set(ordered.map(\.route.plugin)).sorted()
        if !tags.isEmpty { document["tags"] = .array(tags.map { ["name": .string($0)] }) }
        if !servers.isEmpty {
            document["servers"] = .array(servers.map { server in
                var entry: [String: JSONValue] = ["url": .string(server.url)]
                if let description = server.description { entry["description"] = .string(description) }
                return .object(entry)
            })
        }
        if !undocumented.isEmpty { document["x-plexus-undocumented"] = .array(undocumented) }
        return .object(document)
    }

    /// Checks a route (method already uppercased) and parses its path.
    private static func validate(_ route: OpenAPIRoute) throws(PolicyError) -> OpenAPIPath {
        let name = "route \(route.method) \(route.path) of \"\(route.plugin)\""
        guard methods.contains(route.method) else {
            throw PolicyError(.invalidRoute, "\(name): OpenAPI 3.1 has no \(route.method) operation")
        }
        guard !route.plugin.isEmpty else { throw PolicyError(.invalidRoute, "\(name): plugin name is empty") }
        guard (100...599).contains(route.responseStatus) else {
            throw PolicyError(.invalidRoute, "\(name): response status \(route.responseStatus) is not 100...599")
        }
        if let limit = route.maxBodyBytes, limit < 0 {
            throw PolicyError(.invalidRoute, "\(name): maxBodyBytes \(limit) is negative")
        }
        for (label, schema) in [("request", route.requestSchema), ("response", route.responseSchema)] {
            switch schema {
            case nil, .object?, .bool?: break
            default: throw PolicyError(.invalidRoute, "\(name): the \(label) schema must be a JSON object or boolean")
            }
        }
        do {
            return try OpenAPIPath(route.path)
        } catch {
            throw PolicyError(.invalidRoute, "\(name): \(error.message)")
        }
    }

    /// One operation object.
    private func operation(_ route: OpenAPIRoute, path: OpenAPIPath, names: [String], operationID: String) -> JSONValue {
        var operation: [String: JSONValue] = [
            "operationId": .string(operationID),
            "tags": [.string(route.plugin)],
        ]
        if let summary = route.summary { operation["summary"] = .string(summary) }
        if let description = route.description { operation["description"] = .string(description) }

        if !names.isEmpty {
            operation["parameters"] = .array(names.enumerated().map { position, name in
                var parameter: [String: JSONValue] = [
                    "name": .string(name), "in": "path", "required": true,
                    "schema": ["type": "string", "minLength": 1],
                ]
                if path.hasWildcard && position == names.count - 1 {
                    parameter["description"] = "The rest of the path: one or more segments, separated by '/'."
                    parameter["x-plexus-wildcard"] = true
                }
                return .object(parameter)
            })
        }

        let acceptsBody = route.requestSchema != nil || Self.bodyMethods.contains(route.method)
        if let schema = route.requestSchema {
            var body: [String: JSONValue] = [
                "required": true, "content": ["application/json": ["schema": schema]],
            ]
            if let limit = route.maxBodyBytes { body["x-plexus-max-body-bytes"] = .number(Double(limit)) }
            operation["requestBody"] = .object(body)
        } else if acceptsBody {
            var body: [String: JSONValue] = [
                "required": false, "content": ["application/octet-stream": [:], "*/*": [:]],
            ]
            if let limit = route.maxBodyBytes { body["x-plexus-max-body-bytes"] = .number(Double(limit)) }
            operation["requestBody"] = .object(body)
        }

        var success: [String: JSONValue] = [
            "description": .string(OpenAPIComponents.successDescription(route.responseStatus))
        ]
        if let schema = route.responseSchema, route.responseStatus != 204, route.responseStatus != 304 {
            success["content"] = ["application/json": ["schema": schema]]
        }
        var responses: [String: JSONValue] = [String(route.responseStatus): .object(success)]
        var shared = ["429", "503", "504", "default"]
        if route.access == .authenticated { shared += ["401", "403"] }
        if acceptsBody { shared.append("413") }
        for status in shared where responses[status] == nil {
            responses[status] = OpenAPIComponents.ref("responses", OpenAPIComponents.sharedResponseNames[status]!)
        }
        operation["responses"] = .object(responses)

        switch route.access {
        case .public:
            operation["security"] = []
        case .authenticated:
            operation["security"] = [
                ["bearerAuth": .array(route.scopes.map(JSONValue.string))],
                ["apiKeyAuth": []],
            ]
        }
        if !route.roles.isEmpty { operation["x-plexus-roles"] = .array(route.roles.map(JSONValue.string)) }
        if route.tenantRequired { operation["x-plexus-tenant-required"] = true }
        return .object(operation)
    }
}
