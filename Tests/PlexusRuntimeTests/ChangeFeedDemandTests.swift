import PlexusEventLog
@testable import PlexusRuntime
import XCTest

/// Which subscriptions need a plugin's PostgreSQL change log (issue 21): every pattern that may
/// match one of its topics `storage.<plugin>.<table>.<operation>`, wildcards included.
final class ChangeFeedDemandTests: XCTestCase {
    private func may(_ pattern: String, _ plugin: String?) throws -> Bool {
        ChangeFeedDemand.mayMatch(try TopicPattern(pattern), plugin: plugin)
    }

    func testPatternsThatMayMatchAPluginsChangeTopics() throws {
        for pattern in ["#", "storage.#", "storage.notes.#", "storage.+.notes.insert", "storage.notes.+.+", "+.notes.items.delete",
                        "storage.notes.items.update", "storage.notes.my.dotted.insert", "+.+.+.+", "storage.notes.+.#"] {
            XCTAssertTrue(try may(pattern, "notes"), pattern)
        }
        for pattern in ["storage.other.#", "storage.notes", "storage.notes.items", "storage.notes.items.upsert", "system.#",
                        "storage.+.+", "orders.>", "notes.#", "+.notes.items.+.+.x"] {
            XCTAssertFalse((try? may(pattern, "notes")) ?? false, pattern)
        }
        XCTAssertTrue(try may("storage.a.b.t.insert", "a.b"), "a plugin name with a dot")
        XCTAssertTrue(try may("storage.+.t.insert", nil), "any plugin")
        XCTAssertFalse(try may("orders.#", nil))
    }

    /// Live subscriptions are counted; a storage stops listening only when none is left, and a
    /// durable pattern keeps it listening.
    func testDemandFollowsSubscriptionsAndDurablePatterns() throws {
        let demand = ChangeFeedDemand()
        let wide = try TopicPattern("storage.#"), narrow = try TopicPattern("storage.notes.items.insert")
        var readies = 0
        demand.subscribed(wide) { _ in readies += 1 }
        demand.subscribed(narrow) { _ in readies += 1 }
        demand.subscribed(narrow) { _ in readies += 1 }
        demand.subscribed(try TopicPattern("orders.#")) { _ in readies += 1 }
        XCTAssertEqual(readies, 4, "no storage in use: ready at once")
        XCTAssertTrue(demand.wants("notes"))
        XCTAssertTrue(demand.wants("other"))
        demand.unsubscribed(wide)
        XCTAssertFalse(demand.wants("other"))
        XCTAssertTrue(demand.wants("notes"))
        demand.unsubscribed(narrow)
        XCTAssertTrue(demand.wants("notes"), "one of the two is left")
        demand.unsubscribed(narrow)
        XCTAssertFalse(demand.wants("notes"))
        demand.durablePatterns = [try TopicPattern("storage.notes.#")]
        XCTAssertTrue(demand.wants("notes"))
        XCTAssertFalse(demand.wants("other"))
    }
}
