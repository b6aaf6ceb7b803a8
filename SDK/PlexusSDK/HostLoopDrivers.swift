import CPlexusABI

/// Timers over the host vtable: libuv timers on the runtime's loop.
@PluginActor
final class HostTimerDriver: TimerDriver {
    let bridge: HostBridge
    private var actions: [UInt64: TimerAction] = [:]

    init(bridge: HostBridge) { self.bridge = bridge }

    func start(afterMilliseconds delay: UInt64, repeatingMilliseconds repeating: UInt64, _ fire: @escaping @PluginActor () -> Void) -> UInt64 {
        let action = TimerAction(fire, repeats: repeating > 0)
        let id = bridge.host.pointee.timer_start(bridge.host, delay, repeating, { user in
            let action = Unmanaged<TimerAction>.fromOpaque(user!).takeUnretainedValue()
            PluginActor.runOnLoop { action.run() }
        }, Unmanaged.passUnretained(action).toOpaque())
        guard id != 0 else { return 0 }
        action.done = { [weak self] in self?.actions.removeValue(forKey: id) }
        actions[id] = action
        return id
    }

    func stop(_ id: UInt64) {
        guard actions.removeValue(forKey: id) != nil else { return }
        bridge.host.pointee.timer_stop(bridge.host, id)
    }
}

/// A timer's closure, kept alive while the host may call it (a one-shot timer drops itself after firing).
@PluginActor
final class TimerAction {
    let fire: @PluginActor () -> Void
    let repeats: Bool
    var done: (@PluginActor () -> Void)?

    init(_ fire: @escaping @PluginActor () -> Void, repeats: Bool) {
        self.fire = fire
        self.repeats = repeats
    }

    func run() {
        fire()
        if !repeats { done?() }
    }
}

/// Off-loop work over the host vtable: the runtime's pool for this plugin, resumed on the loop.
@PluginActor
final class HostOffLoopDriver: OffLoopDriver {
    let bridge: HostBridge

    init(bridge: HostBridge) { self.bridge = bridge }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
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

/// Configuration over the host vtable.
struct HostConfigSource: ConfigSource {
    let bridge: HostBridge

    func value(_ key: String) -> String? { bridge.config(key) }
}

extension HostDrivers {
    /// The drivers of a plugin the runtime loaded: every service over the host vtable.
    @PluginActor
    init(bridge: HostBridge) {
        let storage = HostStorageDriver(bridge: bridge)
        self.init(routes: HostRouteDriver(bridge: bridge), bus: HostBusDriver(bridge: bridge),
                  services: HostServiceDriver(bridge: bridge), keyValue: storage, sql: storage,
                  timers: HostTimerDriver(bridge: bridge), offLoop: HostOffLoopDriver(bridge: bridge),
                  config: HostConfigSource(bridge: bridge), metrics: HostMetricsDriver(bridge: bridge),
                  logHandler: { _ in HostLogHandler(bridge: bridge) })
        tenancy = HostTenancyDriver(bridge: bridge)
        audit = HostAuditDriver(bridge: bridge)
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
