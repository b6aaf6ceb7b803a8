import Foundation
import PlexusSDK
import PlexusTesting
import XCTest

/// The in-memory bus queues live events per subscription as the runtime's bus does: bounded,
/// higher priority first, the overflow policy on a full queue, drops counted.
final class InMemoryBusQueueTests: XCTestCase {
    /// What the subscribers saw of one burst of events published in one turn of the loop.
    struct Outcome: Sendable {
        var newest: [String] = [], oldest: [String] = [], unbounded: [String] = []
        var droppedNewest: UInt64 = 0, droppedOldest: UInt64 = 0, droppedUnbounded: UInt64 = 0
    }

    @PluginActor
    static func burst() async throws -> Outcome {
        let bus = InMemoryBus(loop: InProcessLoop.shared, source: "queues")
        let box = OutcomeBox()
        let spec = { (limit: Int, overflow: OverflowPolicy) in
            SubscriptionSpec(pattern: "jobs.#", queueLimit: limit, overflow: overflow, group: nil, maxAttempts: 0)
        }
        let newest = try bus.subscribe(spec(3, .dropNewest), .live { box.value.newest.append($0.topic) })
        let oldest = try bus.subscribe(spec(3, .dropOldest), .live { box.value.oldest.append($0.topic) })
        let unbounded = try bus.subscribe(spec(0, .dropOldest), .live { box.value.unbounded.append($0.topic) })
        // One turn of the loop: nothing is delivered before the burst ends.
        for (topic, priority) in [("jobs.a", 0), ("jobs.b", 5), ("jobs.c", 0), ("jobs.d", 9), ("jobs.e", 1)] {
            try bus.publishAsClient(EventDraft(topic: topic, payload: [], contentType: "application/octet-stream", tenant: "", priority: priority,
                                               correlationID: nil, causationID: nil, schemaVersion: 1), durable: false)
        }
        XCTAssertEqual(bus.queueDepth(newest), 3)
        XCTAssertEqual(bus.queueDepth(unbounded), 5)
        XCTAssertThrowsError(try bus.subscribe(spec(-1, .dropOldest), .live { _ in }))
        for _ in 0..<200 where box.value.unbounded.count < 5 { try await Task.sleep(for: .milliseconds(10)) }
        box.value.droppedNewest = bus.dropped(newest)
        box.value.droppedOldest = bus.dropped(oldest)
        box.value.droppedUnbounded = bus.dropped(unbounded)
        return box.value
    }

    func testQueuesAreBoundedOrderedByPriorityAndCountDrops() async throws {
        _ = InProcessLoop.shared   // binds the plugin actor to the test loop before any job
        let outcome = try await Self.burst()
        // drop-newest keeps the first three to arrive (a, b, c), delivered by priority.
        XCTAssertEqual(outcome.newest, ["jobs.b", "jobs.a", "jobs.c"])
        XCTAssertEqual(outcome.droppedNewest, 2)
        // drop-oldest drops by arrival whatever the priority: a, then b go; c, d, e remain.
        XCTAssertEqual(outcome.oldest, ["jobs.d", "jobs.e", "jobs.c"])
        XCTAssertEqual(outcome.droppedOldest, 2)
        // The default limit (10,000) takes them all, higher priority first, then arrival.
        XCTAssertEqual(outcome.unbounded, ["jobs.d", "jobs.b", "jobs.e", "jobs.a", "jobs.c"])
        XCTAssertEqual(outcome.droppedUnbounded, 0)
    }
}

@PluginActor
private final class OutcomeBox {
    var value = InMemoryBusQueueTests.Outcome()
}
