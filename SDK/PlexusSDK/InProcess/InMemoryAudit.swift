/// The audit log of a test host: the records a plugin wrote, with the runtime's checks applied
/// (the action's characters and length, the fields' lengths), and the runtime's naming
/// (`plugin.<name>.<action>`).
@PluginActor
public final class InMemoryAudit: AuditDriver {
    /// The records in the order written, each action already prefixed with `plugin.<name>.`.
    public private(set) var records: [AuditEntry] = []
    private let plugin: String

    /// An empty log for the plugin named `plugin`.
    public nonisolated init(plugin: String) { self.plugin = plugin }

    public func record(_ entry: AuditEntry) throws {
        guard (1...64).contains(entry.action.utf8.count),
              entry.action.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 95 || $0 == 45 }) else {
            throw PluginError.auditRefused("audit action '\(entry.action.prefix(80))' must be 1 to 64 bytes of a-z, 0-9, '.', '_' or '-'")
        }
        for (name, value) in [("actor", entry.actor), ("tenant", entry.tenant), ("target", entry.target), ("request_id", entry.requestID)]
        where (value?.utf8.count ?? 0) > 256 {
            throw PluginError.auditRefused("audit \(name) is longer than 256 bytes")
        }
        var kept = entry
        kept.action = "plugin.\(plugin).\(entry.action)"
        records.append(kept)
    }
}
