import CLibUV
import Foundation

/// Off-loop work of every plugin on one shared thread pool (libuv's), with a bound per plugin:
/// at most ``threadsPerOwner`` pool threads work for one plugin at once, and plugins waiting for
/// a thread are served round-robin, so a plugin busy with long solves cannot starve another
/// plugin's `offLoop`. `enqueue` and the completions are loop-thread only.
///
/// Each owner has a lane: a locked queue of its jobs. A pool thread given to an owner (a
/// runner) takes the lane's jobs one after the other until the lane is empty, and hands each
/// completion back through one locked mailbox, delivered on the loop all at once (when the
/// runner is done, or, while it goes on, by one wake-up for all the completions in it). Runners are handed out once per loop iteration (a prepare handle, just before the
/// loop waits for I/O), after every request read in that iteration has queued its job. Under
/// load a job therefore costs a queue push and pop, not a pool submission, a thread wake-up and
/// a loop wake-up of its own. What does not change:
/// - a job that blocks holds only its own runner: a lane whose jobs still wait a millisecond
///   after its last runner started gets another one (up to the owner's bound);
/// - when an owner waits for a thread it may have, runners give theirs back after the job
///   they are running, so waiting owners are served one job each in turn.
final class OffLoopScheduler: @unchecked Sendable {
    /// The number of libuv pool threads (`UV_THREADPOOL_SIZE`, 4 by default, at most 1024).
    static var libuvPoolSize: Int {
        let configured = ProcessInfo.processInfo.environment["UV_THREADPOOL_SIZE"].flatMap { Int($0) } ?? 4
        return min(max(configured, 1), 1024)
    }

    /// The default bound of one plugin: every thread but one, so that another plugin always finds one.
    static func defaultThreadsPerOwner(poolSize: Int) -> Int { max(1, poolSize - 1) }

    /// Pool threads working for the scheduler at most (the pool's size).
    let threads: Int
    /// Pool threads working for one owner at most.
    let threadsPerOwner: Int
    private let loop: EventLoop
    // Loop thread only: the lanes by owner, the lanes waiting for a runner in turn order, the
    // runners handed to the pool, and the prepare handle that hands them out.
    private var lanes: [String: Lane] = [:]
    private var turns: [Lane] = []
    private var inFlight = 0
    private var prepare: UnsafeMutablePointer<uv_prepare_t>?
    private var dispatchPending = false
    private var rampTimer: LoopTimer?
    private var rampArmed = false
    /// How long jobs wait for their lane's runners before the lane gets another one (when it
    /// has one already): long enough for a runner to drain a burst of quick calls, short
    /// enough that a blocked call delays the calls behind it by about that much.
    static let rampMilliseconds: UInt64 = 1
    /// Guards every lane's queue and `starting` count, ``mailbox`` and ``contended``.
    private let lock = NSLock()
    /// Completions waiting for the loop (under ``lock``), in the order the jobs finished.
    private var mailbox: [(Bool) -> Void] = []
    private var delivering: [(Bool) -> Void] = []
    /// Whether a delivery of the mailbox is posted to the loop and has not run yet (under ``lock``).
    private var deliveryPosted = false
    /// Whether a lane that may have another runner waits for a pool thread (under ``lock``):
    /// runners then give their threads back after their current job.
    private var contended = false

    /// A scheduler over libuv's pool of `threads` threads, each owner limited to `threadsPerOwner` of them.
    init(loop: EventLoop, threads: Int = OffLoopScheduler.libuvPoolSize, threadsPerOwner: Int? = nil) {
        self.loop = loop
        self.threads = max(1, threads)
        self.threadsPerOwner = min(self.threads, max(1, threadsPerOwner ?? Self.defaultThreadsPerOwner(poolSize: self.threads)))
    }

    /// Runners handed to the pool since the start (each one a pool submission and a thread wake-up).
    private(set) var runnersStarted = 0

    /// Pool threads working for `owner` now.
    func runningCount(of owner: String) -> Int { lanes[owner]?.runners ?? 0 }

    /// Jobs of `owner` queued and not taken by a runner yet.
    func waitingCount(of owner: String) -> Int {
        guard let lane = lanes[owner] else { return 0 }
        lock.lock()
        defer { lock.unlock() }
        return lane.queue.count
    }

    /// Queues `work` for `owner`; `after` runs on the loop with `true` once it ran, `false` when
    /// the pool refused it; never before `enqueue` has returned.
    func enqueue(owner: String, work: @escaping @Sendable () -> Void, after: @escaping (Bool) -> Void) {
        enqueue(on: lane(for: owner), work: work, after: after)
    }

    /// The lane of `owner`'s jobs (a caller that queues often keeps it, saving the lookup).
    func lane(for owner: String) -> Lane {
        if let known = lanes[owner] { return known }
        let lane = Lane(owner: owner)
        lanes[owner] = lane
        return lane
    }

    /// As ``enqueue(owner:work:after:)``, on a lane from ``lane(for:)``.
    func enqueue(on lane: Lane, work: @escaping @Sendable () -> Void, after: @escaping (Bool) -> Void) {
        lock.lock()
        lane.queue.append(Job(work: work, after: after))
        // Runners that have not taken their first job yet take the first jobs queued.
        let needsRunner = lane.queue.count > lane.starting
        lock.unlock()
        guard needsRunner else { return }
        if !lane.inTurns {
            lane.inTurns = true
            turns.append(lane)
        }
        scheduleDispatch()
    }

    /// Hands out runners just before the loop next waits for I/O (once per iteration).
    private func scheduleDispatch() {
        guard !dispatchPending else { return }
        dispatchPending = true
        if prepare == nil {
            let handle = UnsafeMutablePointer<uv_prepare_t>.allocate(capacity: 1)
            uv_prepare_init(loop.uv, handle)
            handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            prepare = handle
        }
        uv_prepare_start(prepare, { handle in
            uv_prepare_stop(handle)
            let scheduler = Unmanaged<OffLoopScheduler>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            scheduler.dispatchPending = false
            scheduler.dispatch()
        })
    }

    /// Hands pool threads to waiting lanes while there are free ones: one runner per lane per
    /// turn, skipping lanes at their bound (their runners will take their jobs). A lane that
    /// has a runner gets another only when its last one started ``rampMilliseconds`` ago or
    /// more: one runner drains a burst of quick jobs, and a lane whose jobs still wait by then
    /// (a job blocks, or the jobs are long) gets the next one.
    private func dispatch() {
        let now = uv_hrtime()
        var skipped = 0
        while inFlight < threads, skipped < turns.count {
            let lane = turns.removeFirst()
            lane.inTurns = false
            guard jobsWaitingForARunner(lane) else { continue }
            lane.inTurns = true
            turns.append(lane)
            guard lane.runners < threadsPerOwner, lane.runners == 0 || now &- lane.lastRunnerAt >= Self.rampMilliseconds * 1_000_000 else {
                skipped += 1
                continue
            }
            skipped = 0
            lane.lastRunnerAt = now
            startRunner(for: lane)
        }
        // Lanes that had jobs for a runner but got none stay in the turns; drop the others.
        turns.removeAll { lane in
            let keep = jobsWaitingForARunner(lane)
            if !keep { lane.inTurns = false }
            return !keep
        }
        let poolFull = inFlight >= threads
        let starved = poolFull && turns.contains { $0.runners < threadsPerOwner }
        lock.lock()
        contended = starved
        lock.unlock()
        if !poolFull && turns.contains(where: { $0.runners < threadsPerOwner }) { armRamp() }
    }

    /// Looks again in ``rampMilliseconds`` at lanes whose jobs wait for a runner.
    private func armRamp() {
        guard !rampArmed else { return }
        rampArmed = true
        let timer = rampTimer ?? LoopTimer(loop: loop)
        if rampTimer == nil {
            timer.unref()
            rampTimer = timer
        }
        timer.start(afterMilliseconds: Self.rampMilliseconds) { [unowned self] in
            rampArmed = false
            dispatch()
        }
    }

    private func jobsWaitingForARunner(_ lane: Lane) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return lane.queue.count > lane.starting
    }

    private func startRunner(for lane: Lane) {
        runnersStarted += 1
        inFlight += 1
        lane.runners += 1
        lock.lock()
        lane.starting += 1
        lock.unlock()
        let accepted = WorkPool.submit(on: loop, work: { [unowned self] in run(lane) }) { [unowned self] _ in
            // A runner that found its lane empty left its last completions to this call.
            deliver()
            inFlight -= 1
            lane.runners -= 1
            // Jobs queued after this runner found its lane empty, or left when it gave its thread back.
            if jobsWaitingForARunner(lane) && !lane.inTurns {
                lane.inTurns = true
                turns.append(lane)
            }
            dispatch()
        }
        guard !accepted else { return }
        inFlight -= 1
        lane.runners -= 1
        lock.lock()
        lane.starting -= 1
        // Nothing will run this lane's jobs (another runner of the lane would take them): fail them.
        var refused: [Job] = []
        if lane.runners == 0 { while let job = lane.queue.popFirst() { refused.append(job) } }
        lock.unlock()
        // Never inside the call that queued the work: from the loop, like every completion.
        for job in refused { loop.execute { job.after(false) } }
    }

    /// A runner (on a pool thread): takes `lane`'s jobs until the lane is empty, or until an
    /// owner waits for a thread. A completion wakes the loop only when the runner goes on with
    /// another job; the last ones are delivered when the pool reports the runner done (one
    /// wake-up of the loop for both).
    private func run(_ lane: Lane) {
        lock.lock()
        lane.starting -= 1
        while let job = lane.queue.popFirst() {
            lock.unlock()
            job.work()
            lock.lock()
            mailbox.append(job.after)
            let yield = contended
            if !yield && lane.queue.count > 0 && !deliveryPosted {
                deliveryPosted = true
                lock.unlock()
                loop.post({ scheduler in
                    Unmanaged<OffLoopScheduler>.fromOpaque(scheduler!).takeUnretainedValue().deliver()
                }, Unmanaged.passUnretained(self).toOpaque())
                lock.lock()
            }
            if yield { break }
        }
        lock.unlock()
    }

    /// Runs the completions in the mailbox (loop thread).
    private func deliver() {
        lock.lock()
        deliveryPosted = false
        swap(&mailbox, &delivering)
        lock.unlock()
        for after in delivering { after(true) }
        delivering.removeAll(keepingCapacity: true)
    }
}

private struct Job {
    let work: @Sendable () -> Void
    let after: (Bool) -> Void
}

extension OffLoopScheduler {
    /// One owner's jobs. `queue` and `starting` are guarded by the scheduler's lock; `runners`
    /// and `inTurns` belong to the loop thread.
    final class Lane: @unchecked Sendable {
        let owner: String
        fileprivate var queue = JobQueue()
        /// Runners handed to the pool that have not taken a job yet.
        fileprivate var starting = 0
        /// Runners handed to the pool and not finished.
        fileprivate var runners = 0
        /// Whether the lane is in the scheduler's turns.
        fileprivate var inTurns = false
        /// When the lane's last runner started (`uv_hrtime`, nanoseconds).
        fileprivate var lastRunnerAt: UInt64 = 0

        fileprivate init(owner: String) { self.owner = owner }
    }
}

/// A FIFO of jobs that pops from the front without moving the rest.
private struct JobQueue {
    private var items: [Job] = []
    private var head = 0

    var count: Int { items.count - head }

    mutating func append(_ job: Job) { items.append(job) }

    mutating func popFirst() -> Job? {
        guard head < items.count else { return nil }
        let job = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return job
    }
}
