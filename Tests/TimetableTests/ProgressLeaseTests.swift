import Foundation
import PlexusSDK
import PlexusTesting
@testable import PlexusTimetable
import XCTest

/// The progress timer judges a running job's lease itself (issue 21, "N1"): an owner whose lease
/// was not renewed for ``JobManager/leaseHeldFor`` stops the job at its next progress tick and
/// publishes nothing more, without waiting for the heartbeat's check. The live test
/// `TimetableLeasesOnPostgresTests.testAnOwnerFrozenPastItsLeasePublishesNoProgressWhenItWakes`
/// catches a missing check only when an improvement happens to be pending at the wake and the
/// progress timer is due before the heartbeat; here the lease clock is the test's and there is no
/// heartbeat at all (in process, on SQLite, with leases held as on PostgreSQL), so only the
/// progress timer can stop the job: without its check the job runs on, every time.
final class ProgressLeaseTests: XCTestCase {
    /// A lease clock the test moves: the process's uptime plus a skew.
    final class SkewedClock: @unchecked Sendable {
        private let lock = NSLock()
        private var skew = 0.0
        func advance(_ seconds: Double) { lock.withLock { skew += seconds } }
        var now: Double { ProcessInfo.processInfo.systemUptime + lock.withLock { skew } }
    }

    @PluginActor
    private static func holdLeases(_ manager: JobManager, clock: SkewedClock) {
        manager.leasesOnAnyStorage = true
        manager.leaseClock = { clock.now }
    }

    @PluginActor
    private func progress(_ host: TestHost<TimetablePlugin>, of id: String) async -> Int {
        await host.events(matching: "timetable.job.progress").filter { event in
            ((try? JSONSerialization.jsonObject(with: Data(event.payload))) as? [String: Any])?["id"] as? String == id
        }.count
    }

    func testTheProgressTimerStopsAJobWhoseLeaseWasNotRenewedForItsHeldTime() async throws {
        let host = try await TestHost.start(TimetablePlugin.self)
        try await stopsAtTheNextTick(host)
    }

    @PluginActor
    private func stopsAtTheNextTick(_ host: TestHost<TimetablePlugin>) async throws {
        let clock = SkewedClock()
        Self.holdLeases(host.plugin.manager, clock: clock)
        let caller = TestCaller("planner", tenant: "acme")
        let accepted = try await host.send(.post, TimetableHarness.jobs, json: [
            "format": AnyEncodable.text("itc2007"), "instance": .text(Instances.larger()), "time_limit_seconds": .number(60), "seed": .number(3),
        ], caller: caller)
        XCTAssertEqual(accepted.status, 202, accepted.text)
        let id = try XCTUnwrap(try TimetableHarness.json(accepted)["id"] as? String)
        // It runs and publishes progress while its lease is fresh.
        for _ in 0..<400 where await progress(host, of: id) == 0 { try await Task.sleep(for: .milliseconds(50)) }
        let fresh = await progress(host, of: id)
        XCTAssertGreaterThan(fresh, 0, "progress while the lease is fresh")
        XCTAssertFalse(host.log.records.contains { $0.contains("lease lost") })

        // No renewal for the held time (no heartbeat runs here): the next progress tick stops it.
        clock.advance(JobManager.leaseHeldFor + 1)
        var stopped = false
        for _ in 0..<100 where !stopped {
            stopped = host.log.records.contains { $0.contains("lease lost") && $0.contains("this process was frozen") }
            if !stopped { try await Task.sleep(for: .milliseconds(20)) }
        }
        XCTAssertTrue(stopped, "the progress timer stopped the job within 2 s: \(host.log.records.filter { $0.contains(id) })")
        let atStop = await progress(host, of: id)
        try await Task.sleep(for: .seconds(1))  // four more ticks
        let after = await progress(host, of: id)
        XCTAssertEqual(after, atStop, "no progress after the job stopped")
        let finished = await host.events(matching: "timetable.job.finished")
        XCTAssertEqual(finished.count, 0, "the job was not ended here")
        await host.stop()
    }
}
