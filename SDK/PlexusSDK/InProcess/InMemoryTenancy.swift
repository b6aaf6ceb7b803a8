/// The tenant services of a test host: the directory a plugin published, and keys kept in memory.
/// It applies the runtime's rules that a test can see: a host claimed by two tenants is refused,
/// nothing changes; a key of an empty tenant is refused; only keys created here can be revoked.
@PluginActor
public final class InMemoryTenancy: TenancyDriver {
    /// The entries last published.
    public private(set) var entries: [TenantDirectoryEntry] = []
    /// Keys created and not revoked: id to (tenant, roles).
    public private(set) var keys: [String: (tenant: String, roles: [String])] = [:]
    private var nextKey = 1

    public nonisolated init() {}

    public func publish(_ entries: [TenantDirectoryEntry]) throws {
        var owners: [String: String] = [:]
        for entry in entries {
            for host in entry.hosts {
                if let owner = owners[host], owner != entry.tenant {
                    throw PluginError.tenancyRefused("host '\(host)' is claimed by tenants '\(owner)' and '\(entry.tenant)'")
                }
                owners[host] = entry.tenant
            }
        }
        self.entries = entries
    }

    /// The tenant `host` (a `Host` header value; the port is ignored) maps to.
    public func tenant(forHost host: String) -> String? {
        var name = host.lowercased()
        if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        return entries.first { $0.hosts.contains(name) }?.tenant
    }

    /// Whether `tenant` is published as suspended.
    public func isSuspended(_ tenant: String) -> Bool { entries.contains { $0.tenant == tenant && $0.suspended } }

    public func createKey(tenant: String, name: String, roles: [String]) async throws -> TenantKey {
        guard !tenant.isEmpty else { throw PluginError.tenancyRefused("a plugin's key needs a tenant") }
        let id = "mem\(nextKey)"
        nextKey += 1
        keys[id] = (tenant, roles)
        return TenantKey(id: id, plaintext: "plx_\(id)_secret")
    }

    public func revokeKey(id: String) async throws {
        guard keys.removeValue(forKey: id) != nil else { throw PluginError.tenancyRefused("no key '\(id)' created by this plugin") }
    }
}
