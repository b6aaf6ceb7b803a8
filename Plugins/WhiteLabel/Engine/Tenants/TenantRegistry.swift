/// Every tenant and the domain each owns: the rules that span tenants (unique ids, a domain
/// owned by one tenant only). A value type: a change is computed on a copy and kept only when it
/// is valid, so nothing is ever half written.
public struct TenantRegistry: Sendable, Equatable {
    public private(set) var tenants: [String: Tenant] = [:]
    /// Domain to owning tenant.
    public private(set) var owners: [String: String] = [:]

    public init(_ tenants: [Tenant] = []) {
        for tenant in tenants {
            self.tenants[tenant.id] = tenant
            for domain in tenant.domains { owners[domain] = tenant.id }
        }
    }

    public subscript(id: String) -> Tenant? { tenants[id] }

    /// Every tenant, by id.
    public var all: [Tenant] { tenants.values.sorted { $0.id < $1.id } }

    /// Adds `tenant`; a taken id or domain is a ``ConflictError`` naming the owner.
    public mutating func create(_ tenant: Tenant) throws {
        try tenant.validate()
        guard tenants[tenant.id] == nil else { throw ConflictError("tenant '\(tenant.id)' already exists") }
        try checkDomains(tenant.domains, for: tenant.id)
        put(tenant)
    }

    /// Replaces the tenant of the same id (validated, domains checked).
    public mutating func update(_ tenant: Tenant) throws {
        try tenant.validate()
        guard tenants[tenant.id] != nil else { throw NotFoundError("no tenant '\(tenant.id)'") }
        try checkDomains(tenant.domains, for: tenant.id)
        put(tenant)
    }

    /// Removes a tenant and frees its domains; returns it.
    @discardableResult
    public mutating func delete(_ id: String) throws -> Tenant {
        guard let tenant = tenants.removeValue(forKey: id) else { throw NotFoundError("no tenant '\(id)'") }
        for domain in tenant.domains where owners[domain] == id { owners.removeValue(forKey: domain) }
        return tenant
    }

    /// Adds `domain` to tenant `id` (idempotent for its owner).
    public mutating func reserve(_ domain: String, for id: String) throws -> Tenant {
        try Tenant.validateDomain(domain)
        guard var tenant = tenants[id] else { throw NotFoundError("no tenant '\(id)'") }
        try checkDomains([domain], for: id)
        if !tenant.domains.contains(domain) { tenant.domains.append(domain) }
        try update(tenant)
        return tenant
    }

    /// Removes `domain` from tenant `id`.
    public mutating func release(_ domain: String, from id: String) throws -> Tenant {
        guard var tenant = tenants[id] else { throw NotFoundError("no tenant '\(id)'") }
        guard let index = tenant.domains.firstIndex(of: domain) else { throw NotFoundError("tenant '\(id)' does not own '\(domain)'") }
        tenant.domains.remove(at: index)
        try update(tenant)
        return tenant
    }

    private func checkDomains(_ domains: [String], for id: String) throws {
        for domain in domains {
            if let owner = owners[domain], owner != id { throw ConflictError("domain '\(domain)' is owned by tenant '\(owner)'") }
        }
    }

    private mutating func put(_ tenant: Tenant) {
        if let old = tenants[tenant.id] {
            for domain in old.domains where owners[domain] == tenant.id { owners.removeValue(forKey: domain) }
        }
        tenants[tenant.id] = tenant
        for domain in tenant.domains { owners[domain] = tenant.id }
    }
}

/// Something named that does not exist (answered as 404).
public struct NotFoundError: Error, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
