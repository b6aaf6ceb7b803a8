/// A Plexus plugin written in Swift.
///
/// The runtime creates one instance per process, on the loop thread, and drives it through
/// a fixed lifecycle: `init(context:)`, ``start()``, ``health()`` (periodically), ``stop()``.
/// All of it runs on the runtime's loop thread (the ``PluginActor``), so a plugin keeps its
/// state in plain stored properties without locks. Blocking or CPU-heavy work belongs in
/// ``PluginContext/offLoop(_:)``.
///
/// Implementation requirements:
/// - Provide ``manifest`` (name, version, dependencies).
/// - Register routes in `init(context:)` (routes are frozen once every plugin has started).
/// - Throw from `init(context:)` or ``start()`` to fail: the runtime marks the plugin `failed`
///   with the error's description and keeps serving the others.
/// - ``stop()`` must return promptly; the runtime waits for it within its grace period.
///
/// Every requirement but ``manifest`` and `init(context:)` has a default, so an SDK release
/// that adds a hook never breaks an existing plugin.
@PluginActor
public protocol Plugin: AnyObject {
    /// What the runtime needs to know before starting the plugin.
    static var manifest: PluginManifest { get }

    /// Sets the plugin up: read configuration, register routes and timers.
    /// - Parameter context: the plugin's handle on the host; keep it for later use.
    init(context: PluginContext) throws

    /// Starts serving. Called after every dependency has started. Default: does nothing.
    func start() async throws

    /// Stops serving: cancel timers, finish or abandon outstanding work. Default: does nothing.
    func stop() async

    /// Reports the plugin's health. Default: ``HealthReport/ok``.
    func health() -> HealthReport
}

extension Plugin {
    /// Default: nothing to start.
    public func start() async throws {}
    /// Default: nothing to stop.
    public func stop() async {}
    /// Default: always healthy.
    public func health() -> HealthReport { .ok }
}

/// A plugin's answer to a health check.
public struct HealthReport: Sendable, Equatable {
    /// The three health states the runtime understands.
    public enum Status: Int32, Sendable {
        /// Working as intended.
        case ok = 0
        /// Working, with reduced capacity or quality.
        case degraded = 1
        /// Not doing its job.
        case failing = 2
    }

    /// The state.
    public var status: Status
    /// Human-readable details for the operator.
    public var detail: String

    /// Creates a report.
    public init(status: Status, detail: String = "") {
        self.status = status
        self.detail = detail
    }

    /// Healthy, with no details.
    public static let ok = HealthReport(status: .ok)
}
