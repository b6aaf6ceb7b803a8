import Dispatch
import Foundation

/// One PostgreSQL engine's lease on its plugin's change log (see `PostgresChangeGate.swift`):
/// while its owner wants changes, the engine holds a listener row (renewed at every check) and
/// the change triggers are enabled; when it no longer does, it leaves, and whoever finds no live
/// listener left disables them. Every check (each ``StorageConfiguration/changeListenerCheckInterval``)
/// runs the operation for the state wanted now: listening renews the lease (and enables triggers
/// another instance disabled after this one's lease ran out); not listening removes expired
/// leases whose engine's LISTEN session is gone and disables the triggers when no lease is left
/// (a crashed listener's lease ends so).
///
/// Operations run on the engine's pool one at a time (the state asked for last wins).
final class ChangeListening: @unchecked Sendable {
    /// This engine's name in `_plexus_listeners`.
    let id = "plexus-" + UUID().uuidString.lowercased()
    private let pool: WorkerPool
    private let lease: Double
    private let lock = NSLock()
    // Guarded by `lock`.
    private var wanted = false
    private var inFlight = false
    private var closed = false
    private var waiting: [@Sendable (Result<Void, StorageError>) -> Void] = []
    private var afterClose: (@Sendable () -> Void)?
    private var timer: DispatchSourceTimer?

    init(pool: WorkerPool, configuration: StorageConfiguration) {
        self.pool = pool
        lease = configuration.changeListenerLease
        let interval = configuration.changeListenerCheckInterval
        guard interval > 0 else { return }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "plexus.storage.listening"))
        timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(Int(interval * 100)))
        timer.setEventHandler { [weak self] in self?.kick() }
        self.timer = timer
        timer.resume()
    }

    /// Whether the owner wants changes now.
    var isWanted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return wanted
    }

    /// Wants changes (or not); `completion` runs once the state asked for last is committed in
    /// the database, with that operation's result.
    func set(_ listening: Bool, completion: @escaping @Sendable (Result<Void, StorageError>) -> Void) {
        lock.lock()
        guard !closed else {
            lock.unlock()
            return completion(.failure(StorageError(.closed, "the storage engine is closed", operation: "listen")))
        }
        wanted = listening
        waiting.append(completion)
        lock.unlock()
        kick()
    }

    /// Stops the checks; when the owner was listening, leaves first. `then` runs after that.
    func close(then: @escaping @Sendable () -> Void) {
        timer?.cancel()
        lock.lock()
        let mustLeave = wanted || inFlight
        closed = true
        wanted = false
        if inFlight {
            afterClose = then
            lock.unlock()
            return
        }
        lock.unlock()
        if mustLeave { leave(then: then) } else { then() }
    }

    /// Runs the operation for the state wanted now, unless one runs (it runs again after, if needed).
    private func kick() {
        lock.lock()
        guard !inFlight, !closed else { return lock.unlock() }
        inFlight = true
        let target = wanted
        lock.unlock()
        let submitted = pool.submit { [self] worker in
            let result: Result<Void, StorageError>
            if let db = worker.connection as? PostgresConnection {
                do throws(StorageError) {
                    if target { try db.listenForChanges(as: id, lease: lease) } else { try db.leaveChanges(as: id) }
                    result = .success(())
                } catch {
                    db.rollbackIfNeeded()
                    result = .failure(error.located(operation: target ? "listen" : "leave", path: db.location))
                }
            } else {
                result = .failure(StorageError(.closed, "the storage engine is closed", operation: "listen"))
            }
            finished(target, result)
        }
        if !submitted { finished(target, .failure(StorageError(.closed, "the storage engine is closed", operation: "listen"))) }
    }

    private func finished(_ target: Bool, _ result: Result<Void, StorageError>) {
        lock.lock()
        inFlight = false
        if closed, let then = afterClose {
            afterClose = nil
            let done = waiting
            waiting = []
            lock.unlock()
            for completion in done { completion(.failure(StorageError(.closed, "the storage engine is closed", operation: "listen"))) }
            return leave(then: then)
        }
        if wanted != target, !closed {
            lock.unlock()
            return kick()
        }
        let done = waiting
        waiting = []
        lock.unlock()
        for completion in done { completion(result) }
    }

    /// Removes this engine's lease (disabling the triggers if it was the last), then `then`.
    private func leave(then: @escaping @Sendable () -> Void) {
        let submitted = pool.submit { [id] worker in
            if let db = worker.connection as? PostgresConnection {
                do throws(StorageError) { try db.leaveChanges(as: id) } catch { db.rollbackIfNeeded() }
            }
            then()
        }
        if !submitted { then() }
    }
}
