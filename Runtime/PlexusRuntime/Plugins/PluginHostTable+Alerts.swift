import CPlexusABI
import Foundation
import PlexusEventLog

extension PluginHostTable {
    /// The severities a plugin may raise, mildest first: the runtime's alert tiers.
    static let alertSeverities = AlertRules.severities
    /// The longest alert name, in bytes.
    static let maxAlertNameBytes = 128
    /// The longest alert detail, in bytes.
    static let maxAlertDetailBytes = 1024

    /// ABI 1.5: `alert_raise`, published as `system.alert` on the loop. Any thread.
    static func installAlerts(into host: inout plexus_host) {
        host.alert_raise = { host, severity, name, detail, errorOut in
            let plugin = PluginInstance.from(host)
            let severity = severity.map { String(cString: $0) } ?? ""
            let name = name.map { String(cString: $0) } ?? ""
            let detail = detail.map { String(cString: $0) }
            guard PluginHostTable.alertSeverities.contains(severity) else {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT,
                                            "alert severity '\(severity.prefix(32))' is not one of \(PluginHostTable.alertSeverities.joined(separator: ", "))"), to: errorOut)
            }
            guard (1...PluginHostTable.maxAlertNameBytes).contains(name.utf8.count) else {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "alert name must be 1 to \(PluginHostTable.maxAlertNameBytes) bytes, got \(name.utf8.count)"), to: errorOut)
            }
            if let detail, detail.utf8.count > PluginHostTable.maxAlertDetailBytes {
                return PluginHostTable.fail(HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "alert detail must be at most \(PluginHostTable.maxAlertDetailBytes) bytes, got \(detail.utf8.count)"), to: errorOut)
            }
            let alert = SystemEvent.PluginAlert(plugin: plugin.name, name: name, severity: severity, detail: detail)
            let services = plugin.services
            // Never inside the call: published from the loop, like every event.
            services.loop.execute {
                let event = SystemEvent.pluginAlert(alert)
                services.events.publish(EventEnvelope(topic: event.topic, source: "plexus", contentType: "application/json", payload: event.payload),
                                        durable: false) { _ in }
            }
            HostCallStatus.set(PLEXUS_OK)
            return Int32(PLEXUS_OK.rawValue)
        }
    }
}
