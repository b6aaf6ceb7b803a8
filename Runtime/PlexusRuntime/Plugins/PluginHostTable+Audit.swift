import CPlexusABI
import Foundation
import PlexusPolicy

/// ABI 1.8: `audit_record`, a plugin's own changes written to the runtime's audit log as
/// `plugin.<plugin>.<action>`, beside the gateway's records (`GET /admin/audit`).
extension PluginHostTable {
    /// The longest action name a plugin may give, in bytes (the log adds `plugin.<name>.`).
    static let maxAuditActionBytes = 64
    /// The longest target, actor or request id, in bytes.
    static let maxAuditFieldBytes = 256

    static func installAudit(into host: inout plexus_host) {
        host.audit_record = { host, action, actor, tenant, target, requestID, outcome, detail, errorOut in
            let plugin = PluginInstance.from(host)
            func text(_ pointer: UnsafePointer<CChar>?) -> String? {
                guard let pointer else { return nil }
                let value = String(cString: pointer)
                return value.isEmpty ? nil : value
            }
            let action = text(action) ?? ""
            guard (1...PluginHostTable.maxAuditActionBytes).contains(action.utf8.count),
                  action.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 95 || $0 == 45 }) else {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT,
                    "audit action '\(action.prefix(80))' must be 1 to \(PluginHostTable.maxAuditActionBytes) bytes of a-z, 0-9, '.', '_' or '-'"), to: errorOut)
            }
            let fields = [("actor", text(actor)), ("tenant", text(tenant)), ("target", text(target)), ("request_id", text(requestID))]
            for (name, value) in fields where (value?.utf8.count ?? 0) > PluginHostTable.maxAuditFieldBytes {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "audit \(name) is longer than \(PluginHostTable.maxAuditFieldBytes) bytes"), to: errorOut)
            }
            let recorded: AuditOutcome
            switch outcome {
            case Int32(PLEXUS_AUDIT_SUCCESS.rawValue): recorded = .success
            case Int32(PLEXUS_AUDIT_FAILURE.rawValue): recorded = .failure
            case Int32(PLEXUS_AUDIT_DENIED.rawValue): recorded = .denied
            default:
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "audit outcome \(outcome) is not PLEXUS_AUDIT_SUCCESS, _FAILURE or _DENIED"), to: errorOut)
            }
            guard let log = plugin.services.audit else {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_WRONG_STATE, "this runtime has no audit log open (the gateway is off)"), to: errorOut)
            }
            let actorName = fields[0].1
            _ = log.append(AuditRecord(time: Date().timeIntervalSince1970, actor: actorName ?? "plugin:\(plugin.name)",
                                       actorKind: actorName == nil ? .system : .plugin, action: AuditAction(rawValue: "plugin.\(plugin.name).\(action)"),
                                       target: fields[2].1, outcome: recorded, requestID: fields[3].1, tenant: fields[1].1, detail: text(detail) ?? ""))
            HostCallStatus.set(PLEXUS_OK)
            return Int32(PLEXUS_OK.rawValue)
        }
    }
}
