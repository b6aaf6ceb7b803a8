import Foundation

/// `[cluster] redis = "redis://…"` and its `redis_*` settings: run this instance as one of
/// several sharing the bus and the gateway's state through Redis. Absent (no `cluster.redis`),
/// nothing changes: the embedded SQLite backends serve one instance.
///
/// ```toml
/// [cluster]
/// redis = "redis://127.0.0.1:6379/0"   # redis://[:password@]host[:port][/db]; TLS: through a local proxy (rediss:// is refused)
/// redis_password = "…"                 # instead of the URL's (wins over it)
/// redis_prefix = "plexus:"             # every key and channel of this installation starts with it
/// redis_connect_timeout_ms = 2000
/// redis_command_timeout_ms = 2000      # a command without a reply this long drops the connection
/// redis_claim_idle_ms = 30000          # a durable delivery not acked this long goes to another instance
/// redis_stream_max_events = 1000000    # XADD MAXLEN ~ (0: no bound)
/// redis_wait_replicas = 0              # WAIT for this many replicas before a durable publish is acknowledged
/// redis_wait_timeout_ms = 100
/// ```
///
/// Only keys starting with `cluster.redis` are read here; other `cluster.*` keys belong to
/// other backends.
public struct ClusterRedisSettings: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 6379
    public var database = 0
    public var password: String?
    public var prefix = "plexus:"
    public var connectTimeoutMilliseconds: UInt64 = 2_000
    public var commandTimeoutMilliseconds: UInt64 = 2_000
    /// The first reconnect attempt waits this long; each failure doubles it up to ``maxBackoffMilliseconds``.
    public var minBackoffMilliseconds: UInt64 = 100
    public var maxBackoffMilliseconds: UInt64 = 5_000
    /// A durable delivery pending longer than this is claimed by another instance (XAUTOCLAIM).
    public var claimIdleMilliseconds: UInt64 = 30_000
    /// `XADD … MAXLEN ~ n` on every durable publish (0: unbounded).
    public var streamMaxEvents = 1_000_000
    /// A durable publish also waits (`WAIT`) until this many replicas have it (0: no WAIT).
    public var waitReplicas = 0
    /// How long that `WAIT` may take; fewer replicas by then fail the publish (503).
    public var waitTimeoutMilliseconds: UInt64 = 100

    public init(host: String = "127.0.0.1", port: Int = 6379) {
        self.host = host
        self.port = port
    }

    /// The settings in `values` (the flattened `cluster.redis*` keys), nil when `cluster.redis` is absent.
    /// Every key it does not know is refused by name.
    public static func parse(_ values: [String: String], file: String) throws -> ClusterRedisSettings? {
        guard let url = values["cluster.redis"] else {
            if let stray = values.keys.sorted().first {
                throw RuntimeError.config("\(file): \(stray) is set but cluster.redis is not; fix: add cluster.redis = \"redis://127.0.0.1:6379/0\" or remove \(stray)")
            }
            return nil
        }
        var settings = try ClusterRedisSettings(url: url, file: file)
        func uint(_ key: String, _ range: ClosedRange<UInt64>) throws -> UInt64? {
            guard let text = values["cluster.\(key)"] else { return nil }
            guard let value = UInt64(text), range.contains(value) else {
                throw RuntimeError.config("\(file): cluster.\(key) must be an integer in \(range.lowerBound)...\(range.upperBound), found '\(text)'")
            }
            return value
        }
        if let password = values["cluster.redis_password"] { settings.password = password.isEmpty ? nil : password }
        if let prefix = values["cluster.redis_prefix"] {
            guard !prefix.isEmpty, prefix.utf8.count <= 64, !prefix.contains(where: { $0 == " " || $0.isNewline || "*?[]\\".contains($0) }) else {
                throw RuntimeError.config("\(file): cluster.redis_prefix '\(prefix)' must be 1-64 characters without spaces or any of * ? [ ] \\ (e.g. \"shop:\")")
            }
            settings.prefix = prefix
        }
        settings.connectTimeoutMilliseconds = try uint("redis_connect_timeout_ms", 10...600_000) ?? settings.connectTimeoutMilliseconds
        settings.commandTimeoutMilliseconds = try uint("redis_command_timeout_ms", 10...600_000) ?? settings.commandTimeoutMilliseconds
        settings.claimIdleMilliseconds = try uint("redis_claim_idle_ms", 100...86_400_000) ?? settings.claimIdleMilliseconds
        settings.streamMaxEvents = try uint("redis_stream_max_events", 0...1_000_000_000).map { Int($0) } ?? settings.streamMaxEvents
        settings.waitReplicas = try uint("redis_wait_replicas", 0...16).map { Int($0) } ?? settings.waitReplicas
        settings.waitTimeoutMilliseconds = try uint("redis_wait_timeout_ms", 1...60_000) ?? settings.waitTimeoutMilliseconds
        let known: Set<String> = ["cluster.redis", "cluster.redis_password", "cluster.redis_prefix", "cluster.redis_connect_timeout_ms",
                                  "cluster.redis_command_timeout_ms", "cluster.redis_claim_idle_ms", "cluster.redis_stream_max_events",
                                  "cluster.redis_wait_replicas", "cluster.redis_wait_timeout_ms"]
        if values["cluster.redis_tls"] != nil {
            throw RuntimeError.config("\(file): unknown setting cluster.redis_tls: this build cannot speak TLS to Redis (Debian 12's hiredis 0.14 has no SSL); "
                + "fix: run a local TLS proxy (e.g. stunnel4, `client = yes`) and point cluster.redis at it on loopback")
        }
        if let unknown = values.keys.sorted().first(where: { !known.contains($0) }) {
            throw RuntimeError.config("\(file): unknown setting \(unknown); the cluster.redis settings are \(known.sorted().joined(separator: ", "))")
        }
        return settings
    }

    /// Parses `redis://[:password@]host[:port][/db]`.
    public init(url text: String, file: String = "config") throws {
        func refuse(_ why: String) -> RuntimeError {
            RuntimeError.config("\(file): cluster.redis '\(text)' \(why); expected redis://[:password@]host[:port][/db], e.g. redis://127.0.0.1:6379/0")
        }
        if text.hasPrefix("rediss://") {
            throw RuntimeError.config("\(file): cluster.redis '\(text)' asks for TLS, which this build cannot speak (Debian 12's hiredis 0.14 has no SSL); "
                + "fix: run a local TLS proxy and point cluster.redis at it in plain text on loopback, e.g. stunnel4 with "
                + "`[redis]` `client = yes` `accept = 127.0.0.1:6380` `connect = <redis-host>:<tls-port>` and redis = \"redis://127.0.0.1:6380/0\"")
        }
        guard text.hasPrefix("redis://") else { throw refuse("does not start with redis://") }
        var rest = Substring(text.dropFirst("redis://".count))
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            let password = credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).last.map(String.init) ?? ""
            self.password = password.removingPercentEncoding ?? password
            if self.password == "" { self.password = nil }
            rest = rest[rest.index(after: at)...]
        }
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let number = Int(db), (0...15).contains(number) else { throw refuse("names database '\(db)', not 0-15") }
                database = number
            }
            rest = rest[..<slash]
        }
        var hostPart = rest
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                throw refuse("has port '\(rest[rest.index(after: colon)...])', not 1-65535")
            }
            port = number
            hostPart = rest[..<colon]
        }
        if hostPart.hasPrefix("[") && hostPart.hasSuffix("]") { hostPart = hostPart.dropFirst().dropLast() }
        guard !hostPart.isEmpty else { throw refuse("has no host") }
        host = String(hostPart)
    }
}
