/// A tenant as the operator manages it.
public struct Tenant: Codable, Sendable, Equatable {
    /// Whether the tenant is served.
    public enum Status: String, Codable, Sendable { case active, suspended }

    /// The id: 1 to 64 of lower-case letters, digits and '-', starting with a letter.
    public var id: String
    public var displayName: String
    /// The plan whose defaults apply (settings' plan layer, flag constraints).
    public var plan: String
    public var status: Status
    /// Domains it owns (lower-case DNS names).
    public var domains: [String]
    /// A contact e-mail address.
    public var contact: String

    enum CodingKeys: String, CodingKey {
        case id, plan, status, domains, contact
        case displayName = "display_name"
    }

    public init(id: String, displayName: String, plan: String, status: Status = .active, domains: [String] = [], contact: String) {
        (self.id, self.displayName, self.plan, self.status, self.domains, self.contact) = (id, displayName, plan, status, domains, contact)
    }

    /// Throws the first field that is wrong.
    public func validate() throws {
        try Self.validateID(id)
        guard (1...200).contains(displayName.count), !displayName.contains(where: \.isNewline) else {
            throw ValidationError("display_name must be 1 to 200 characters on one line")
        }
        try Self.validatePlan(plan)
        guard domains.count <= 64 else { throw ValidationError("a tenant has at most 64 domains, got \(domains.count)") }
        for domain in domains { try Self.validateDomain(domain) }
        guard Set(domains).count == domains.count else { throw ValidationError("domains lists a domain twice") }
        let parts = contact.split(separator: "@", omittingEmptySubsequences: false)
        guard contact.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
              !contact.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            throw ValidationError("contact must be an e-mail address such as ops@example.com, got '\(contact.prefix(80))'")
        }
    }

    public static func validateID(_ id: String) throws {
        let bytes = Array(id.utf8)
        guard (1...64).contains(bytes.count), let first = bytes.first, first >= 97, first <= 122,
              bytes.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }) else {
            throw ValidationError("tenant id '\(id.prefix(80))' must be 1 to 64 lower-case letters, digits and '-', starting with a letter")
        }
    }

    public static func validatePlan(_ plan: String) throws {
        let bytes = Array(plan.utf8)
        guard (1...32).contains(bytes.count), bytes.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }) else {
            throw ValidationError("plan '\(plan.prefix(40))' must be 1 to 32 lower-case letters, digits and '-'")
        }
    }

    /// A lower-case DNS name of at least two labels, without a port.
    public static func validateDomain(_ domain: String) throws {
        guard domain.utf8.allSatisfy({ $0 < 0x80 }) else {
            throw ValidationError("domain '\(domain.prefix(80))' is not ASCII: give an internationalised name in its punycode form (xn--...), lower case, such as xn--bcher-kva.example")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        let ok = domain.utf8.count <= 253 && labels.count >= 2 && labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
        }
        guard ok else { throw ValidationError("domain '\(domain.prefix(80))' must be a lower-case DNS name such as app.example.com, without a port") }
    }
}

/// A partial update of a tenant (PATCH): absent fields stay.
public struct TenantPatch: Codable, Sendable {
    public var displayName: String?
    public var plan: String?
    public var status: Tenant.Status?
    public var domains: [String]?
    public var contact: String?

    enum CodingKeys: String, CodingKey {
        case plan, status, domains, contact
        case displayName = "display_name"
    }

    public init(displayName: String? = nil, plan: String? = nil, status: Tenant.Status? = nil, domains: [String]? = nil, contact: String? = nil) {
        (self.displayName, self.plan, self.status, self.domains, self.contact) = (displayName, plan, status, domains, contact)
    }

    /// `tenant` with this patch applied.
    public func applied(to tenant: Tenant) -> Tenant {
        var copy = tenant
        if let displayName { copy.displayName = displayName }
        if let plan { copy.plan = plan }
        if let status { copy.status = status }
        if let domains { copy.domains = domains }
        if let contact { copy.contact = contact }
        return copy
    }
}
