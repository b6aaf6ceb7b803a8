/// One tenant as a plugin publishes it into the host's tenant directory (ABI 1.7).
public struct TenantDirectoryEntry: Sendable, Equatable {
    /// The tenant id.
    public var tenant: String
    /// Its domains: lower-case DNS names without a port.
    public var hosts: [String]
    /// Whether the gateway answers 403 to every plugin route requested for it.
    public var suspended: Bool

    /// One tenant with its domains.
    public init(tenant: String, hosts: [String], suspended: Bool = false) {
        (self.tenant, self.hosts, self.suspended) = (tenant, hosts, suspended)
    }
}

/// A tenant API key the runtime created for a plugin.
public struct TenantKey: Sendable, Equatable {
    /// The key's public id (for revoking it).
    public let id: String
    /// The key itself, shown this once.
    public let plaintext: String

    /// A key.
    public init(id: String, plaintext: String) { (self.id, self.plaintext) = (id, plaintext) }
}

/// Where tenant operations go: the runtime (ABI 1.7) or a test host.
@PluginActor
public protocol TenancyDriver: AnyObject {
    /// Replaces this plugin's part of the directory, or throws ``PluginError`` with the reason.
    func publish(_ entries: [TenantDirectoryEntry]) throws
    /// Creates an API key of `tenant` with `roles`.
    func createKey(tenant: String, name: String, roles: [String]) async throws -> TenantKey
    /// Revokes a key this plugin created.
    func revokeKey(id: String) async throws
}

/// A runtime without tenant services.
public final class UnsupportedTenancy: TenancyDriver {
    public nonisolated init() {}
    public func publish(_ entries: [TenantDirectoryEntry]) throws { throw PluginError.unsupported("a tenant directory (ABI 1.7 or newer needed)") }
    public func createKey(tenant: String, name: String, roles: [String]) async throws -> TenantKey { throw PluginError.unsupported("tenant keys (ABI 1.7 or newer needed)") }
    public func revokeKey(id: String) async throws { throw PluginError.unsupported("tenant keys (ABI 1.7 or newer needed)") }
}

/// A plugin's handle on the host's tenant directory and tenant keys (ABI 1.7). Only a plugin the
/// operator names in `[tenants] directory_plugins` may use it; any other gets
/// ``PluginError`` with status ``HostStatus/refused``.
@PluginActor
public struct Tenancy {
    let driver: any TenancyDriver

    /// Publishes every tenant this plugin manages (replacing what it published before): the
    /// gateway maps their hosts at once and refuses suspended tenants with 403.
    public func publish(_ entries: [TenantDirectoryEntry]) throws { try driver.publish(entries) }

    /// Creates an API key of `tenant` (named "<plugin>/<name>" in the key store) with `roles`.
    public func createKey(tenant: String, name: String, roles: [String]) async throws -> TenantKey {
        try await driver.createKey(tenant: tenant, name: name, roles: roles)
    }

    /// Revokes a key this plugin created.
    public func revokeKey(id: String) async throws { try await driver.revokeKey(id: id) }
}
