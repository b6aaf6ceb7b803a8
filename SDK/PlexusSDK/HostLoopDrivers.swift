import CPlexusABI
import Synchronization

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
        try await run(cancellable: { _ in try work() })
    }

    func run<T: Sendable>(cancellable work: @escaping @Sendable (OffLoopCancellation) throws -> T) async throws -> T {
        let job = OffLoopJob(work: work)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Cancelled before it was queued: answered at once, never queued.
                guard job.attach(continuation) else { return }
                let user = Unmanaged.passRetained(job as OffLoopWork).toOpaque()
                let status = bridge.host.pointee.queue_work(bridge.host, OffLoopWork.runOnPool, OffLoopWork.finishOnLoop, user)
                if status != Int32(PLEXUS_OK.rawValue) {
                    Unmanaged<OffLoopWork>.fromOpaque(user).release()
                    job.fail(HTTPError.unavailable("the runtime refused off-loop work"))
                }
            }
        } onCancel: {
            job.cancel()
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

/// One unit of off-loop work: the closure, its cancellation flag, its result, and who waits for it.
///
/// The waiting task is resumed exactly once: by the result on the loop, or at once with
/// `CancellationError` when the task is cancelled (the result arriving later is dropped).
final class OffLoopJob<T: Sendable>: OffLoopWork, @unchecked Sendable {
    private let work: @Sendable (OffLoopCancellation) throws -> T
    let cancellation = OffLoopCancellation()
    private let waiter = Mutex<Waiter>(Waiter())
    /// Written by `run` on a pool thread, read by `finish` on the loop (libuv orders the two).
    private var result: Result<T, Error>?

    private struct Waiter {
        var continuation: CheckedContinuation<T, Error>?
        var cancelled = false
    }

    init(work: @escaping @Sendable (OffLoopCancellation) throws -> T) {
        self.work = work
    }

    /// Keeps `continuation` for the result; false (after resuming it with `CancellationError`)
    /// when the task was cancelled already.
    func attach(_ continuation: CheckedContinuation<T, Error>) -> Bool {
        let cancelled = waiter.withLock { waiter -> Bool in
            if !waiter.cancelled { waiter.continuation = continuation }
            return waiter.cancelled
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    /// The waiting task was cancelled: raise the flag and resume the task now.
    func cancel() {
        cancellation.cancel()
        takeContinuation(cancelling: true)?.resume(throwing: CancellationError())
    }

    /// Resumes the waiting task with `error` (the work was never queued).
    func fail(_ error: Error) {
        takeContinuation(cancelling: false)?.resume(throwing: error)
    }

    private func takeContinuation(cancelling: Bool) -> CheckedContinuation<T, Error>? {
        waiter.withLock { waiter in
            if cancelling { waiter.cancelled = true }
            let continuation = waiter.continuation
            waiter.continuation = nil
            return continuation
        }
    }

    /// A job whose task was cancelled while it waited in the queue does not run.
    override func run() {
        guard !cancellation.isCancelled else { return }
        result = Result { try work(cancellation) }
    }

    override func finish() {
        guard let continuation = takeContinuation(cancelling: false) else { return }  // cancelled: the result is dropped
        if let result {
            continuation.resume(with: result)
        } else {
            continuation.resume(throwing: CancellationError())
        }
    }
}
