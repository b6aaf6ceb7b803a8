import Foundation
import XCTest
@testable import PlexusEventLog

final class ConsumerGroupTests: XCTestCase {
    var clock = ManualClock()

    func openLog(maxAttempts: Int = 3, retention: RetentionPolicy = RetentionPolicy()) throws -> EventLog {
        clock = ManualClock()
        let configuration = EventLogConfiguration(
            visibilityTimeout: .seconds(30),
            retry: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .seconds(1), maxDelay: .seconds(4), jitter: 0),
            retention: retention,
            clock: clock.function
        )
        return try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path, configuration: configuration)
    }

    func testFetchFiltersByPatternAndAckRemoves() throws {
        let log = try openLog()
        defer { log.closeSync() }
        try waitFor { log.createGroup("billing", pattern: pattern("orders.+.created"), startAt: .beginning, completion: $0) }
        let a = try log.appendSync("orders.eu.created")
        try log.appendSync("orders.eu.cancelled")
        let b = try log.appendSync("orders.us.created")
        let first = try waitFor { log.fetch(group: "billing", max: 10, completion: $0) }
        XCTAssertEqual(first.map(\.event.id), [a.id, b.id])
        XCTAssertEqual(first.map(\.attempt), [1, 1])
        XCTAssertEqual(try waitFor { log.fetch(group: "billing", max: 10, completion: $0) }.count, 0, "in flight: not handed out twice")
        try waitFor { log.ack(group: "billing", id: a.id, completion: $0) }
        try waitFor { log.ack(group: "billing", id: b.id, completion: $0) }
        XCTAssertEqual(awaitError { log.ack(group: "billing", id: a.id, completion: $0) }, .notInFlight)
        clock.advance(3600)
        XCTAssertEqual(try waitFor { log.fetch(group: "billing", max: 10, completion: $0) }.count, 0, "acked events never come back")
        XCTAssertEqual(awaitError { log.fetch(group: "nope", max: 1, completion: $0) }, .groupNotFound)
    }

    func testFetchRespectsMaxAndStartAtEnd() throws {
        let log = try openLog()
        defer { log.closeSync() }
        try log.appendSync("a.old")
        try waitFor { log.createGroup("g", pattern: pattern("a.#"), startAt: .end, completion: $0) }
        let ids = try (0..<5).map { _ in try log.appendSync("a.new").id }
        let first = try waitFor { log.fetch(group: "g", max: 2, completion: $0) }
        let second = try waitFor { log.fetch(group: "g", max: 10, completion: $0) }
        XCTAssertEqual((first + second).map(\.event.id), ids)
        // Re-creating with the same pattern is a no-op, with another pattern an error.
        try waitFor { log.createGroup("g", pattern: pattern("a.#"), completion: $0) }
        XCTAssertEqual(awaitError { log.createGroup("g", pattern: pattern("b.#"), completion: $0) }, .groupExists)
        XCTAssertEqual(awaitError { log.createGroup("bad.name", pattern: pattern("b.#"), completion: $0) }, .invalidArgument)
    }

    func testNackBacksOffExponentiallyThenDeadLetters() throws {
        let log = try openLog(maxAttempts: 3)
        defer { log.closeSync() }
        try waitFor { log.createGroup("worker", pattern: pattern("jobs.#"), startAt: .beginning, completion: $0) }
        let job = try log.appendSync("jobs.resize", "payload-1")

        var delivery = try waitFor { log.fetch(group: "worker", max: 1, completion: $0) }
        XCTAssertEqual(delivery.first?.attempt, 1)
        try waitFor { log.nack(group: "worker", id: job.id, reason: "timeout talking to S3", completion: $0) }
        XCTAssertEqual(awaitError { log.nack(group: "worker", id: job.id, reason: "again", completion: $0) }, .notInFlight)

        // Backoff after attempt 1 is 1 s (base), not yet due at 0.9 s.
        clock.advance(0.9)
        XCTAssertEqual(try waitFor { log.fetch(group: "worker", max: 1, completion: $0) }.count, 0)
        clock.advance(0.2)
        delivery = try waitFor { log.fetch(group: "worker", max: 1, completion: $0) }
        XCTAssertEqual(delivery.first?.attempt, 2)
        XCTAssertEqual(delivery.first?.event.id, job.id)
        try waitFor { log.nack(group: "worker", id: job.id, reason: "still failing", completion: $0) }

        // After attempt 2 the backoff doubles to 2 s.
        clock.advance(1.5)
        XCTAssertEqual(try waitFor { log.fetch(group: "worker", max: 1, completion: $0) }.count, 0)
        clock.advance(0.6)
        delivery = try waitFor { log.fetch(group: "worker", max: 1, completion: $0) }
        XCTAssertEqual(delivery.first?.attempt, 3)
        try waitFor { log.nack(group: "worker", id: job.id, reason: "corrupt image", completion: $0) }

        // Third failure = maxAttempts: dead-lettered with the last reason.
        clock.advance(3600)
        XCTAssertEqual(try waitFor { log.fetch(group: "worker", max: 1, completion: $0) }.count, 0)
        let dead = try waitFor { log.deadLetters(group: "worker", completion: $0) }
        XCTAssertEqual(dead.count, 1)
        XCTAssertEqual(dead.first?.eventID, job.id)
        XCTAssertEqual(dead.first?.attempts, 3)
        XCTAssertEqual(dead.first?.lastReason, "corrupt image")
        XCTAssertEqual(dead.first?.group, "worker")

        // And a dead-letter envelope was appended on deadletter.worker.
        let announced = try waitFor { log.events(matching: pattern("deadletter.worker"), limit: 10, completion: $0) }
        XCTAssertEqual(announced.count, 1)
        XCTAssertEqual(announced.first?.causationID, job.id.description)
        XCTAssertEqual(announced.first?.payload, Data("payload-1".utf8))

        // Redrive: delivered again with a fresh attempt count, then acked.
        try waitFor { log.redrive(group: "worker", id: job.id, completion: $0) }
        XCTAssertEqual(try waitFor { log.deadLetters(group: "worker", completion: $0) }.count, 0)
        delivery = try waitFor { log.fetch(group: "worker", max: 5, completion: $0) }
        XCTAssertEqual(delivery.map(\.event.id), [job.id])
        XCTAssertEqual(delivery.first?.attempt, 1)
        try waitFor { log.ack(group: "worker", id: job.id, completion: $0) }
        XCTAssertEqual(awaitError { log.redrive(group: "worker", id: job.id, completion: $0) }, .deadLetterNotFound)
    }

    func testVisibilityTimeoutCountsAsFailedAttempt() throws {
        let log = try openLog(maxAttempts: 2)
        defer { log.closeSync() }
        try waitFor { log.createGroup("g", pattern: pattern("#"), startAt: .beginning, completion: $0) }
        let event = try log.appendSync("x.y")
        XCTAssertEqual(try waitFor { log.fetch(group: "g", max: 1, visibilityTimeout: .seconds(5), completion: $0) }.count, 1)
        clock.advance(5.5)   // deadline passes: retry scheduled 1 s later
        XCTAssertEqual(try waitFor { log.fetch(group: "g", max: 1, completion: $0) }.count, 0)
        clock.advance(1.1)
        let second = try waitFor { log.fetch(group: "g", max: 1, visibilityTimeout: .seconds(5), completion: $0) }
        XCTAssertEqual(second.first?.attempt, 2)
        clock.advance(6)     // second expiry = maxAttempts: dead letter, via the periodic sweep
        XCTAssertEqual(try waitFor { log.runMaintenance(completion: $0) }, 0)
        let dead = try waitFor { log.deadLetters(group: "g", completion: $0) }
        XCTAssertEqual(dead.map(\.eventID), [event.id])
        XCTAssertEqual(dead.first?.lastReason, "visibility timeout expired")
    }

    func testBackoffPolicyWithJitterStaysWithinBounds() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1), jitter: 0.5)
        for attempt in 1...8 {
            let full = min(1000.0, 100.0 * pow(2, Double(attempt - 1)))
            for _ in 0..<50 {
                let delay = Double(policy.delayMilliseconds(afterAttempt: attempt))
                XCTAssertGreaterThanOrEqual(delay, full * 0.5 - 1)
                XCTAssertLessThanOrEqual(delay, full)
            }
        }
    }

    func testUnackedEventsSurviveReopen() throws {
        let path = temporaryDirectory(self).appendingPathComponent("log.sqlite").path
        var log = try EventLog.openBlocking(at: path)
        try waitFor { log.createGroup("g", pattern: pattern("#"), startAt: .beginning, completion: $0) }
        let a = try log.appendSync("t.a")
        let b = try log.appendSync("t.b")
        let fetched = try waitFor { log.fetch(group: "g", max: 10, completion: $0) }
        XCTAssertEqual(fetched.count, 2)
        try waitFor { log.ack(group: "g", id: a.id, completion: $0) }
        log.closeSync()
        log = try EventLog.openBlocking(at: path)
        defer { log.closeSync() }
        // b was in flight with a 30 s deadline: reopening makes it due at once.
        let again = try waitFor { log.fetch(group: "g", max: 10, completion: $0) }
        XCTAssertEqual(again.map(\.event.id), [b.id])
        XCTAssertEqual(again.first?.attempt, 2)
    }
}
