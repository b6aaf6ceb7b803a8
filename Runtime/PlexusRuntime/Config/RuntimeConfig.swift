import Foundation
import Logging
import PlexusStorage

/// Everything the runtime reads from its config file, with the embedded defaults used when a
/// key (or the whole file) is absent.
///
/// ```toml
/// [server]
/// listen = "127.0.0.1:8080"
/// max_body_bytes = 1048576
/// access_log = true     # false: no access log (see [access_log] for where and how)
/// [plugins]
/// dir = "./plugins.d"
/// start_timeout_ms = 5000
/// [data]
/// dir = "./data"
/// [log]
/// level = "info"
/// format = "text"      # or "json"
/// ```
public struct RuntimeConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var pluginsDirectory = URL(fileURLWithPath: "plugins.d")
    public var dataDirectory = URL(fileURLWithPath: "data")
    public var limits = HTTPLimits()
    /// `[access_log]` (and `[server] access_log = false`, which turns it off).
    public var accessLog = AccessLogSettings()
    public var logLevel = Logger.Level.info
    /// `[log] format`: `text` (default) or `json` (one object per line, for log collectors).
    public var logFormat = LogFormat.text
    public var startTimeoutMilliseconds: UInt64 = 5_000
    public var stopTimeoutMilliseconds: UInt64 = 5_000
    /// `[plugins] offloop_threads_per_plugin`: how many of the shared pool's threads one plugin's
    /// off-loop work may use at once; nil means every thread but one (3 of libuv's default 4).
    public var offLoopThreadsPerPlugin: Int?
    /// Plugins that must be running (and not failing) for `/ready` to answer 200.
    public var requiredPlugins: [String] = []
    public var healthIntervalMilliseconds: UInt64 = 10_000
    public var healthTimeoutMilliseconds: UInt64 = 1_000
    /// Topic patterns that are always durable.
    public var durableTopics: [String] = []
    /// Deliveries of a durable event before it is dead-lettered.
    public var busMaxAttempts = 5
    /// Durable events older than this are deleted (0: kept).
    public var busRetentionSeconds: UInt64 = 7 * 24 * 3600
    /// The durable log keeps at most this many events (0: no limit).
    public var busRetentionMaxEvents = 1_000_000
    /// The durable log keeps at most about this many bytes (0: no limit).
    public var busRetentionMaxBytes = 0
    /// `true`: every durable commit is fsynced (survives power loss); `false`: survives a process
    /// crash, fsync at checkpoints (SQLite WAL `synchronous=NORMAL`).
    public var busFsyncEveryCommit = true
    /// Threshold alerts published as `system.alert`.
    var alerts = AlertRules()
    /// `[observability] public`: whether `/metrics` and `/health/plugins` answer anyone (true) or
    /// only the admin identity (false, the default: they name plugins and their failure reasons).
    public var observabilityPublic = false
    /// Comment lines sent to idle Server-Sent Events clients.
    public var sseHeartbeatMilliseconds: UInt64 = 15_000
    /// Pings sent to idle WebSocket event clients (`bus.ws_ping_ms`).
    public var wsPingMilliseconds: UInt64 = 30_000
    /// `[supervisor]`: crash containment (`plexus serve --supervise`).
    public var supervisor = SupervisorSettings()
    /// The gateway: `[auth]`, `[tenants.hosts]`, `[rate_limits.*]`, `[resilience]`, `[cors]`, `[security]`, `[audit]`.
    public var gateway = GatewaySettings()
    /// `[cluster] redis = "redis://…"`: the bus and the gateway's shared state on Redis (nil: one instance, SQLite).
    public var clusterRedis: ClusterRedisSettings?
    /// `[cluster] postgres*`: plugin storage on PostgreSQL (nil: each plugin's SQLite file).
    public var clusterPostgres: PostgresSettings?

    public init() {}

    /// Reads `file` over the defaults. Unknown keys are refused, so a typo is not silently ignored.
    public init(file: URL) throws {
        let values = try TOMLFile.flatten(contentsOf: file)
        var reader = ConfigReader(values: values, file: file.path)
        if let listen = try reader.string("server.listen") { try setListen(listen) }
        limits.maxBodyBytes = try reader.uint("server.max_body_bytes") ?? limits.maxBodyBytes
        limits.maxHeaderBytes = try reader.uint("server.max_header_bytes").map(Int.init) ?? limits.maxHeaderBytes
        limits.headerTimeoutMilliseconds = try reader.uint("server.header_timeout_ms") ?? limits.headerTimeoutMilliseconds
        limits.bodyTimeoutMilliseconds = try reader.uint("server.body_timeout_ms") ?? limits.bodyTimeoutMilliseconds
        limits.bodyDeadlineMilliseconds = try reader.uint("server.body_deadline_ms") ?? limits.bodyDeadlineMilliseconds
        limits.bodyBudgetBytes = try reader.uint("server.body_budget_bytes") ?? limits.bodyBudgetBytes
        limits.idleTimeoutMilliseconds = try reader.uint("server.idle_timeout_ms") ?? limits.idleTimeoutMilliseconds
        limits.shutdownGraceMilliseconds = try reader.uint("server.shutdown_grace_ms") ?? limits.shutdownGraceMilliseconds
        let accessLogOn = try reader.bool("server.access_log") ?? true
        accessLog = try AccessLogSettings(values: reader.take(prefix: "access_log."), file: file.path, base: file.deletingLastPathComponent(),
                                          enabled: accessLogOn)
        let base = file.deletingLastPathComponent()
        if let dir = try reader.string("plugins.dir") { pluginsDirectory = URL(fileURLWithPath: dir, relativeTo: base).standardizedFileURL }
        startTimeoutMilliseconds = try reader.uint("plugins.start_timeout_ms") ?? startTimeoutMilliseconds
        stopTimeoutMilliseconds = try reader.uint("plugins.stop_timeout_ms") ?? stopTimeoutMilliseconds
        if let threads = try reader.uint("plugins.offloop_threads_per_plugin") {
            guard threads >= 1 else {
                throw RuntimeError.config("\(file.path): plugins.offloop_threads_per_plugin = 0: a plugin needs at least 1 thread for its off-loop work; fix: give 1 or more, or remove the key")
            }
            offLoopThreadsPerPlugin = Int(min(threads, 1024))
        }
        if let required = try reader.string("plugins.required") {
            requiredPlugins = required.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let patterns = try reader.string("bus.durable_topics") {
            durableTopics = patterns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        busMaxAttempts = try reader.uint("bus.max_attempts").map { Int($0) } ?? busMaxAttempts
        busRetentionSeconds = try reader.uint("bus.retention_seconds") ?? busRetentionSeconds
        busRetentionMaxEvents = try reader.uint("bus.retention_max_events").map { Int($0) } ?? busRetentionMaxEvents
        busRetentionMaxBytes = try reader.uint("bus.retention_max_bytes").map { Int($0) } ?? busRetentionMaxBytes
        busFsyncEveryCommit = try reader.bool("bus.fsync_every_commit") ?? busFsyncEveryCommit
        sseHeartbeatMilliseconds = try reader.uint("bus.sse_heartbeat_ms") ?? sseHeartbeatMilliseconds
        wsPingMilliseconds = try reader.uint("bus.ws_ping_ms") ?? wsPingMilliseconds
        alerts = try AlertRules(values: reader.take(prefix: "alerts."), file: file.path)
        observabilityPublic = try reader.bool("observability.public") ?? observabilityPublic
        healthIntervalMilliseconds = try reader.uint("health.interval_ms") ?? healthIntervalMilliseconds
        healthTimeoutMilliseconds = try reader.uint("health.timeout_ms") ?? healthTimeoutMilliseconds
        if let dir = try reader.string("data.dir") { dataDirectory = URL(fileURLWithPath: dir, relativeTo: base).standardizedFileURL }
        if let level = try reader.string("log.level") {
            guard let parsed = Logger.Level(rawValue: level) else {
                throw RuntimeError.config("\(file.path): log.level '\(level)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            logLevel = parsed
        }
        if let format = try reader.string("log.format") {
            guard let parsed = LogFormat(rawValue: format) else {
                throw RuntimeError.config("\(file.path): log.format '\(format)' is not one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            logFormat = parsed
            // JSON logs for a log collector: the access log follows unless it names its own format.
            if parsed == .json && values["access_log.format"] == nil { accessLog.format = .json }
        }
        supervisor.enabled = try reader.bool("supervisor.enabled") ?? supervisor.enabled
        supervisor.watchdogMilliseconds = try reader.uint("supervisor.watchdog_ms") ?? supervisor.watchdogMilliseconds
        supervisor.quarantineAfter = try reader.uint("supervisor.quarantine_after").map { Int($0) } ?? supervisor.quarantineAfter
        supervisor.quarantineWindowSeconds = try reader.uint("supervisor.quarantine_window_s") ?? supervisor.quarantineWindowSeconds
        supervisor.reloadTimeoutMilliseconds = try reader.uint("supervisor.reload_timeout_ms") ?? supervisor.reloadTimeoutMilliseconds
        supervisor.maxRSSMegabytes = try reader.uint("supervisor.max_rss_mb") ?? supervisor.maxRSSMegabytes
        supervisor.watchPlugins = try reader.bool("supervisor.watch_plugins") ?? supervisor.watchPlugins
        var gatewayValues: [String: String] = [:]
        for prefix in ["auth.", "tenants.", "rate_limits.", "resilience.", "cors.", "security.", "audit."] {
            gatewayValues.merge(reader.take(prefix: prefix)) { first, _ in first }
        }
        gateway = try GatewaySettings(values: gatewayValues, file: file.path, base: base)
        clusterRedis = try ClusterRedisSettings.parse(reader.take(prefix: "cluster.redis"), file: file.path)
        clusterPostgres = try ClusterPostgresSettings.parse(reader.take(prefix: "cluster.postgres"), file: file.path)
        try reader.refuseUnknownKeys()
    }

    /// Sets host and port from `HOST:PORT` (`[::1]:8080` for IPv6; a host name such as `localhost` is resolved).
    public mutating func setListen(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw RuntimeError.config("listen address '\(text)' is not HOST:PORT (e.g. 127.0.0.1:8080)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw RuntimeError.config("listen address '\(text)' has no host") }
        self.host = try ListenHost.numeric(host)
        self.port = port
    }
}

/// Typed reads from a flattened TOML table, remembering which keys were used.
private struct ConfigReader {
    let values: [String: String]
    let file: String
    var used = Set<String>()

    mutating func string(_ key: String) throws -> String? {
        used.insert(key)
        return values[key]
    }

    mutating func uint(_ key: String) throws -> UInt64? {
        guard let text = try string(key) else { return nil }
        guard let value = UInt64(text) else { throw RuntimeError.config("\(file): \(key) must be a non-negative integer, found '\(text)'") }
        return value
    }

    mutating func bool(_ key: String) throws -> Bool? {
        guard let text = try string(key) else { return nil }
        guard let value = Bool(text) else { throw RuntimeError.config("\(file): \(key) must be true or false, found '\(text)'") }
        return value
    }

    /// Every entry under `prefix`, marked as used.
    mutating func take(prefix: String) -> [String: String] {
        let taken = values.filter { $0.key.hasPrefix(prefix) }
        used.formUnion(taken.keys)
        return taken
    }

    func refuseUnknownKeys() throws {
        let unknown = Set(values.keys).subtracting(used).sorted()
        guard unknown.isEmpty else {
            throw RuntimeError.config("\(file): unknown setting(s) \(unknown.joined(separator: ", ")); see README for the supported keys")
        }
    }
}

/// `[supervisor]`: a master process that runs the plugins in a worker and contains their crashes.
public struct SupervisorSettings: Sendable {
    /// Run as master and worker (same as `plexus serve --supervise`).
    public var enabled = true
    /// A worker whose loop heartbeat stands still this long is killed (0: no watchdog).
    public var watchdogMilliseconds: UInt64 = 5_000
    /// Crashes blamed on one plugin within the window that quarantine it.
    public var quarantineAfter = 3
    public var quarantineWindowSeconds: UInt64 = 300
    /// A new worker generation (reload) not ready within this long is killed and the old one kept.
    public var reloadTimeoutMilliseconds: UInt64 = 10_000
    /// A worker whose resident memory exceeds this is recycled gracefully (0: off).
    public var maxRSSMegabytes: UInt64 = 0
    /// Reload when the plugins directory changes.
    public var watchPlugins = true
    public init() {}
}
