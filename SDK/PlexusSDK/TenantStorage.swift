import Foundation

/// One tenant's share of the plugin's key-value storage: every key is stored under the tenant's
/// own prefix, so a handler that reaches data only through `storage.tenant(request.requireTenant())`
/// cannot read or list another tenant's keys, whatever key a client sends.
///
/// ```swift
/// let notes = context.storage.tenant(try request.requireTenant())
/// try await notes.put("note/\(id)", Array(body.utf8))
/// ```
@PluginActor
public struct TenantStorage {
    /// The tenant this view belongs to.
    public let tenant: String
    let storage: Storage
    let prefix: String

    init(storage: Storage, tenant: String) {
        self.storage = storage
        self.tenant = tenant
        self.prefix = TenantStorage.prefix(for: tenant)
    }

    /// The stored prefix of `tenant`'s keys: `tenant/<escaped>/`, where `%` and `/` are escaped so
    /// no tenant name can reach into another's prefix.
    nonisolated static func prefix(for tenant: String) -> String {
        "tenant/" + tenant.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F") + "/"
    }

    /// The value and version stored under `key` for this tenant, or nil.
    public func get(_ key: String) async throws -> StoredValue? {
        try await storage.get(prefix + key).map(strip)
    }

    /// Stores `value` under `key` for this tenant (same rules as ``Storage/put(_:_:ttl:expectedVersion:)``).
    @discardableResult
    public func put(_ key: String, _ value: [UInt8], ttl: Double? = nil, expectedVersion: Int64? = nil) async throws -> Int64 {
        try await storage.put(prefix + key, value, ttl: ttl, expectedVersion: expectedVersion)
    }

    /// Deletes `key` of this tenant; returns whether it existed.
    @discardableResult
    public func delete(_ key: String, expectedVersion: Int64? = nil) async throws -> Bool {
        try await storage.delete(prefix + key, expectedVersion: expectedVersion)
    }

    /// This tenant's entries whose key starts with `keyPrefix`, keys shown without the tenant prefix.
    public func list(prefix keyPrefix: String = "", limit: Int = 100, after: String? = nil) async throws -> [StoredValue] {
        try await storage.list(prefix: prefix + keyPrefix, limit: limit, after: after.map { prefix + $0 }).map(strip)
    }

    private func strip(_ value: StoredValue) -> StoredValue {
        var copy = value
        copy.key = String(value.key.dropFirst(prefix.count))
        return copy
    }
}

extension Storage {
    /// The key-value storage of `tenant` alone (see ``TenantStorage``).
    public func tenant(_ tenant: String) -> TenantStorage {
        TenantStorage(storage: self, tenant: tenant)
    }
}
