import Synchronization

/// Tells a job running off the loop (``PluginContext/offLoop(_:)-(_)``'s cancellable form) that
/// nobody waits for its result any more: the request it works for was given up on (a 504, a client
/// that left, the plugin stopping) or the task that queued it was cancelled.
///
/// A job cannot be stopped from outside while it runs on its thread, so a long job polls
/// ``isCancelled`` (or calls ``checkCancellation()``) between steps and returns early. What the
/// SDK does without the job's help: the waiting task gets `CancellationError` at once (the job's
/// late result is dropped), and a job still queued when its task is cancelled never runs, so it
/// does not hold one of the plugin's off-loop threads.
public final class OffLoopCancellation: Sendable {
    private let flag = Atomic<Bool>(false)

    /// A flag not yet raised (in-memory drivers and tests make their own).
    public init() {}

    /// Whether the job's result is no longer wanted. Safe from any thread.
    public var isCancelled: Bool { flag.load(ordering: .acquiring) }

    /// Throws `CancellationError` once the job's result is no longer wanted.
    public func checkCancellation() throws {
        if isCancelled { throw CancellationError() }
    }

    /// Raises the flag (the driver, when the waiting task is cancelled).
    public func cancel() { flag.store(true, ordering: .releasing) }
}
