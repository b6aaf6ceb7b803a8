import Foundation
import XCTest
@testable import PlexusEventLog

/// `deadLetterGroups`: every consumer group with its number of dead letters, for the operator console.
final class DeadLetterGroupTests: XCTestCase {
    func testListsEveryGroupWithItsDeadLetterCount() throws {
        let clock = ManualClock()
        let configuration = EventLogConfiguration(
            visibilityTimeout: .seconds(30),
            retry: RetryPolicy(maxAttempts: 1, baseDelay: .seconds(1), maxDelay: .seconds(4), jitter: 0),
            clock: clock.function
        )
        let log = try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path, configuration: configuration)
        defer { log.closeSync() }
        XCTAssertEqual(try waitFor { log.deadLetterGroups(completion: $0) }, [], "no groups yet")
        for name in ["mailer", "billing", "quiet"] {
            try waitFor { log.createGroup(name, pattern: pattern("job.#"), startAt: .beginning, completion: $0) }
        }
        for _ in 0..<3 { _ = try log.appendSync("job.run") }
        // One attempt each: a nack dead-letters at once. billing loses all three, mailer one, quiet none.
        for (group, failures) in [("billing", 3), ("mailer", 1)] {
            let deliveries = try waitFor { log.fetch(group: group, max: 3, completion: $0) }
            XCTAssertEqual(deliveries.count, 3)
            for delivery in deliveries.prefix(failures) {
                try waitFor { log.nack(group: group, id: delivery.event.id, reason: "failed", completion: $0) }
            }
        }
        XCTAssertEqual(try waitFor { log.deadLetterGroups(completion: $0) },
                       [DeadLetterGroup(group: "billing", count: 3), DeadLetterGroup(group: "mailer", count: 1), DeadLetterGroup(group: "quiet", count: 0)])
        // A redrive takes one off the count.
        let first = try waitFor { log.deadLetters(group: "billing", completion: $0) }[0]
        try waitFor { log.redrive(group: "billing", id: first.eventID, completion: $0) }
        XCTAssertEqual(try waitFor { log.deadLetterGroups(completion: $0) }.first, DeadLetterGroup(group: "billing", count: 2))
    }
}
