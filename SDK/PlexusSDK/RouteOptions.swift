/// What a route declares about its callers and itself. The runtime's gateway enforces the access
/// rules before the handler runs (401 or 403 as problem+json) and publishes the rest in
/// `/openapi.json`.
///
/// ```swift
/// try context.routes.get("/api/v1/hello", options: .public) { _ in .text("hi") }
/// try context.routes.post("/api/v1/notes", options: RouteOptions(roles: ["editor"], tenantRequired: true,
///                                                              requestBody: Note.self)) { request in ... }
/// ```
public struct RouteOptions: Sendable {
    /// Who may call a route.
    public enum Access: UInt32, Sendable {
        /// Any caller with a valid bearer JWT or API key (the default).
        case authenticated = 0
        /// Anyone; credentials, when sent, are still verified.
        case `public` = 1
    }

    /// Who may call. Default: authenticated.
    public var access: Access
    /// The caller needs at least one of these roles (empty: no role needed).
    public var roles: [String]
    /// The caller needs every one of these scopes.
    public var scopes: [String]
    /// The caller must belong to a tenant; a `:tenant` path parameter must name that tenant.
    public var tenantRequired: Bool
    /// One line for the OpenAPI document.
    public var summary: String?
    /// The JSON Schema of the request body.
    public var requestSchema: JSONSchema?
    /// The JSON Schema of a successful response body.
    public var responseSchema: JSONSchema?
    /// The status of a successful response (for the OpenAPI document).
    public var responseStatus: Int
    /// The runtime answers 504 if the handler has not answered within this time (nil: the runtime's default).
    public var timeout: Duration?
    /// The timeout in milliseconds (0: the runtime's default).
    @available(*, deprecated, message: "use timeout, a Duration")
    public var timeoutMilliseconds: UInt64 {
        get { timeout?.hostMilliseconds ?? 0 }
        set { timeout = newValue == 0 ? nil : .milliseconds(newValue) }
    }
    /// The largest accepted request body in bytes (0: the server's default).
    public var maxBodyBytes: UInt64

    /// Creates options; every argument has the secure default.
    public init(access: Access = .authenticated, roles: [String] = [], scopes: [String] = [], tenantRequired: Bool = false,
                summary: String? = nil, requestSchema: JSONSchema? = nil, responseSchema: JSONSchema? = nil,
                responseStatus: Int = 200, timeout: Duration? = nil, maxBodyBytes: UInt64 = 0) {
        self.access = access
        self.roles = roles
        self.scopes = scopes
        self.tenantRequired = tenantRequired
        self.summary = summary
        self.requestSchema = requestSchema
        self.responseSchema = responseSchema
        self.responseStatus = responseStatus
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
    }

    /// Creates options with a timeout in milliseconds (0: the runtime's default).
    @available(*, deprecated, message: "use timeout: with a Duration, e.g. .seconds(2)")
    public init(access: Access = .authenticated, roles: [String] = [], scopes: [String] = [], tenantRequired: Bool = false,
                summary: String? = nil, requestSchema: JSONSchema? = nil, responseSchema: JSONSchema? = nil,
                responseStatus: Int = 200, timeoutMilliseconds: UInt64, maxBodyBytes: UInt64 = 0) {
        self.init(access: access, roles: roles, scopes: scopes, tenantRequired: tenantRequired, summary: summary,
                  requestSchema: requestSchema, responseSchema: responseSchema, responseStatus: responseStatus,
                  timeout: timeoutMilliseconds == 0 ? nil : .milliseconds(timeoutMilliseconds), maxBodyBytes: maxBodyBytes)
    }

    /// Creates options whose body schemas are derived from `Codable` types (see ``JSONSchema/of(_:)``).
    public init<Body: Decodable, Answer: Decodable>(
        access: Access = .authenticated, roles: [String] = [], scopes: [String] = [], tenantRequired: Bool = false,
        summary: String? = nil, requestBody: Body.Type, responseBody: Answer.Type, responseStatus: Int = 200,
        timeout: Duration? = nil, maxBodyBytes: UInt64 = 0
    ) {
        self.init(access: access, roles: roles, scopes: scopes, tenantRequired: tenantRequired, summary: summary,
                  requestSchema: JSONSchema.of(Body.self), responseSchema: JSONSchema.of(Answer.self),
                  responseStatus: responseStatus, timeout: timeout, maxBodyBytes: maxBodyBytes)
    }

    /// A route anyone may call.
    public static let `public` = RouteOptions(access: .public)

    /// A route for authenticated callers (the default).
    public static let authenticated = RouteOptions()

    /// A route for callers that belong to a tenant (tenant-scoped data).
    public static let tenant = RouteOptions(tenantRequired: true)

    /// Why the roles or scopes cannot cross the ABI, or nil. They cross it as text, roles
    /// comma-separated and scopes space-separated, so a name holding a separator (or any
    /// whitespace or control character) would silently become two names; an empty name none.
    var nameProblem: String? {
        for (kind, names) in [("role", roles), ("scope", scopes)] {
            if let bad = names.first(where: { $0.isEmpty || $0.contains(",") || $0.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F } }) {
                return "\(kind) '\(bad)' is empty or holds a comma, whitespace or a control character; fix: name \(kind)s with letters, digits and - _ . : /"
            }
        }
        return nil
    }

    /// A copy with `summary` set.
    public func summary(_ text: String) -> RouteOptions {
        var copy = self
        copy.summary = text
        return copy
    }
}
