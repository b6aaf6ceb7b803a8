import CPlexusABI

/// The audit log over the C host vtable (ABI 1.8).
@PluginActor
final class HostAuditDriver: AuditDriver {
    private let bridge: HostBridge

    init(bridge: HostBridge) { self.bridge = bridge }

    func record(_ entry: AuditEntry) throws {
        guard bridge.has(\.audit_record), let record = bridge.host.pointee.audit_record else {
            throw PluginError.unsupported("the audit log (ABI 1.8 or newer needed)")
        }
        let outcome = switch entry.outcome {
        case .success: Int32(PLEXUS_AUDIT_SUCCESS.rawValue)
        case .failure: Int32(PLEXUS_AUDIT_FAILURE.rawValue)
        case .denied: Int32(PLEXUS_AUDIT_DENIED.rawValue)
        }
        let host = bridge.host
        var message = [CChar](repeating: 0, count: 512)
        let texts = BytePack([entry.action, entry.actor ?? "", entry.tenant ?? "", entry.target ?? "", entry.requestID ?? "", entry.detail ?? ""])
        let status = message.withUnsafeMutableBufferPointer { buffer in
            var error = plexus_error(message: buffer.baseAddress, capacity: buffer.count)
            return texts.withCStrings { strings in
                record(host, strings[0], strings[1], strings[2], strings[3], strings[4], outcome, strings[5], &error)
            }
        }
        guard status == Int32(PLEXUS_OK.rawValue) else {
            throw PluginError.auditRefused(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)).withLastStatus()
        }
    }
}
