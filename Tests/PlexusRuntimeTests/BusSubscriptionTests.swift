import Foundation
@testable import PlexusEventLog
@testable import PlexusRuntime
import XCTest

final class BusSubscriptionTests: XCTestCase {
    private func event(_ name: String, priority: Int) -> EventEnvelope {
        EventEnvelope(topic: "t.\(name)", source: "test", priority: priority)
    }

    private func subscription(limit: Int, overflow: BusSubscription.Overflow, into delivered: @escaping (String) -> Void) throws -> BusSubscription {
        BusSubscription(id: 1, pattern: try TopicPattern("t.+"), owner: "test", limit: limit, overflow: overflow) { delivered($0.topic) }
    }

    func testPriorityOrderThenArrival() throws {
        var seen: [String] = []
        let queue = try subscription(limit: 10, overflow: .dropOldest) { seen.append($0) }
        queue.enqueue(event("a", priority: 0))
        queue.enqueue(event("b", priority: 5))
        queue.enqueue(event("c", priority: 0))
        queue.enqueue(event("d", priority: 5))
        _ = queue.drain(budget: 10)
        XCTAssertEqual(seen, ["t.b", "t.d", "t.a", "t.c"])
    }

    func testDropOldestDropsByArrivalNotPriority() throws {
        var seen: [String] = []
        let queue = try subscription(limit: 2, overflow: .dropOldest) { seen.append($0) }
        XCTAssertEqual(queue.enqueue(event("old-low", priority: 0)), .queued)
        XCTAssertEqual(queue.enqueue(event("high", priority: 9)), .queued)
        XCTAssertEqual(queue.enqueue(event("new-low", priority: 0)), .queuedDroppingOldest)
        _ = queue.drain(budget: 10)
        XCTAssertEqual(seen, ["t.high", "t.new-low"], "the oldest arrival is dropped, the high-priority event is kept")
        XCTAssertEqual(queue.dropped, 1)
    }

    func testDropNewestKeepsTheQueue() throws {
        var seen: [String] = []
        let queue = try subscription(limit: 1, overflow: .dropNewest) { seen.append($0) }
        XCTAssertEqual(queue.enqueue(event("first", priority: 0)), .queued)
        XCTAssertEqual(queue.enqueue(event("second", priority: 9)), .dropped)
        _ = queue.drain(budget: 10)
        XCTAssertEqual(seen, ["t.first"])
    }
}
