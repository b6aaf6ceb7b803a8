import Logging

/// A plugin's handle on the host: logging, configuration, routes, timers and off-loop work.
///
/// Handed to `Plugin.init(context:)`; keep it for the plugin's lifetime. Every member must be
/// used on the loop thread (that is, from plugin code, which runs on ``PluginActor``).
@PluginActor
public final class PluginContext {
    /// A logger whose records the runtime tags with the plugin's name.
    public let logger: Logger
    /// The plugin's configuration, from `plugins.d/<name>.toml`.
    public let config: PluginConfig
    /// Registers HTTP routes.
    public let routes: RouteRegistrar
    /// Schedules timers on the loop.
    public let timers: Timers
    /// Publishes and subscribes to events.
    public let bus: Bus
    /// Offers and calls request/reply services.
    public let services: Services
    /// This plugin's own key-value and SQL storage.
    public let storage: Storage
    /// This plugin's own metrics, exposed at the runtime's `/metrics` (ABI 1.3).
    public let metrics: Metrics
    /// The host's tenant directory and tenant API keys (ABI 1.6), for a plugin the operator granted.
    public let tenancy: Tenancy
    /// The runtime's audit log, for the changes this plugin makes (ABI 1.8).
    public let audit: AuditTrail

    let offLoopDriver: any OffLoopDriver

    /// A context over `drivers`: the runtime's (over the C host vtable) or a test host's.
    public init(drivers: HostDrivers, pluginName: String) {
        var logger = Logger(label: pluginName, factory: drivers.logHandler)
        if let level = drivers.config.value("log_level").flatMap(Logger.Level.init(rawValue:)) {
            logger.logLevel = level
        }
        self.logger = logger
        self.config = PluginConfig(source: drivers.config)
        self.routes = RouteRegistrar(driver: drivers.routes, logger: logger)
        self.timers = Timers(driver: drivers.timers)
        self.bus = Bus(driver: drivers.bus)
        self.services = Services(driver: drivers.services)
        self.storage = Storage(keyValue: drivers.keyValue, sql: drivers.sql)
        self.metrics = Metrics(driver: drivers.metrics)
        self.tenancy = Tenancy(driver: drivers.tenancy)
        self.audit = AuditTrail(driver: drivers.audit)
        self.offLoopDriver = drivers.offLoop
    }

    /// Runs `work` on the runtime's thread pool and returns its result on the loop thread.
    ///
    /// Use it for anything that blocks or burns CPU (parsing a large upload, solving, file I/O),
    /// so the loop keeps serving other requests meanwhile.
    /// When the calling task is cancelled (the runtime gave up on the request: a 504, a client
    /// that left, a stop), the call throws `CancellationError` at once and `work`'s result is
    /// dropped; `work` itself runs on unless it was still queued. Use the form taking an
    /// ``OffLoopCancellation`` to let long work stop early.
    public func offLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await offLoopDriver.run(cancellable: { _ in try work() })
    }

    /// Runs `work` on the runtime's thread pool, handing it a flag that is raised when the calling
    /// task is cancelled, and returns its result on the loop thread. A long job polls
    /// ``OffLoopCancellation/isCancelled`` between steps and returns early; the call itself
    /// throws `CancellationError` as soon as the task is cancelled.
    ///
    /// ```swift
    /// let solution = try await context.offLoop { cancellation in
    ///     var best = start
    ///     while !cancellation.isCancelled, let better = improve(best) { best = better }
    ///     return best
    /// }
    /// ```
    public func offLoop<T: Sendable>(_ work: @escaping @Sendable (OffLoopCancellation) throws -> T) async throws -> T {
        try await offLoopDriver.run(cancellable: work)
    }
}

extension PluginContext {
    /// Suspends the calling plugin task for `duration` without blocking the loop. It also
    /// returns early when the plugin stops (its timers are cancelled).
    public func sleep(for duration: Duration) async {
        await sleep(hostMilliseconds: duration.hostMilliseconds)
    }

    /// Suspends the calling plugin task for `milliseconds` (see ``sleep(for:)``).
    @available(*, deprecated, message: "use sleep(for:) with a Duration, e.g. .milliseconds(250)")
    public func sleep(milliseconds: UInt64) async {
        await sleep(hostMilliseconds: milliseconds)
    }

    private func sleep(hostMilliseconds milliseconds: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            _ = timers.schedule(milliseconds, 0, fireOnCancel: true) { continuation.resume() }
        }
    }
}

/// Read access to a plugin's configuration table.
///
/// Keys are dotted paths into `plugins.d/<name>.toml` (`"limits.max_items"`).
@PluginActor
public struct PluginConfig {
    let source: any ConfigSource

    /// The value at `key` as text, or `nil` if absent.
    public subscript(key: String) -> String? { source.value(key) }

    /// The value at `key` as an integer, or `defaultValue` if absent or not an integer.
    public func int(_ key: String, default defaultValue: Int) -> Int {
        self[key].flatMap(Int.init) ?? defaultValue
    }

    /// The value at `key` as a boolean (`true`/`false`), or `defaultValue`.
    public func bool(_ key: String, default defaultValue: Bool) -> Bool {
        self[key].flatMap(Bool.init) ?? defaultValue
    }

    /// The value at `key` as text, or `defaultValue`.
    public func string(_ key: String, default defaultValue: String) -> String {
        self[key] ?? defaultValue
    }
}
