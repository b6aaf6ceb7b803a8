import Foundation
import PlexusSDK
import WorkflowEngine

/// Leases on PostgreSQL (several plexus instances on one database): an instance runs where its
/// lease is held, every history commit is fenced by it (``WorkflowStore/fence(_:)``), and an
/// instance whose lease is lost, or may be, stops running here at once: no further service
/// calls, publishes, timers or writes. On SQLite (one process per file) there are no leases.
extension WorkflowRunner {
    /// How long after ``LiveInstance/leaseSince`` this process still acts for an instance without
    /// a renewal (s): 3 s less than the server's 15 s expiry, so it has stopped before another
    /// plexus instance can claim the lease.
    static let leaseHeldFor = Double(WorkflowStore.staleAfterMilliseconds) / 1000 - 3

    /// Whether instances here run under leases (PostgreSQL).
    var leased: Bool { context.storage.dialect == .postgresql }

    /// True when this process may still act for `instance`: it runs here and, on PostgreSQL, its
    /// lease was stamped less than ``leaseHeldFor`` ago. An instance whose lease may have expired
    /// is stopped here (``relinquish(_:reason:)``) and false is returned.
    func holdsLease(_ instance: LiveInstance) -> Bool {
        guard live[instance.id] === instance, !stopped else { return false }
        guard leased else { return true }
        if monotonicSeconds() < instance.leaseSince + Self.leaseHeldFor { return true }
        relinquish(instance, reason: "its lease was not renewed for \(Int(Self.leaseHeldFor)) s (the database was out of reach)")
        return false
    }

    /// After a heartbeat sent at `sentAt` (monotonic s) renewed the leases of `renewed`: those
    /// renewed count from `sentAt`; an instance that ran here when the heartbeat was sent
    /// (`judged`, ``live`` at that moment) and was not renewed is lost (another plexus instance
    /// took it over, or it expired), and stops here. An instance started or claimed while the
    /// heartbeat was in flight is not judged by it: its row may have been committed after the
    /// heartbeat's statement took its snapshot.
    func leasesRenewed(_ renewed: Set<String>, sentAt: Double, judged: [String: LiveInstance]) {
        for instance in Array(live.values) {
            if renewed.contains(instance.id) {
                instance.leaseSince = max(instance.leaseSince, sentAt)
            } else if judged[instance.id] === instance, instance.leaseSince < sentAt, !instance.isOver {
                relinquish(instance, reason: "the heartbeat found its lease held by another plexus instance or expired")
            }
        }
    }

    /// Stops running `instance` here: its waits, timers' effects, queued entries and in-flight
    /// outcomes are dropped (the plexus instance that holds the lease resumes it from its
    /// history); durable deliveries waiting for its entries are refused (delivered again), and
    /// callers waiting for its entries get ``LeaseLost``.
    func relinquish(_ instance: LiveInstance, reason: String, unwritten: [HistoryEvent] = []) {
        guard live[instance.id] === instance else { return }
        live[instance.id] = nil
        if lostLeases.count >= 10_000 { lostLeases.removeAll() }
        lostLeases.insert(instance.id)
        metrics.running.set(Double(live.count))
        let prefix = instance.id + "|"
        for key in eventWaits.keys where key.hasPrefix(prefix) { eventWaits[key] = nil }
        inFlight.removeAll(of: instance.id)
        dirty.removeAll { $0 == instance.id }
        for (child, waiter) in childWaiters where waiter.parent == instance.id { childWaiters[child] = nil }
        let queued = instance.queued, waiters = instance.durableWaiters
        instance.queued = []
        instance.queuedKeys = []
        instance.releaseOnCommit = []
        instance.durableWaiters = []
        refuse(unwritten + queued, waiters: waiters, of: instance)
        context.logger.warning("workflow instance stopped here: lease lost", metadata: ["instance": "\(instance.id)", "reason": "\(reason)"])
    }

    /// Fails what was taken off `instance` for a write that will not happen: durable deliveries
    /// waiting for its `eventReceived` entries are refused (so they are delivered again) and
    /// callers waiting for its entries get ``LeaseLost``. Used by ``relinquish(_:reason:unwritten:)``
    /// and for a batch whose instance was stopped here while the batch was in flight.
    func refuse(_ events: [HistoryEvent], waiters: [DurableWaiter], of instance: LiveInstance) {
        for event in events where event.kind == .eventReceived {
            guard let id = event.name, let pending = pendingEvents.removeValue(forKey: id) else { continue }
            for waiter in pending.waiters { waiter.resume(throwing: EventNotRecorded(reason: "workflow instance \(instance.id) no longer runs here")) }
        }
        for waiter in waiters { waiter.resume(throwing: LeaseLost(instance: instance.id)) }
    }

    /// How long a caller waits for its entry to be stored before it is answered 503
    /// (``StorageTimedOut``): a commit that keeps failing for another reason than the lease is
    /// retried without end, its callers are not kept waiting with it.
    static let durableDeadline: Duration = .seconds(10)

    /// On PostgreSQL: waits until the entries queued (or being written) for `instance` are in storage (a signal or a
    /// cancel is answered once durable, or refused with ``LeaseLost`` when the write was fenced
    /// out, or with ``StorageTimedOut`` after ``durableDeadline``). On SQLite it returns at once
    /// (one process; the commit loop retries until it succeeds).
    func durable(_ instance: LiveInstance) async throws {
        guard leased, !instance.queued.isEmpty || !instance.writing.isEmpty else { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let waiter = DurableWaiter(continuation)
            guard live[instance.id] === instance else { return waiter.resume(throwing: LeaseLost(instance: instance.id)) }
            instance.durableWaiters.append(waiter)
            waiter.expire(after: Self.durableDeadline, timers: context.timers) { [unowned self] in
                StorageTimedOut(instance: instance.id, seconds: Int(Self.durableDeadline.components.seconds), cause: lastCommitError ?? "no commit finished yet")
            }
        }
    }
}
