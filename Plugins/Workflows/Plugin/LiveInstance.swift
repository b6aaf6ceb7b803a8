#if canImport(Glibc)
import Glibc
#endif
import PlexusSDK
import WorkflowEngine

/// An instance the plugin is running: its definition (the version it started with) and the
/// durable prefix of its history.
@PluginActor
final class LiveInstance {
    let row: InstanceRow
    let definition: Definition
    /// Entries known to be in storage, in order.
    var history: [HistoryEvent]
    /// Entries queued for the next commit.
    var queued: [HistoryEvent] = []
    /// Entries of the history commit in flight (taken from `queued`; back there if it fails).
    var writing: [HistoryEvent] = []
    /// Record actions already queued (so two evaluations do not queue the same entry twice).
    var queuedKeys: Set<String> = []
    /// Action keys released once the queued entries are durable (the effect's outcome is then in the history).
    var releaseOnCommit: [String] = []
    /// The latest evaluation.
    var evaluation: Evaluation?
    /// The history read so far (each evaluation reads only the entries committed since the last).
    var cache = HistoryCache()
    /// Callers waiting until the queued entries are durable (a signal, a cancel).
    var durableWaiters: [DurableWaiter] = []
    /// On PostgreSQL: this process's monotonic time (s) just before the lease was last stamped
    /// by the server (insert, claim or renewal). The server's expiry is 15 s after the stamp, so
    /// the instance stops running here 12 s after this at the latest, unless a renewal comes first.
    var leaseSince: Double = monotonicSeconds()

    init(row: InstanceRow, definition: Definition, history: [HistoryEvent]) {
        self.row = row
        self.definition = definition
        self.history = history
    }

    var id: String { row.id }
    var isOver: Bool { history.last?.isTerminal ?? false }
    /// Whether a cancel is stored, being written or queued (a cancel retried while the first is
    /// not stored yet finds it).
    var cancelAsked: Bool { (history + writing + queued).contains { $0.kind == .cancelRequested } }

    /// The signal stored, being written or queued with the idempotency key `key`, and whether it
    /// is not stored yet.
    func signal(withKey key: String) -> (entry: HistoryEvent, queued: Bool)? {
        if let entry = (writing + queued).first(where: { $0.kind == .signalReceived && $0.key == key }) { return (entry, true) }
        if let entry = history.first(where: { $0.kind == .signalReceived && $0.key == key }) { return (entry, false) }
        return nil
    }
}

/// Clock for histories: epoch milliseconds.
func epochMilliseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
}

/// A monotonic clock for latencies, in seconds.
func monotonicSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}
