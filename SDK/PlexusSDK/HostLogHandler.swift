import CPlexusABI
import Logging

/// A swift-log `LogHandler` that forwards every record to the host's log, which tags it
/// with the plugin's name and writes it with the runtime's own records.
struct HostLogHandler: LogHandler {
    let bridge: HostBridge
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        if let error = event.error { merged["error"] = "\(error)" }
        let message = event.message
        let level = event.level
        let suffix = merged.isEmpty ? "" : " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        bridge.log(Self.abiLevel(level), "\(message)\(suffix)")
    }

    static func abiLevel(_ level: Logger.Level) -> plexus_log_level {
        switch level {
        case .trace: PLEXUS_LOG_TRACE
        case .debug: PLEXUS_LOG_DEBUG
        case .info: PLEXUS_LOG_INFO
        case .notice: PLEXUS_LOG_NOTICE
        case .warning: PLEXUS_LOG_WARNING
        case .error: PLEXUS_LOG_ERROR
        case .critical: PLEXUS_LOG_CRITICAL
        }
    }
}
