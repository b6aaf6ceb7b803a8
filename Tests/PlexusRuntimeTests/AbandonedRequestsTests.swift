import CPlexusABI
import PlexusPolicy
@testable import PlexusRuntime
import XCTest

/// Requests the runtime gave up on keep their plugin's bulkhead slot until the plugin's late
/// answer (or its stop): the bulkhead bounds work that really runs.
final class AbandonedRequestsTests: XCTestCase {
    func testSlotIsHeldUntilThePluginsLateAnswer() throws {
        let fixture = PipelineFixture.Plugins()
        let (slow, other) = (fixture.plugin("slow"), fixture.plugin("other"))
        let bulkhead = try Bulkhead(maxConcurrent: 2)
        XCTAssertTrue(bulkhead.tryEnter())
        XCTAssertTrue(bulkhead.tryEnter())
        let abandoned = AbandonedRequests(loop: fixture.loop)
        abandoned.add(token: 7, plugin: slow, bulkhead: bulkhead, reason: PLEXUS_ABANDON_DEADLINE)
        abandoned.add(token: 8, plugin: slow, bulkhead: bulkhead, reason: PLEXUS_ABANDON_CLIENT_GONE)
        XCTAssertEqual(abandoned.count, 2)
        XCTAssertFalse(bulkhead.tryEnter(), "both slots still held by work that runs")

        XCTAssertFalse(abandoned.settle(token: 7, plugin: other), "another plugin's answer for the token settles nothing")
        XCTAssertFalse(abandoned.settle(token: 9, plugin: slow), "an unknown token settles nothing")
        XCTAssertEqual(bulkhead.current, 2)
        XCTAssertTrue(abandoned.settle(token: 7, plugin: slow))
        XCTAssertEqual(bulkhead.current, 1)
        XCTAssertFalse(abandoned.settle(token: 7, plugin: slow), "a second answer frees nothing more")
        XCTAssertEqual(bulkhead.current, 1)
        XCTAssertEqual(bulkhead.unmatchedLeaves, 0)
        abandoned.deliver()   // no hook (no descriptor): nothing is called, nothing changes
        XCTAssertEqual(abandoned.count, 1)
    }

    func testStoppedPluginGivesBackEverySlot() throws {
        let fixture = PipelineFixture.Plugins()
        let (slow, other) = (fixture.plugin("slow"), fixture.plugin("other"))
        let bulkhead = try Bulkhead(maxConcurrent: 3)
        for _ in 0..<3 { XCTAssertTrue(bulkhead.tryEnter()) }
        let abandoned = AbandonedRequests(loop: fixture.loop)
        abandoned.add(token: 1, plugin: slow, bulkhead: bulkhead, reason: PLEXUS_ABANDON_DEADLINE)
        abandoned.add(token: 2, plugin: slow, bulkhead: bulkhead, reason: PLEXUS_ABANDON_DEADLINE)
        abandoned.add(token: 3, plugin: other, bulkhead: bulkhead, reason: PLEXUS_ABANDON_DEADLINE)
        abandoned.release(slow)
        XCTAssertEqual(bulkhead.current, 1)
        XCTAssertEqual(abandoned.count, 1)
        XCTAssertFalse(abandoned.settle(token: 1, plugin: slow), "released already")
        XCTAssertTrue(abandoned.settle(token: 3, plugin: other))
        XCTAssertEqual(bulkhead.current, 0)
    }

    func testRequestWithoutGatewayHoldsNoSlot() {
        let fixture = PipelineFixture.Plugins()
        let plugin = fixture.plugin("plain")
        let abandoned = AbandonedRequests(loop: fixture.loop)
        abandoned.add(token: 1, plugin: plugin, bulkhead: nil, reason: PLEXUS_ABANDON_CLIENT_GONE)
        XCTAssertTrue(abandoned.settle(token: 1, plugin: plugin))
        XCTAssertEqual(abandoned.count, 0)
    }
}
