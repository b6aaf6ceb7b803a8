import CPlexusABI
import Foundation
import PlexusAuth

/// ABI 1.7 (white-label): the run-time tenant directory and tenant API keys, for the plugins the
/// operator names in `[tenants] directory_plugins`; every other plugin is refused
/// (PLEXUS_E_REFUSED) and changes nothing.
extension PluginHostTable {
    static func installTenants(into host: inout plexus_host) {
        host.tenant_directory_publish = { host, entries, count, errorOut in
            let plugin = PluginInstance.from(host)
            let directory = plugin.services.tenantDirectory
            guard directory.mayPublish(plugin.name) else {
                return PluginHostTable.fail(PluginHostTable.notGranted(plugin.name), to: errorOut)
            }
            guard count <= UInt32(TenantDirectory.maxEntries) else {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "at most \(TenantDirectory.maxEntries) tenants, got \(count)"), to: errorOut)
            }
            var copied: [TenantDirectory.Entry] = []
            copied.reserveCapacity(Int(count))
            for index in 0..<Int(count) {
                guard let entry = entries?[index], entry.struct_size >= UInt32(MemoryLayout<plexus_tenant_entry>.size) else {
                    return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "entry \(index) is missing or smaller than plexus_tenant_entry"), to: errorOut)
                }
                guard entry.host_count <= UInt32(TenantDirectory.maxHostsPerTenant) else {
                    return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "entry \(index) has \(entry.host_count) hosts, at most \(TenantDirectory.maxHostsPerTenant)"), to: errorOut)
                }
                let hosts = (0..<Int(entry.host_count)).map { entry.hosts?[$0].map { String(cString: $0) } ?? "" }
                copied.append(TenantDirectory.Entry(tenant: entry.tenant.map { String(cString: $0) } ?? "", hosts: hosts, suspended: entry.suspended != 0))
            }
            do {
                try directory.publish(copied, from: plugin.name)
            } catch let refusal as TenantDirectory.Refusal {
                switch refusal {
                case .invalid(let text): return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, text), to: errorOut)
                case .taken(let text): return PluginHostTable.fail(HostCallFailure(PLEXUS_E_ALREADY_EXISTS, text), to: errorOut)
                }
            } catch {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "\(error)"), to: errorOut)
            }
            HostCallStatus.set(PLEXUS_OK)
            return Int32(PLEXUS_OK.rawValue)
        }
        host.tenant_key_create = { host, tenant, name, roles, roleCount, done, user in
            let plugin = PluginInstance.from(host)
            let tenant = tenant.map { String(cString: $0) } ?? ""
            let name = name.map { String(cString: $0) } ?? ""
            let roles = Set((0..<Int(roleCount)).compactMap { roles?[$0].map { String(cString: $0) } })
            let owner = plugin.name
            var refusal: HostCallFailure?
            if !plugin.services.tenantDirectory.mayPublish(owner) {
                refusal = PluginHostTable.notGranted(owner)
            } else if !TenantDirectory.isValidTenant(tenant) {
                refusal = HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "a plugin's key needs a tenant (1 to 64 letters, digits, '-', '_' or '.'), got '\(tenant.prefix(80))'")
            } else if name.isEmpty || name.utf8.count > 100 {
                refusal = HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "a key name must be 1 to 100 bytes")
            } else if plugin.services.keys == nil {
                refusal = HostCallFailure(PLEXUS_E_WRONG_STATE, "the gateway's key store is not open")
            }
            PluginHostTable.keyOperation(plugin, refusal, done, user) { store in
                let created = try await store.create(name: "\(owner)/\(name)", tenant: tenant, roles: roles)
                return (created.record.id, created.plaintext)
            }
        }
        host.tenant_key_revoke = { host, keyID, done, user in
            let plugin = PluginInstance.from(host)
            let keyID = keyID.map { String(cString: $0) } ?? ""
            let owner = plugin.name
            var refusal: HostCallFailure?
            if !plugin.services.tenantDirectory.mayPublish(owner) {
                refusal = PluginHostTable.notGranted(owner)
            } else if plugin.services.keys == nil {
                refusal = HostCallFailure(PLEXUS_E_WRONG_STATE, "the gateway's key store is not open")
            }
            PluginHostTable.keyOperation(plugin, refusal, done, user) { store in
                guard let record = try await store.list().first(where: { $0.id == keyID && $0.name.hasPrefix("\(owner)/") }) else {
                    throw AuthError(.notFound, "no key '\(keyID)' created by plugin '\(owner)'")
                }
                try await store.revoke(idOrName: record.id)
                return (record.id, nil)
            }
        }
    }

    /// Runs a key-store operation and reports it through `done` on the loop, never inside the
    /// call; the gateway's key directory is refreshed first, so a new key works at once.
    private static func keyOperation(_ plugin: PluginInstance, _ refusal: HostCallFailure?, _ done: plexus_tenant_key_cb?,
                                     _ user: UnsafeMutableRawPointer?,
                                     _ work: @escaping @Sendable (APIKeyStore) async throws -> (id: String, plaintext: String?)) {
        nonisolated(unsafe) let user = user
        let loop = plugin.services.loop
        defer { HostCallStatus.set(refusal?.status ?? PLEXUS_OK) }
        func report(_ status: plexus_status, _ id: String?, _ plaintext: String?, _ message: String?) {
            guard let done else { return }
            Blame.mark(plugin: plugin, what: "tenant key callback")
            defer { Blame.clear() }
            HostCallStatus.set(status)
            let code = Int32(status == PLEXUS_OK ? PLEXUS_OK.rawValue : PLEXUS_ERROR.rawValue)
            (id ?? "").withCString { idText in
                (plaintext ?? "").withCString { plainText in
                    (message ?? "").withCString { messageText in
                        done(user, code, id == nil ? nil : idText, plaintext == nil ? nil : plainText, message == nil ? nil : messageText)
                    }
                }
            }
        }
        if let refusal {
            loop.execute { report(refusal.status, nil, nil, refusal.description) }
            return
        }
        guard let keys = plugin.services.keys else { return }
        let store = keys.store, directory = keys.directory
        loop.async({ () async throws -> (id: String, plaintext: String?) in
            let result = try await work(store)
            _ = try await directory.refresh()
            return result
        }, then: { result in
            switch result {
            case .success(let value): report(PLEXUS_OK, value.id, value.plaintext, nil)
            case .failure(let error as AuthError):
                let status: plexus_status = switch error.kind {
                case .conflict: PLEXUS_E_ALREADY_EXISTS
                case .notFound, .alreadyRevoked: PLEXUS_E_NOT_FOUND
                case .invalidArgument: PLEXUS_E_INVALID_ARGUMENT
                default: PLEXUS_E_REMOTE_FAILED
                }
                report(status, nil, nil, error.message)
            case .failure(let error): report(PLEXUS_E_REMOTE_FAILED, nil, nil, "\(error)")
            }
        })
    }

    static func notGranted(_ plugin: String) -> HostCallFailure {
        HostCallFailure(PLEXUS_E_REFUSED, "plugin '\(plugin)' may not manage tenants: the operator grants it with [tenants] directory_plugins = \"\(plugin)\" in the runtime's config")
    }
}
