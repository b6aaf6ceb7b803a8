import Foundation
@testable import PlexusRuntime
import XCTest

/// Each plugin's off-loop work is bounded on the shared pool, and waiting jobs are served in turn.
final class OffLoopSchedulerTests: XCTestCase {
    /// A plugin that fills the pool with long jobs (more than there are threads) does not hold up
    /// another plugin's job: that one completes while every long job is still blocked, with the
    /// blocked plugin at its bound.
    func testASaturatingPluginDoesNotDelayAnotherPluginsWork() throws {
        let (loop, thread) = startLoop()
        let scheduler = OffLoopScheduler(loop: loop)
        let release = DispatchSemaphore(value: 0)
        let otherDone = DispatchSemaphore(value: 0)
        let allDone = DispatchSemaphore(value: 0)
        let log = CompletionLog()
        let longJobs = scheduler.threads * 2
        loop.execute {
            for _ in 0..<longJobs {
                scheduler.enqueue(owner: "solver", work: { release.wait() }, after: { ran in
                    log.append("solver \(ran)")
                    if log.count == longJobs + 1 { allDone.signal() }
                })
            }
        }
        // The solver's lane gets a runner, then another each millisecond its jobs still wait,
        // up to its bound.
        let atBound = DispatchSemaphore(value: 0)
        for _ in 0..<6000 {
            var running = 0
            let read = DispatchSemaphore(value: 0)
            loop.execute { running = scheduler.runningCount(of: "solver"); read.signal() }
            read.wait()
            if running == scheduler.threadsPerOwner { atBound.signal(); break }
            usleep(10_000)
        }
        XCTAssertEqual(atBound.wait(timeout: .now()), .success, "the solver's blocked jobs get up to its bound of threads")
        loop.execute {
            scheduler.enqueue(owner: "other", work: {}, after: { ran in
                log.append("other \(ran) solver-running=\(scheduler.runningCount(of: "solver"))")
                otherDone.signal()
                if log.count == longJobs + 1 { allDone.signal() }
            })
        }
        let served = otherDone.wait(timeout: .now() + 60)
        for _ in 0..<longJobs { release.signal() }
        XCTAssertEqual(served, .success, "the other plugin's job must not wait for the solver's long jobs")
        XCTAssertEqual(allDone.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(log.entries.first, "other true solver-running=\(scheduler.threadsPerOwner)",
                       "the other plugin's job completes first, with the solver at its bound: \(log.entries)")
        XCTAssertEqual(log.entries.filter { $0 == "solver true" }.count, longJobs)
        stop(loop, thread)
    }

    /// Owners waiting for a thread are served one job each in turn, not in arrival order.
    func testWaitingOwnersAreServedInTurn() throws {
        let (loop, thread) = startLoop()
        let scheduler = OffLoopScheduler(loop: loop, threads: 1, threadsPerOwner: 1)
        let gate = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        let log = CompletionLog()
        loop.execute {
            scheduler.enqueue(owner: "gate", work: { gate.wait() }, after: { _ in log.append("gate") })
            for owner in ["a", "a", "a", "b", "c"] {
                scheduler.enqueue(owner: owner, work: {}, after: { _ in
                    log.append(owner)
                    if log.count == 6 { done.signal() }
                })
            }
            XCTAssertEqual(scheduler.waitingCount(of: "a"), 3)
        }
        gate.signal()
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(log.entries, ["gate", "a", "b", "c", "a", "a"])
        stop(loop, thread)
    }

    /// Jobs queued in one loop iteration are run by the owner's runners one after the other: a
    /// burst of 200 quick jobs costs at most `threadsPerOwner` pool submissions, not 200, and
    /// every job completes once, in the order of its runner.
    func testABurstOfJobsIsRunByAFewRunners() throws {
        let (loop, thread) = startLoop()
        let scheduler = OffLoopScheduler(loop: loop, threads: 4, threadsPerOwner: 3)
        let done = DispatchSemaphore(value: 0)
        let log = CompletionLog()
        let jobs = 200
        loop.execute {
            for index in 0..<jobs {
                scheduler.enqueue(owner: "native", work: {}, after: { ran in
                    log.append("\(index) \(ran)")
                    if log.count == jobs { done.signal() }
                })
            }
        }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        var started = 0
        let read = DispatchSemaphore(value: 0)
        loop.execute { started = scheduler.runnersStarted; read.signal() }
        read.wait()
        XCTAssertEqual(Set(log.entries).count, jobs, "every job completes exactly once")
        XCTAssertTrue(log.entries.allSatisfy { $0.hasSuffix(" true") })
        XCTAssertGreaterThanOrEqual(started, 1)
        XCTAssertLessThanOrEqual(started, scheduler.threadsPerOwner, "one pool submission per runner, not per job")
        stop(loop, thread)
    }

    /// A job that blocks holds only its own runner: the owner's next jobs, queued while it blocks
    /// (in the same loop iteration or later), get another pool thread and complete first.
    func testABlockingJobDoesNotHoldUpItsOwnersNextJob() throws {
        let (loop, thread) = startLoop()
        let scheduler = OffLoopScheduler(loop: loop, threads: 4, threadsPerOwner: 3)
        let release = DispatchSemaphore(value: 0)
        let blocking = DispatchSemaphore(value: 0)
        let secondDone = DispatchSemaphore(value: 0)
        let allDone = DispatchSemaphore(value: 0)
        let log = CompletionLog()
        loop.execute {
            scheduler.enqueue(owner: "native", work: { blocking.signal(); release.wait() }, after: { _ in
                log.append("blocking")
                allDone.signal()
            })
        }
        XCTAssertEqual(blocking.wait(timeout: .now() + 60), .success)
        loop.execute {
            scheduler.enqueue(owner: "native", work: {}, after: { _ in
                log.append("second")
                secondDone.signal()
            })
        }
        let served = secondDone.wait(timeout: .now() + 60)
        release.signal()
        XCTAssertEqual(served, .success, "the second job must not wait for the blocked one")
        XCTAssertEqual(allDone.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(log.entries, ["second", "blocking"])
        stop(loop, thread)
    }

    /// Jobs queued in the same loop iteration as a job that blocks are not stuck behind it: the
    /// lane's runner blocks in the first job, and the lane gets another runner for the rest.
    func testJobsQueuedTogetherWithABlockingOneGetAnotherThread() throws {
        let (loop, thread) = startLoop()
        let scheduler = OffLoopScheduler(loop: loop, threads: 4, threadsPerOwner: 3)
        let release = DispatchSemaphore(value: 0)
        let quickDone = DispatchSemaphore(value: 0)
        let allDone = DispatchSemaphore(value: 0)
        let log = CompletionLog()
        loop.execute {
            scheduler.enqueue(owner: "native", work: { release.wait() }, after: { _ in
                log.append("blocking")
                allDone.signal()
            })
            for index in 0..<3 {
                scheduler.enqueue(owner: "native", work: {}, after: { _ in
                    log.append("quick \(index)")
                    if log.count == 3 { quickDone.signal() }
                })
            }
        }
        let served = quickDone.wait(timeout: .now() + 60)
        release.signal()
        XCTAssertEqual(served, .success, "the quick jobs must not wait for the blocked one")
        XCTAssertEqual(allDone.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(log.entries, ["quick 0", "quick 1", "quick 2", "blocking"])
        stop(loop, thread)
    }

    private func startLoop() -> (EventLoop, Thread) {
        let loop = EventLoop()
        let started = DispatchSemaphore(value: 0)
        let thread = Thread {
            loop.execute { started.signal() }
            loop.run()
            loop.close()
        }
        thread.start()
        started.wait()
        return (loop, thread)
    }

    private func stop(_ loop: EventLoop, _ thread: Thread) {
        loop.execute { loop.stop() }
        while !thread.isFinished { usleep(1_000) }
    }
}
