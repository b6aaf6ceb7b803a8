/// One route as the OpenAPI builder sees it: a plugin route or one of the runtime's own endpoints.
public struct OpenAPIRoute: Sendable, Hashable {
    /// Who may call a route.
    public enum Access: String, Sendable, Hashable {
        /// Anyone; no credential.
        case `public`
        /// A valid JWT or API key.
        case authenticated
    }

    /// The HTTP method, e.g. `GET` (any case).
    public var method: String
    /// The path in the runtime's pattern syntax: literal segments, `:name` parameters, and an
    /// optional trailing `*` capturing the rest, e.g. `/notes/:id/files/*`.
    public var path: String
    /// The plugin that serves it (the operation's tag); for built-in endpoints, e.g. `plexus`.
    public var plugin: String
    /// A one-line summary.
    public var summary: String?
    /// A longer description (CommonMark).
    public var description: String?
    /// Who may call it.
    public var access: Access
    /// Roles required (published as `x-plexus-roles`).
    public var roles: [String]
    /// OAuth-style scopes required of a JWT (listed in the operation's `bearerAuth` requirement).
    public var scopes: [String]
    /// Whether the request must carry a tenant (published as `x-plexus-tenant-required`).
    public var tenantRequired: Bool
    /// JSON Schema of the request body (`application/json`), if the route declares one.
    public var requestSchema: JSONValue?
    /// JSON Schema of the successful response body (`application/json`), if declared.
    public var responseSchema: JSONValue?
    /// The status of a successful response.
    public var responseStatus: Int
    /// Largest accepted request body, if limited (published as `x-plexus-max-body-bytes`).
    public var maxBodyBytes: Int?

    /// Describes a route; everything but method, path and plugin is optional.
    public init(
        method: String, path: String, plugin: String, summary: String? = nil, description: String? = nil,
        access: Access = .authenticated, roles: [String] = [], scopes: [String] = [], tenantRequired: Bool = false,
        requestSchema: JSONValue? = nil, responseSchema: JSONValue? = nil, responseStatus: Int = 200,
        maxBodyBytes: Int? = nil
    ) {
        self.method = method
        self.path = path
        self.plugin = plugin
        self.summary = summary
        self.description = description
        self.access = access
        self.roles = roles
        self.scopes = scopes
        self.tenantRequired = tenantRequired
        self.requestSchema = requestSchema
        self.responseSchema = responseSchema
        self.responseStatus = responseStatus
        self.maxBodyBytes = maxBodyBytes
    }
}

/// A server the document lists (`servers`).
public struct OpenAPIServer: Sendable, Hashable {
    /// The base URL, e.g. `https://api.example.com`.
    public var url: String
    /// What the server is, e.g. `production`.
    public var description: String?

    /// A server entry.
    public init(url: String, description: String? = nil) {
        self.url = url
        self.description = description
    }
}
