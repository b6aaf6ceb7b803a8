/// The host-to-tenant directory that granted plugins publish at run time (ABI 1.7
/// `tenant_directory_publish`), consulted by ``TenantStage`` after the static `[tenants.hosts]`.
///
/// Each granted plugin owns its part, replaced whole by every publish; a host may belong to one
/// tenant of one plugin only (a second claim is refused, nothing changes). Suspended tenants are
/// kept as a set the stage checks for every plugin route. Loop thread only.
final class TenantDirectory {
    /// One tenant as published.
    struct Entry: Equatable {
        let tenant: String
        let hosts: [String]
        let suspended: Bool
    }

    /// Why a publish was refused.
    enum Refusal: Error, Equatable {
        /// A malformed tenant or host.
        case invalid(String)
        /// A host another tenant (or another plugin) holds.
        case taken(String)
    }

    /// Plugins the operator allowed to publish (`[tenants] directory_plugins`).
    let publishers: Set<String>
    /// Host (lower case, no port) to tenant, merged over every plugin.
    private(set) var hosts: [String: String] = [:]
    /// Tenants that are suspended.
    private(set) var suspended: Set<String> = []
    /// Whether the directory holds anything (the stage's fast path).
    private(set) var isEmpty = true
    private var parts: [String: [Entry]] = [:]

    /// The most entries one publish may hold.
    static let maxEntries = 100_000
    /// The most hosts one tenant may hold.
    static let maxHostsPerTenant = 64

    init(publishers: Set<String> = []) {
        self.publishers = publishers
    }

    /// Whether `plugin` may publish.
    func mayPublish(_ plugin: String) -> Bool { publishers.contains(plugin) }

    /// Replaces `plugin`'s part with `entries`, or throws the first problem and changes nothing.
    func publish(_ entries: [Entry], from plugin: String) throws(Refusal) {
        guard entries.count <= Self.maxEntries else { throw .invalid("at most \(Self.maxEntries) tenants, got \(entries.count)") }
        var others: [String: String] = [:]
        for (owner, part) in parts where owner != plugin {
            for entry in part { for host in entry.hosts { others[host] = entry.tenant } }
        }
        var mine: [String: String] = [:]
        var seenTenants = Set<String>()
        for entry in entries {
            guard Self.isValidTenant(entry.tenant) else { throw .invalid("tenant id '\(entry.tenant.prefix(80))' must be 1 to 64 letters, digits, '-', '_' or '.'") }
            guard seenTenants.insert(entry.tenant).inserted else { throw .invalid("tenant '\(entry.tenant)' is listed twice") }
            guard entry.hosts.count <= Self.maxHostsPerTenant else { throw .invalid("tenant '\(entry.tenant)' has \(entry.hosts.count) hosts, at most \(Self.maxHostsPerTenant)") }
            for host in entry.hosts {
                guard Self.isValidHost(host) else { throw .invalid("host '\(host.prefix(80))' of tenant '\(entry.tenant)' is not a lower-case DNS name without a port") }
                if let owner = mine[host] { throw .invalid("host '\(host)' is claimed by tenants '\(owner)' and '\(entry.tenant)'") }
                if let owner = others[host], owner != entry.tenant { throw .taken("host '\(host)' already belongs to tenant '\(owner)'") }
                mine[host] = entry.tenant
            }
        }
        parts[plugin] = entries
        rebuild()
    }

    /// Forgets `plugin`'s part (it stopped).
    func remove(_ plugin: String) {
        guard parts.removeValue(forKey: plugin) != nil else { return }
        rebuild()
    }

    private func rebuild() {
        var hosts: [String: String] = [:]
        var suspended = Set<String>()
        for part in parts.values {
            for entry in part {
                for host in entry.hosts { hosts[host] = entry.tenant }
                if entry.suspended { suspended.insert(entry.tenant) }
            }
        }
        self.hosts = hosts
        self.suspended = suspended
        isEmpty = hosts.isEmpty && suspended.isEmpty
    }

    /// 1 to 64 bytes of letters, digits, '-', '_' and '.'.
    static func isValidTenant(_ text: String) -> Bool {
        let bytes = text.utf8
        guard (1...64).contains(bytes.count) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// A lower-case DNS name: labels of 1 to 63 of `a-z0-9-`, not starting or ending with '-', at most 253 bytes.
    static func isValidHost(_ text: String) -> Bool {
        guard (1...253).contains(text.utf8.count) else { return false }
        for label in text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
            guard label.allSatisfy({ ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") }) else { return false }
        }
        return true
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
