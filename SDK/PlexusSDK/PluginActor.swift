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
}

/// A serial executor that runs jobs on the runtime's loop thread via `host->post`.
final class LoopExecutor: SerialExecutor, @unchecked Sendable {
    /// The process-wide executor of this plugin's copy of the SDK.
    static let shared = LoopExecutor()

    /// Set once by the entry point, on the loop thread, before any job is enqueued.
    private(set) var host: UnsafePointer<plexus_host>?
    private var loopThread = pthread_t()

    /// Binds the executor to the host that loaded this plugin. Called on the loop thread.
    func bind(host: UnsafePointer<plexus_host>) {
        self.host = host
        self.loopThread = pthread_self()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        guard let host else { fatalError("Plexus SDK: a job was enqueued before the plugin was loaded") }
        let raw = unsafeBitCast(UnownedJob(job), to: UnsafeMutableRawPointer.self)
        host.pointee.post(host, { raw in
            let job = unsafeBitCast(raw, to: UnownedJob.self)
            job.runSynchronously(on: LoopExecutor.shared.asUnownedSerialExecutor())
        }, raw)
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func isSameExclusiveExecutionContext(other: LoopExecutor) -> Bool { other === self }

    func checkIsolated() {
        precondition(host != nil && pthread_equal(pthread_self(), loopThread) != 0,
                     "Plexus SDK: plugin code must run on the runtime's loop thread")
    }
}
