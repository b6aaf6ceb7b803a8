import Foundation

/// A loop thread of the test process's own: posted jobs and timers run on it in order, one at a
/// time, so ``PluginActor`` code runs there exactly as it would on the runtime's libuv loop.
///
/// The plugin actor is process-wide, so there is one such loop per process (``shared``); it is
/// bound on first use and refuses to exist in a process whose plugin actor a runtime bound.
public final class InProcessLoop: @unchecked Sendable {
    /// The loop of this process, started and bound to ``PluginActor`` on first use.
    public static let shared: InProcessLoop = {
        let loop = InProcessLoop()
        loop.start()
        return loop
    }()

    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var timers: [UInt64: (deadline: UInt64, job: () -> Void)] = [:]
    private var nextTimerID: UInt64 = 1
    private var thread: Thread?

    private init() {}

    /// Runs `job` on the loop thread, after the jobs posted before it. Any thread.
    public func post(_ job: @escaping () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs `job` on the loop thread once `milliseconds` have passed; returns the timer's id. Any thread.
    @discardableResult
    public func schedule(afterMilliseconds milliseconds: UInt64, _ job: @escaping () -> Void) -> UInt64 {
        condition.lock()
        defer { condition.unlock() }
        let id = nextTimerID
        nextTimerID += 1
        let (deadline, overflow) = Self.nowNanoseconds().addingReportingOverflow(milliseconds.multipliedReportingOverflow(by: 1_000_000).partialValue)
        timers[id] = (overflow || milliseconds > UInt64.max / 1_000_000 ? UInt64.max : deadline, job)
        condition.signal()
        return id
    }

    /// Cancels timer `id`; returns whether it was still pending. Any thread.
    @discardableResult
    public func cancel(_ id: UInt64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return timers.removeValue(forKey: id) != nil
    }

    private func start() {
        let bound = DispatchSemaphore(value: 0)
        let thread = Thread { [unowned self] in
            LoopExecutor.shared.bind(loop: self)
            bound.signal()
            self.run()
        }
        thread.name = "plexus-test-loop"
        self.thread = thread
        thread.start()
        bound.wait()
    }

    private func run() {
        while true {
            condition.lock()
            var batch: [() -> Void] = []
            while batch.isEmpty {
                let now = Self.nowNanoseconds()
                let due = timers.filter { $0.value.deadline <= now }.sorted { ($0.value.deadline, $0.key) < ($1.value.deadline, $1.key) }
                for (id, timer) in due {
                    timers.removeValue(forKey: id)
                    batch.append(timer.job)
                }
                batch.append(contentsOf: jobs)
                jobs.removeAll()
                guard batch.isEmpty else { break }
                if let next = timers.values.map(\.deadline).min() {
                    _ = condition.wait(until: Date(timeIntervalSinceNow: Double(next - min(next, now)) / 1e9))
                } else {
                    condition.wait()
                }
            }
            condition.unlock()
            for job in batch { job() }
        }
    }

    private static func nowNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
