/// The caller of a request, as the runtime's gateway verified it (a bearer JWT or an API key).
/// Never built from headers a client can set.
public struct CallerIdentity: Sendable, Equatable {
    /// A JWT's `sub`, or an API key's name.
    public var subject: String
    /// The caller's tenant: from a verified claim or the API key (never from the `Host`).
    public var tenant: String?
    /// The caller's roles, in the order the credentials list them, without duplicates.
    public var roles: [String]
    /// The caller's scopes, in the order the credentials list them, without duplicates.
    public var scopes: [String]

    /// Creates an identity (the SDK builds it from the request; tests may build one).
    public init(subject: String, tenant: String? = nil, roles: [String] = [], scopes: [String] = []) {
        self.subject = subject
        self.tenant = tenant
        self.roles = Self.unique(roles)
        self.scopes = Self.unique(scopes)
    }

    /// Creates an identity from sets (the roles and scopes are sorted).
    @available(*, deprecated, message: "pass roles and scopes as arrays")
    public init(subject: String, tenant: String? = nil, roles: Set<String>, scopes: Set<String> = []) {
        self.init(subject: subject, tenant: tenant, roles: roles.sorted(), scopes: scopes.sorted())
    }

    /// Whether the caller has `role`.
    public func has(role: String) -> Bool { roles.contains(role) }

    /// Whether the caller has `scope`.
    public func has(scope: String) -> Bool { scopes.contains(scope) }

    private static func unique(_ names: [String]) -> [String] {
        // Most callers hold a few names: compare them pairwise (no set to build for each request).
        if names.count <= 8 {
            var index = 1
            while index < names.count {
                if names[..<index].contains(names[index]) { break }
                index += 1
            }
            if index == names.count { return names }
        }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }
}
