import Foundation

/// A queue of jobs handed from any thread to one worker thread, which takes them in batches.
final class WorkQueue<Job: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var closed = false

    /// Adds a job; returns false (and drops it) once the queue is closed.
    func push(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Adds a final job and refuses every later one.
    func pushLast(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        jobs.append(job)
        closed = true
        condition.signal()
        return true
    }

    /// Waits until a job is queued or `deadline` passes, then takes up to `max` jobs
    /// (possibly none on timeout).
    func take(max: Int, until deadline: Date?) -> [Job] {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty {
            if let deadline {
                if !condition.wait(until: deadline) { break }
            } else {
                condition.wait()
            }
        }
        if jobs.count <= max {
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            return batch
        }
        let batch = Array(jobs.prefix(max))
        jobs.removeFirst(max)
        return batch
    }

    /// Whether the queue refuses new jobs and has none left.
    var isClosedAndEmpty: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed && jobs.isEmpty
    }

    /// Closes the queue and returns the jobs left in it.
    func drainAndClose() -> [Job] {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        let left = jobs
        jobs.removeAll()
        return left
    }
}

/// A value guarded by a lock, readable from any thread.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }

    var current: Value { withLock { $0 } }
}
