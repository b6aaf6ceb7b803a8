import CPlexusABI
#if canImport(Glibc)
import Glibc
#endif

/// The global actor of plugin code: its executor is the runtime's loop thread.
///
/// Hooks, route handlers and timers all run here, so plugin state needs no locks. An `await`
/// inside plugin code suspends without blocking the loop; the continuation comes back here.
@globalActor
public actor PluginActor {
    /// The one instance.
    public static let shared = PluginActor()

    /// Runs the actor on the loop thread.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        LoopExecutor.shared.asUnownedSerialExecutor()
    }

    /// Runs `body` as if isolated to the actor. Only for code already on the loop thread
    /// (C callbacks from the host); traps anywhere else.
    static func runOnLoop<T>(_ body: @PluginActor () throws -> T) rethrows -> T {
        LoopExecutor.shared.checkIsolated()
        typealias Plain = () throws -> T
        return try withoutActuallyEscaping(body) { isolated in
            try unsafeBitCast(isolated, to: Plain.self)()
        }
    }

    /// Runs `body(first, second)` as if isolated to the actor, as ``runOnLoop(_:)`` does. For the
    /// paths run per request: `body` must capture nothing (its inputs are passed as `first` and
    /// `second`), so it has no context to allocate and is cast without `withoutActuallyEscaping`
    /// (which allocated a closure context on the heap per call).
    @inline(__always)
    static func runOnLoop<First, Second>(_ first: First, _ second: Second, _ body: @escaping @PluginActor (First, Second) -> Void) {
        LoopExecutor.shared.checkIsolated()
        typealias Plain = (First, Second) -> Void
        unsafeBitCast(body, to: Plain.self)(first, second)
    }
}

/// Where the loop's jobs go: the runtime's loop (via `host->post`) or an in-process loop of a test host.
enum LoopTarget {
    case host(UnsafePointer<plexus_host>)
    case local(InProcessLoop)
}

/// A serial executor that runs jobs on the loop thread: the runtime's (via `host->post`) or an
/// ``InProcessLoop``'s.
final class LoopExecutor: SerialExecutor, @unchecked Sendable {
    /// The process-wide executor of this plugin's copy of the SDK.
    static let shared = LoopExecutor()

    /// Set once, on the loop thread, before any job is enqueued.
    private var target: LoopTarget?
    private var loopThread = pthread_t()

    /// The host that loaded this plugin, if a runtime did.
    var host: UnsafePointer<plexus_host>? {
        if case .host(let host) = target { return host }
        return nil
    }

    /// Binds the executor to the host that loaded this plugin. Called on the loop thread.
    func bind(host: UnsafePointer<plexus_host>) {
        self.target = .host(host)
        self.loopThread = pthread_self()
    }

    /// Binds the executor to an in-process loop. Called on that loop's thread.
    func bind(loop: InProcessLoop) {
        precondition(target == nil, "Plexus SDK: the plugin actor is already bound to a loop")
        self.target = .local(loop)
        self.loopThread = pthread_self()
    }

    /// The in-process loop this executor is bound to, if any.
    var localLoop: InProcessLoop? {
        if case .local(let loop) = target { return loop }
        return nil
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        switch target {
        case .host(let host):
            let raw = unsafeBitCast(unowned, to: UnsafeMutableRawPointer.self)
            host.pointee.post(host, { raw in
                let job = unsafeBitCast(raw, to: UnownedJob.self)
                job.runSynchronously(on: LoopExecutor.shared.asUnownedSerialExecutor())
            }, raw)
        case .local(let loop):
            loop.post { unowned.runSynchronously(on: LoopExecutor.shared.asUnownedSerialExecutor()) }
        case nil:
            fatalError("Plexus SDK: a job was enqueued before the plugin was loaded")
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func isSameExclusiveExecutionContext(other: LoopExecutor) -> Bool { other === self }

    func checkIsolated() {
        precondition(target != nil && pthread_equal(pthread_self(), loopThread) != 0,
                     "Plexus SDK: plugin code must run on the runtime's loop thread")
    }
}
