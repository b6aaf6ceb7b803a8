import Foundation

/// Off-loop work of every plugin on one shared thread pool (libuv's), with a bound per plugin:
/// at most ``threadsPerOwner`` jobs of one plugin run at once, and jobs waiting for a thread
/// are handed out round-robin over the plugins that have some, so a plugin busy with long
/// solves cannot starve another plugin's `offLoop`. Loop thread only.
///
/// At most ``threads`` jobs are handed to the pool at a time (its size): a job is queued here,
/// never in libuv's queue, until a thread is free for it, which is what makes the order fair.
final class OffLoopScheduler {
    /// The number of libuv pool threads (`UV_THREADPOOL_SIZE`, 4 by default, at most 1024).
    static var libuvPoolSize: Int {
        let configured = ProcessInfo.processInfo.environment["UV_THREADPOOL_SIZE"].flatMap { Int($0) } ?? 4
        return min(max(configured, 1), 1024)
    }

    /// The default bound of one plugin: every thread but one, so that another plugin always finds one.
    static func defaultThreadsPerOwner(poolSize: Int) -> Int { max(1, poolSize - 1) }

    /// Jobs in flight at most (the pool's size).
    let threads: Int
    /// Jobs of one owner in flight at most.
    let threadsPerOwner: Int
    private let loop: EventLoop
    private var waiting: [String: [Job]] = [:]
    /// Owners with waiting jobs, in the order they are served next.
    private var turns: [String] = []
    private var running: [String: Int] = [:]
    private var inFlight = 0

    private struct Job {
        let work: @Sendable () -> Void
        let after: (Bool) -> Void
    }

    /// A scheduler over libuv's pool of `threads` threads, each owner limited to `threadsPerOwner` of them.
    init(loop: EventLoop, threads: Int = OffLoopScheduler.libuvPoolSize, threadsPerOwner: Int? = nil) {
        self.loop = loop
        self.threads = max(1, threads)
        self.threadsPerOwner = min(self.threads, max(1, threadsPerOwner ?? Self.defaultThreadsPerOwner(poolSize: self.threads)))
    }

    /// Jobs of `owner` running now.
    func runningCount(of owner: String) -> Int { running[owner] ?? 0 }

    /// Jobs of `owner` waiting for a thread.
    func waitingCount(of owner: String) -> Int { waiting[owner]?.count ?? 0 }

    /// Queues `work` for `owner`; `after` runs on the loop with `true` once it ran, `false` when
    /// the pool refused it; never before `enqueue` has returned.
    func enqueue(owner: String, work: @escaping @Sendable () -> Void, after: @escaping (Bool) -> Void) {
        if waiting[owner, default: []].isEmpty, !turns.contains(owner) { turns.append(owner) }
        waiting[owner, default: []].append(Job(work: work, after: after))
        dispatch()
    }

    /// Hands waiting jobs to the pool while a thread is free: one job per owner per turn, skipping
    /// owners at their bound.
    private func dispatch() {
        var skipped = 0
        while inFlight < threads, skipped < turns.count {
            let owner = turns.removeFirst()
            guard runningCount(of: owner) < threadsPerOwner, var jobs = waiting[owner], !jobs.isEmpty else {
                if waiting[owner]?.isEmpty == false { turns.append(owner) }
                skipped += 1
                continue
            }
            skipped = 0
            let job = jobs.removeFirst()
            waiting[owner] = jobs.isEmpty ? nil : jobs
            if !jobs.isEmpty { turns.append(owner) }
            run(job, of: owner)
        }
    }

    private func run(_ job: Job, of owner: String) {
        inFlight += 1
        running[owner, default: 0] += 1
        let accepted = WorkPool.submit(on: loop, work: job.work) { [unowned self] ran in
            finished(owner)
            job.after(ran)
            dispatch()
        }
        if !accepted {
            finished(owner)
            // Never inside the call that queued the work: from the loop, like every completion.
            loop.execute { job.after(false) }
        }
    }

    private func finished(_ owner: String) {
        inFlight -= 1
        running[owner, default: 1] -= 1
        if running[owner] == 0 { running[owner] = nil }
        // An owner at its bound was dropped from the turns only if it had nothing waiting.
        if waiting[owner]?.isEmpty == false, !turns.contains(owner) { turns.append(owner) }
    }
}
