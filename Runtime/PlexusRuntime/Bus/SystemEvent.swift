import Foundation
import PlexusPolicy

/// An event the runtime itself publishes under `system.…` (source `plexus`, JSON payload): one
/// case per kind, each with a `Codable` payload, so a topic and its payload's shape are named
/// in one place. The topics are reserved (``TopicReservations``): no client or plugin publishes them.
enum SystemEvent {
    /// `system.plugin.health`: a plugin's health check changed its answer.
    case pluginHealth(PluginHealth)
    /// `system.plugin.failed`: a plugin did not start (published once start-up has finished).
    case pluginFailed(PluginFile)
    /// `system.plugin.quarantined`: a plugin the supervisor quarantined was not started.
    case pluginQuarantined(PluginFile)
    /// `system.worker.recycled`: this worker generation replaces one recycled for its memory.
    case workerRecycled(WorkerRecycle)
    /// `system.circuit.<state>`: a route's circuit breaker moved to `state`.
    case circuit(CircuitState, Circuit)
    /// `system.alert`: an alert rule's severity changed.
    case alert(Alert)
    /// `system.alert`: a plugin raised an alert (ABI 1.5 `alert_raise`).
    case pluginAlert(PluginAlert)

    /// The payload of `system.plugin.health`.
    struct PluginHealth: Codable, Equatable {
        var plugin: String
        /// The previous answer (`unknown` before the first check).
        var from: String
        var to: String
        var detail: String
    }

    /// The payload of `system.plugin.failed` and `system.plugin.quarantined`.
    struct PluginFile: Codable, Equatable {
        var plugin: String
        /// The plugin's file name in the plugins directory.
        var file: String
        var reason: String
    }

    /// The payload of `system.circuit.<state>`.
    struct Circuit: Codable, Equatable {
        var plugin: String
        /// `METHOD /pattern`.
        var route: String
        var from: String
        var to: String
        var reason: String
    }

    /// The payload of `system.alert`.
    struct Alert: Codable, Equatable {
        var measure: String
        var severity: String
        var value: Double
        /// The threshold crossed; absent when the alert cleared.
        var threshold: Double?
    }

    /// The payload of `system.alert` when a plugin raised it.
    struct PluginAlert: Codable, Equatable {
        var plugin: String
        var name: String
        var severity: String
        var detail: String?
    }

    /// The event's topic.
    var topic: String {
        switch self {
        case .pluginHealth: "system.plugin.health"
        case .pluginFailed: "system.plugin.failed"
        case .pluginQuarantined: "system.plugin.quarantined"
        case .workerRecycled: "system.worker.recycled"
        case .circuit(let state, _): "system.circuit.\(state.rawValue)"
        case .alert, .pluginAlert: "system.alert"
        }
    }

    /// The payload as JSON with sorted keys.
    var payload: Data {
        switch self {
        case .pluginHealth(let body): Self.encode(body)
        case .pluginFailed(let body), .pluginQuarantined(let body): Self.encode(body)
        case .workerRecycled(let body): Self.encode(body)
        case .circuit(_, let body): Self.encode(body)
        case .alert(let body): Self.encode(body)
        case .pluginAlert(let body): Self.encode(body)
        }
    }

    private static func encode<T: Encodable>(_ body: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Every payload is plain strings and numbers: encoding cannot fail.
        return (try? encoder.encode(body)) ?? Data("{}".utf8)
    }
}
