import Foundation
@testable import PlexusRuntime
import XCTest

/// Each plugin's off-loop work is bounded on the shared pool, and waiting jobs are served in turn.
final class OffLoopSchedulerTests: XCTestCase {
    /// A plugin that fills the pool with long jobs (more than there are threads) does not hold up
    /// another plugin's job: that one completes while every long job is still blocked.
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
