import Dispatch
import Foundation
import Synchronization

/// The workers of one `StorageEngine`, each a serial queue owning one connection. Jobs run in
/// submission order on the first free worker: with one worker (SQLite) every operation runs one
/// at a time in order; with several (a PostgreSQL pool) up to that many run at once.
final class WorkerPool: @unchecked Sendable {
    /// One worker: its queue and the connection only that queue touches.
    final class Worker: @unchecked Sendable {
        let queue: DispatchQueue
        /// The connection; nil once closed.
        var connection: (any StorageConnection)?
        /// Closed by a close job: takes no more jobs.
        fileprivate var retired = false

        init(queue: DispatchQueue, connection: any StorageConnection) {
            self.queue = queue
            self.connection = connection
        }
    }

    typealias Job = @Sendable (Worker) -> Void

    private let lock = NSLock()
    private let workers: [Worker]
    private var idle: [Int]
    private var pending: [Job] = []
    private var pendingHead = 0
    private var closed = false
    /// Jobs handed to a worker's queue to run on the queue's own thread (a thread woken for it);
    /// jobs run on the caller's thread by `runHereIfIdle` are not counted. For tests.
    let dispatched = Atomic<Int>(0)

    /// A pool over `connections`, one worker each; `label` names the queues.
    init(label: String, connections: [any StorageConnection]) {
        workers = connections.enumerated().map { index, connection in
            Worker(queue: DispatchQueue(label: "\(label)#\(index)"), connection: connection)
        }
        idle = Array(workers.indices.reversed())
    }

    /// How many workers (connections) the pool has.
    var size: Int { workers.count }

    /// Whether no job is running or waiting (every worker idle), and the pool is open: an
    /// operation run elsewhere now cannot overtake one submitted earlier.
    var isIdle: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !closed && idle.count == workers.count && pendingHead >= pending.count
    }

    /// Runs `job` on the calling thread, inside the idle worker's serial queue
    /// (`DispatchQueue.sync`, which runs the block on the caller's thread when the queue is free:
    /// no thread is woken, no hop back), when a worker is idle and no job waits; false (and the
    /// job is not run) when every worker is busy, a job waits (it must not be overtaken) or the
    /// pool is closing. Jobs submitted meanwhile wait for it as for any running job.
    ///
    /// Never call it from a job (a queue cannot wait on itself); the worker it takes is not idle
    /// while a job of its own runs, so a call from a change handler or completion answers false.
    func runHereIfIdle(_ job: Job) -> Bool {
        lock.lock()
        guard !closed, pendingHead >= pending.count, let index = idle.popLast() else {
            lock.unlock()
            return false
        }
        lock.unlock()
        let worker = workers[index]
        worker.queue.sync { job(worker) }
        finished(index)
        return true
    }

    /// Queues `job`; false (and the job is dropped) once the pool is closing.
    @discardableResult
    func submit(_ job: @escaping Job) -> Bool {
        lock.lock()
        guard !closed else {
            lock.unlock()
            return false
        }
        if let index = idle.popLast() {
            lock.unlock()
            start(index, job)
        } else {
            pending.append(job)
            lock.unlock()
        }
        return true
    }

    /// Runs `job` on every worker's queue now, beside the queued jobs (for settings such as the change handler).
    func broadcast(_ job: @escaping Job) {
        for worker in workers { worker.queue.async { job(worker) } }
    }

    /// Refuses new jobs; each worker closes its connection after the jobs queued before this call.
    /// `completion` runs (on a worker) once every connection is closed.
    func close(completion: @escaping @Sendable () -> Void) {
        let remaining = AtomicCount(workers.count)
        let closeJob: Job = { worker in
            worker.connection?.close()
            worker.connection = nil
            worker.retired = true
            if remaining.decrement() == 0 { completion() }
        }
        lock.lock()
        if closed {
            lock.unlock()
            completion()
            return
        }
        closed = true
        var starts: [(Int, Job)] = []
        for _ in workers.indices {
            if let index = idle.popLast() { starts.append((index, closeJob)) } else { pending.append(closeJob) }
        }
        lock.unlock()
        for (index, job) in starts { start(index, job) }
    }

    private func start(_ index: Int, _ job: @escaping Job) {
        let worker = workers[index]
        dispatched.wrappingAdd(1, ordering: .relaxed)
        worker.queue.async { [self] in
            job(worker)
            finished(index)
        }
    }

    private func finished(_ index: Int) {
        lock.lock()
        if workers[index].retired {
            lock.unlock()
            return
        }
        guard pendingHead < pending.count else {
            idle.append(index)
            lock.unlock()
            return
        }
        let next = pending[pendingHead]
        pendingHead += 1
        if pendingHead > 64 && pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        lock.unlock()
        start(index, next)
    }
}

/// A counter shared across threads.
final class AtomicCount: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int
    init(_ value: Int) { self.value = value }
    /// Decrements and returns the new value.
    func decrement() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value -= 1
        return value
    }
}

/// A count of things in progress, read and changed from any thread. An atomic, not a lock: the
/// loop reads it before each key-value call it answers itself (`loopMayRunSQLite`).
final class RunningCount: Sendable {
    private let value = Atomic<Int>(0)
    /// Adds `delta` (negative to subtract).
    func add(_ delta: Int) {
        value.wrappingAdd(delta, ordering: .acquiringAndReleasing)
    }
    /// The count now.
    var current: Int { value.load(ordering: .acquiring) }
}
