import Logging

/// The host services a ``PluginContext`` is built on, each behind a small protocol.
///
/// A plugin loaded by the runtime gets the drivers over the C host vtable (``HostDrivers/init(host:)``
/// is internal to the SDK); a unit test gets in-memory ones (see `PlexusTesting.TestHost`), so the
/// same plugin code runs in-process without the `plexus` binary.
public struct HostDrivers {
    /// Registers routes.
    public var routes: any RouteDriver
    /// Publishes and subscribes to events.
    public var bus: any BusDriver
    /// Offers and calls request/reply services.
    public var services: any ServiceDriver
    /// Key-value storage.
    public var keyValue: any KeyValueDriver
    /// SQL storage.
    public var sql: any SQLDriver
    /// Timers on the loop.
    public var timers: any TimerDriver
    /// Work off the loop.
    public var offLoop: any OffLoopDriver
    /// The plugin's configuration.
    public var config: any ConfigSource
    /// The plugin's metrics.
    public var metrics: any MetricsDriver
    /// Makes the log handler of the plugin's logger (the argument is the logger's label).
    public var logHandler: @Sendable (String) -> any LogHandler
    /// The tenant directory and tenant keys (ABI 1.6; white-label plugins the operator granted).
    public var tenancy: any TenancyDriver = UnsupportedTenancy()
    /// The runtime's audit log (ABI 1.8).
    public var audit: any AuditDriver = UnsupportedAudit()

    /// Gathers a complete set of drivers.
    public init(routes: any RouteDriver, bus: any BusDriver, services: any ServiceDriver, keyValue: any KeyValueDriver,
                sql: any SQLDriver, timers: any TimerDriver, offLoop: any OffLoopDriver, config: any ConfigSource,
                metrics: any MetricsDriver, logHandler: @escaping @Sendable (String) -> any LogHandler) {
        self.routes = routes
        self.bus = bus
        self.services = services
        self.keyValue = keyValue
        self.sql = sql
        self.timers = timers
        self.offLoop = offLoop
        self.config = config
        self.metrics = metrics
        self.logHandler = logHandler
    }
}

/// One route as a plugin declared it: what the runtime's router (or a test host) needs.
public struct RouteDefinition {
    /// Upper-case method, e.g. `GET`.
    public let method: String
    /// The pattern: literal segments, `:name` parameters, an optional trailing `*`.
    public let pattern: String
    /// Who may call it and how it is described.
    public let options: RouteOptions
    /// The largest body accepted (0: the options' bound, or the server's default).
    public let maxBodyBytes: UInt64
    /// The handler.
    public let handler: RouteHandler
    /// The plugin's logger, for handler failures.
    public let logger: Logger
}

/// A route's handler: synchronous (answered inline) or `async` (a task on the loop).
public enum RouteHandler {
    /// Answered inline.
    case sync(@PluginActor (Request) throws -> Response)
    /// Runs as a task on the loop thread.
    case async(@PluginActor (Request) async throws -> Response)
}

/// Where routes go: the runtime's router, or a test host's table.
@PluginActor
public protocol RouteDriver: AnyObject {
    /// Adds `route`, or throws ``PluginError`` naming why it was refused (a collision, a reserved prefix).
    func add(_ route: RouteDefinition) throws
}

/// An event as a plugin publishes it (the bus adds id, source and time).
public struct EventDraft: Sendable {
    /// The topic (no wildcards).
    public var topic: String
    /// The payload.
    public var payload: [UInt8]
    /// The payload's media type.
    public var contentType: String
    /// The tenant, may be empty.
    public var tenant: String
    /// Higher priorities are delivered first among queued events.
    public var priority: Int
    /// Correlates events of one flow.
    public var correlationID: String?
    /// The id of the event that caused this one.
    public var causationID: String?
    /// Version of the payload's schema.
    public var schemaVersion: Int

    /// An event to publish.
    public init(topic: String, payload: [UInt8], contentType: String = "application/octet-stream", tenant: String = "", priority: Int = 0,
                correlationID: String? = nil, causationID: String? = nil, schemaVersion: Int = 1) {
        self.topic = topic
        self.payload = payload
        self.contentType = contentType
        self.tenant = tenant
        self.priority = priority
        self.correlationID = correlationID
        self.causationID = causationID
        self.schemaVersion = schemaVersion
    }
}

/// How a subscription receives events.
public struct SubscriptionSpec {
    /// Topic pattern (`+` one segment, `#` the rest).
    public var pattern: String
    /// Events queued before `overflow` applies (0: default); live subscriptions only.
    public var queueLimit: Int
    /// What a full queue drops.
    public var overflow: OverflowPolicy
    /// The durable consumer group, nil for live delivery.
    public var group: String?
    /// Reserved (0).
    public var maxAttempts: Int

    /// A subscription (tests drive a bus driver with it directly).
    public init(pattern: String, queueLimit: Int = 0, overflow: OverflowPolicy = .dropOldest, group: String? = nil, maxAttempts: Int = 0) {
        (self.pattern, self.queueLimit, self.overflow, self.group, self.maxAttempts) = (pattern, queueLimit, overflow, group, maxAttempts)
    }
}

/// A subscriber's handler.
public enum SubscriptionHandler {
    /// Fire-and-forget delivery.
    case live(@PluginActor (Event) -> Void)
    /// At-least-once delivery: acknowledged when it returns, retried when it throws.
    case durable(@PluginActor (Event) async throws -> Void)
}

/// The event bus as the SDK's ``Bus`` uses it.
@PluginActor
public protocol BusDriver: AnyObject {
    /// Publishes `event`; returns its id once accepted (a `durable` one once written).
    func publish(_ event: EventDraft, durable: Bool) async throws -> String
    /// Subscribes; returns the subscription's id (never 0) or throws ``PluginError``.
    func subscribe(_ spec: SubscriptionSpec, _ handler: SubscriptionHandler) throws -> UInt64
    /// Subscribes as ``subscribe(_:_:)`` and calls `ready` once, on the loop and after this
    /// returned, when the subscription is complete: every event published from then on that
    /// matches it is delivered (on PostgreSQL storage, once the change log of every plugin whose
    /// `storage.…` topics it may match runs); with an error when such a change log could not be
    /// started (the runtime tries again later). Never called after ``unsubscribe(_:)`` of the id.
    /// Defaults to ``subscribe(_:_:)`` with `ready(nil)` on the next turn of the loop, for
    /// drivers whose subscriptions are complete at once.
    func subscribe(_ spec: SubscriptionSpec, _ handler: SubscriptionHandler, ready: @escaping @PluginActor (PluginError?) -> Void) throws -> UInt64
    /// Ends a subscription.
    func unsubscribe(_ id: UInt64)
}

extension BusDriver {
    public func subscribe(_ spec: SubscriptionSpec, _ handler: SubscriptionHandler, ready: @escaping @PluginActor (PluginError?) -> Void) throws -> UInt64 {
        let id = try subscribe(spec, handler)
        Task { @PluginActor in ready(nil) }
        return id
    }
}

/// Request/reply services as the SDK's ``Services`` uses them.
@PluginActor
public protocol ServiceDriver: AnyObject {
    /// Offers `name`, answered by `handler`.
    func register(_ name: String, _ handler: @escaping @PluginActor ([UInt8]) async throws -> [UInt8]) throws
    /// Calls `name` and returns its reply; throws ``PluginError`` when there is none, it timed out or failed.
    func call(_ name: String, payload: [UInt8], timeout: Duration) async throws -> [UInt8]
}

/// Key-value storage as the SDK's ``Storage`` uses it (rules in ``Storage``).
@PluginActor
public protocol KeyValueDriver: AnyObject {
    /// The entry under `key`, or nil (absent or expired).
    func get(_ key: String) async throws -> StoredValue?
    /// Stores `value`; returns its new version. `expectedVersion`: nil any, 0 create only, n replace version n.
    func put(_ key: String, _ value: [UInt8], ttl: Double?, expectedVersion: Int64?) async throws -> Int64
    /// Deletes `key`; returns whether it existed.
    func delete(_ key: String, expectedVersion: Int64?) async throws -> Bool
    /// Entries with `prefix` in key order after `after`, at most `limit`.
    func list(prefix: String, limit: Int, after: String?) async throws -> [StoredValue]
}

/// SQL storage as the SDK's ``Storage`` uses it: SQLite's dialect.
@PluginActor
public protocol SQLDriver: AnyObject {
    /// Runs one statement; returns rows changed and the last inserted rowid.
    func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> (changes: Int64, lastInsertRowID: Int64)
    /// Runs one query.
    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [SQLRow]
    /// Runs `statements` in one transaction.
    func transaction(_ statements: [(sql: String, parameters: [SQLValue])]) async throws
    /// Applies numbered migrations not applied yet; returns the versions applied now.
    func migrate(_ migrations: [(version: Int, sql: String)]) async throws -> [Int]
    /// The dialect the statements run in (default: SQLite).
    var dialect: SQLDialect { get }
}

extension SQLDriver {
    /// SQLite, for drivers that do not say (test hosts, runtimes before ABI 1.9).
    public var dialect: SQLDialect { .sqlite }
}

/// Timers on the loop thread.
@PluginActor
public protocol TimerDriver: AnyObject {
    /// Starts a timer firing after `delay` milliseconds, then every `repeating` (0: once); returns its id, 0 when refused.
    func start(afterMilliseconds delay: UInt64, repeatingMilliseconds repeating: UInt64, _ fire: @escaping @PluginActor () -> Void) -> UInt64
    /// Stops timer `id`; its closure is not called again.
    func stop(_ id: UInt64)
}

/// Work off the loop thread, resumed on it.
@PluginActor
public protocol OffLoopDriver: AnyObject {
    /// Runs `work` on another thread and returns its result on the loop.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T

    /// Runs `work` on another thread with a flag it can poll; when the calling task is cancelled,
    /// the flag is raised and the call throws `CancellationError` without waiting for `work`
    /// (implementation requirements: the late result is dropped; a job not started yet when the
    /// task is cancelled is not run). A default implementation raises the flag and waits for `work`.
    func run<T: Sendable>(cancellable work: @escaping @Sendable (OffLoopCancellation) throws -> T) async throws -> T
}

extension OffLoopDriver {
    /// Raises the flag when the calling task is cancelled, then waits for `work` as ``run(_:)`` does.
    public func run<T: Sendable>(cancellable work: @escaping @Sendable (OffLoopCancellation) throws -> T) async throws -> T {
        let cancellation = OffLoopCancellation()
        return try await withTaskCancellationHandler {
            try await run { try work(cancellation) }
        } onCancel: {
            cancellation.cancel()
        }
    }
}

/// A plugin's configuration values by dotted key.
@PluginActor
public protocol ConfigSource {
    /// The value at `key` as text, or nil.
    func value(_ key: String) -> String?
}

/// What kind of family a metric is.
public enum MetricKind: Sendable {
    /// Only grows; name ends in `_total`.
    case counter
    /// Goes up and down.
    case gauge
    /// Counts observations in buckets.
    case histogram
}

/// One recording into a metric family.
public enum MetricOperation: Sendable {
    /// Adds the value.
    case add
    /// Sets the value (gauges).
    case set
    /// Observes the value (histograms).
    case observe
}

/// The plugin's metrics; recording may happen on any thread.
public protocol MetricsDriver: Sendable {
    /// Whether metrics are taken at all.
    var isAvailable: Bool { get }
    /// Registers a family; returns its id or why it was refused.
    func register(_ kind: MetricKind, name: String, help: String, labels: [String], buckets: [Double]) -> Result<UInt64, MetricError>
    /// Records into family `id` (a refused recording is dropped).
    func record(_ id: UInt64, _ operation: MetricOperation, _ value: Double, labels: [String])
    /// Reports a swift-metrics metric that records nothing (registration refused); any thread.
    func reportUnusable(_ text: String)
    /// Raises an alert in the runtime's alert tiers (`system.alert`); any thread.
    func raiseAlert(_ severity: AlertSeverity, name: String, detail: String?) -> Result<Void, MetricError>
}
