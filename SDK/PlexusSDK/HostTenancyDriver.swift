import CPlexusABI

/// The tenant services over the C host vtable (ABI 1.7).
@PluginActor
final class HostTenancyDriver: TenancyDriver {
    private let bridge: HostBridge

    init(bridge: HostBridge) { self.bridge = bridge }

    func publish(_ entries: [TenantDirectoryEntry]) throws {
        guard bridge.has(\.tenant_directory_publish), let publish = bridge.host.pointee.tenant_directory_publish else {
            throw PluginError.unsupported("a tenant directory (ABI 1.7 or newer needed)")
        }
        // Every string as a C string kept alive for the call.
        var texts = BytePack([])
        for entry in entries {
            texts.append(entry.tenant.utf8)
            for host in entry.hosts { texts.append(host.utf8) }
        }
        var message = [CChar](repeating: 0, count: 512)
        let host = bridge.host
        let status = texts.withCStrings { strings in
            var cursor = 0
            var hostPointers: [UnsafePointer<CChar>?] = []
            var layout: [(tenant: UnsafePointer<CChar>?, first: Int, count: Int, suspended: Bool)] = []
            for entry in entries {
                let tenant = strings[cursor]
                cursor += 1
                layout.append((tenant, hostPointers.count, entry.hosts.count, entry.suspended))
                for _ in entry.hosts {
                    hostPointers.append(strings[cursor])
                    cursor += 1
                }
            }
            return hostPointers.withUnsafeBufferPointer { hosts in
                let raw = layout.map { item in
                    plexus_tenant_entry(struct_size: UInt32(MemoryLayout<plexus_tenant_entry>.size), suspended: item.suspended ? 1 : 0,
                                        tenant: item.tenant, hosts: item.count == 0 ? nil : hosts.baseAddress! + item.first,
                                        host_count: UInt32(item.count))
                }
                return raw.withUnsafeBufferPointer { raw in
                    message.withUnsafeMutableBufferPointer { text in
                        var error = plexus_error(message: text.baseAddress, capacity: text.count)
                        return publish(host, raw.baseAddress, UInt32(raw.count), &error)
                    }
                }
            }
        }
        guard status == Int32(PLEXUS_OK.rawValue) else {
            throw PluginError.tenancyRefused(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)).withLastStatus()
        }
    }

    func createKey(tenant: String, name: String, roles: [String]) async throws -> TenantKey {
        guard bridge.has(\.tenant_key_create), let create = bridge.host.pointee.tenant_key_create else {
            throw PluginError.unsupported("tenant keys (ABI 1.7 or newer needed)")
        }
        let host = bridge.host
        let outcome = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(String, String), Error>) in
            let box = Unmanaged.passRetained(TenantKeyBox(continuation)).toOpaque()
            var pack = BytePack([])
            for role in roles { pack.append(role.utf8) }
            pack.withCStrings { roleTexts in
                tenant.withCString { tenantText in
                    name.withCString { nameText in
                        roleTexts.map { Optional($0) }.withUnsafeBufferPointer { roles in
                            create(host, tenantText, nameText, roles.baseAddress, UInt32(roles.count), TenantKeyBox.completed, box)
                        }
                    }
                }
            }
        }
        return TenantKey(id: outcome.0, plaintext: outcome.1)
    }

    func revokeKey(id: String) async throws {
        guard bridge.has(\.tenant_key_revoke), let revoke = bridge.host.pointee.tenant_key_revoke else {
            throw PluginError.unsupported("tenant keys (ABI 1.7 or newer needed)")
        }
        let host = bridge.host
        _ = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(String, String), Error>) in
            let box = Unmanaged.passRetained(TenantKeyBox(continuation)).toOpaque()
            id.withCString { revoke(host, $0, TenantKeyBox.completed, box) }
        }
    }
}

/// Resumes a tenant key call when the runtime reports the outcome (on the loop).
final class TenantKeyBox: @unchecked Sendable {
    let continuation: CheckedContinuation<(String, String), Error>

    init(_ continuation: CheckedContinuation<(String, String), Error>) { self.continuation = continuation }

    static let completed: plexus_tenant_key_cb = { user, status, keyID, plaintext, message in
        let box = Unmanaged<TenantKeyBox>.fromOpaque(user!).takeRetainedValue()
        if status == Int32(PLEXUS_OK.rawValue) {
            box.continuation.resume(returning: (keyID.map { String(cString: $0) } ?? "", plaintext.map { String(cString: $0) } ?? ""))
        } else {
            box.continuation.resume(throwing: PluginError.tenancyRefused(message.map { String(cString: $0) } ?? "tenant key operation failed").withLastStatus())
        }
    }
}
