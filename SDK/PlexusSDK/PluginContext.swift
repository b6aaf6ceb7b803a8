import CPlexusABI
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

    let bridge: HostBridge

    init(bridge: HostBridge, pluginName: String) {
        self.bridge = bridge
        var logger = Logger(label: pluginName) { _ in HostLogHandler(bridge: bridge) }
        if let level = bridge.config("log_level").flatMap(Logger.Level.init(rawValue:)) {
            logger.logLevel = level
        }
        self.logger = logger
        self.config = PluginConfig(bridge: bridge)
        self.routes = RouteRegistrar(bridge: bridge, logger: logger)
        self.timers = Timers(bridge: bridge)
        self.bus = Bus(bridge: bridge)
        self.services = Services(bridge: bridge)
        self.storage = Storage(bridge: bridge)
        self.metrics = Metrics(bridge: bridge)
    }

    /// Runs `work` on the runtime's thread pool and returns its result on the loop thread.
    ///
    /// Use it for anything that blocks or burns CPU (parsing a large upload, solving, file I/O),
    /// so the loop keeps serving other requests meanwhile.
    public func offLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job = OffLoopJob(work: work, continuation: continuation)
            let user = Unmanaged.passRetained(job as OffLoopWork).toOpaque()
            let status = bridge.host.pointee.queue_work(bridge.host, OffLoopWork.runOnPool, OffLoopWork.finishOnLoop, user)
            if status != Int32(PLEXUS_OK.rawValue) {
                Unmanaged<OffLoopWork>.fromOpaque(user).release()
                continuation.resume(throwing: HTTPError.unavailable("the runtime refused off-loop work"))
            }
        }
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

/// Off-loop work as the C callbacks see it (they cannot name a generic type).
///
/// The callbacks are defined here, outside any actor, because `runOnPool` runs on a pool thread.
class OffLoopWork: @unchecked Sendable {
    static let runOnPool: @convention(c) (UnsafeMutableRawPointer?) -> Void = { user in
        Unmanaged<OffLoopWork>.fromOpaque(user!).takeUnretainedValue().run()
    }

    static let finishOnLoop: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Void = { user, _ in
        Unmanaged<OffLoopWork>.fromOpaque(user!).takeRetainedValue().finish()
    }

    /// On a pool thread.
    func run() {}
    /// On the loop thread, after `run` (libuv orders the two); if `run` never ran, the work was cancelled.
    func finish() {}
}

/// One unit of off-loop work: the closure, its result, and who waits for it.
final class OffLoopJob<T: Sendable>: OffLoopWork, @unchecked Sendable {
    private let work: @Sendable () throws -> T
    private let continuation: CheckedContinuation<T, Error>
    private var result: Result<T, Error>?

    init(work: @escaping @Sendable () throws -> T, continuation: CheckedContinuation<T, Error>) {
        self.work = work
        self.continuation = continuation
    }

    override func run() { result = Result { try work() } }

    override func finish() {
        if let result {
            continuation.resume(with: result)
        } else {
            continuation.resume(throwing: CancellationError())
        }
    }
}

/// Read access to a plugin's configuration table.
///
/// Keys are dotted paths into `plugins.d/<name>.toml` (`"limits.max_items"`).
@PluginActor
public struct PluginConfig {
    let bridge: HostBridge

    /// The value at `key` as text, or `nil` if absent.
    public subscript(key: String) -> String? { bridge.config(key) }

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
