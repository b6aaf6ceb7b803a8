import Foundation
import XCTest
@testable import PlexusEventLog

final class ReplayRetentionTests: XCTestCase {
    func testReplaySinceIdAndTime() throws {
        let clock = ManualClock()
        let log = try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path,
                                            configuration: EventLogConfiguration(clock: clock.function))
        defer { log.closeSync() }
        let early = try (0..<3).map { try log.appendSync("metrics.cpu", "e\($0)").id }
        clock.advance(10)
        let cut = clock.date
        let late = try (0..<3).map { try log.appendSync($0 == 1 ? "other.topic" : "metrics.mem", "l\($0)").id }

        let all = try waitFor { log.events(matching: pattern("metrics.#"), limit: 100, completion: $0) }
        XCTAssertEqual(all.map(\.id), early + [late[0], late[2]])
        XCTAssertEqual(all.map(\.id), all.map(\.id).sorted())

        let afterID = try waitFor { log.events(matching: pattern("#"), since: .id(early[1]), limit: 100, completion: $0) }
        XCTAssertEqual(afterID.map(\.id), [early[2]] + late, "since id is exclusive")

        let sinceTime = try waitFor { log.events(matching: pattern("#"), since: .time(cut), limit: 100, completion: $0) }
        XCTAssertEqual(sinceTime.map(\.id), late, "since time is inclusive")

        let limited = try waitFor { log.events(matching: pattern("+.+"), limit: 2, completion: $0) }
        XCTAssertEqual(limited.map(\.id), Array(early.prefix(2)))

        // A group started at a time receives the same events.
        try waitFor { log.createGroup("g", pattern: pattern("#"), startAt: .time(cut), completion: $0) }
        XCTAssertEqual(try waitFor { log.fetch(group: "g", max: 10, completion: $0) }.map(\.event.id), late)
        XCTAssertEqual(awaitError { log.events(matching: pattern("#"), limit: 0, completion: $0) }, .invalidArgument)
    }

    func testRetentionByCount() throws {
        let log = try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path,
                                            configuration: EventLogConfiguration(retention: RetentionPolicy(maxCount: 10, interval: .seconds(3600))))
        defer { log.closeSync() }
        let ids = try (0..<25).map { try log.appendSync("r.c", "\($0)").id }
        XCTAssertEqual(try waitFor { log.runMaintenance(completion: $0) }, 15)
        let left = try waitFor { log.events(matching: pattern("#"), limit: 100, completion: $0) }
        XCTAssertEqual(left.map(\.id), Array(ids.suffix(10)))
        XCTAssertEqual(try waitFor { log.runMaintenance(completion: $0) }, 0)
    }

    func testRetentionByAgeWinsOverConsumers() throws {
        let clock = ManualClock()
        let log = try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path,
                                            configuration: EventLogConfiguration(retention: RetentionPolicy(maxAge: .seconds(60), interval: .seconds(3600)), clock: clock.function))
        defer { log.closeSync() }
        try waitFor { log.createGroup("slow", pattern: pattern("#"), startAt: .beginning, completion: $0) }
        let old = try log.appendSync("r.a", "old")
        XCTAssertEqual(try waitFor { log.fetch(group: "slow", max: 1, completion: $0) }.map(\.event.id), [old.id])
        let older = try log.appendSync("r.a", "older-unfetched")
        clock.advance(120)
        let fresh = try log.appendSync("r.a", "fresh")
        XCTAssertEqual(try waitFor { log.runMaintenance(completion: $0) }, 2)
        XCTAssertEqual(try waitFor { log.events(matching: pattern("#"), limit: 10, completion: $0) }.map(\.id), [fresh.id])
        // The group skips what retention deleted: the in-flight and the unfetched old events.
        XCTAssertEqual(awaitError { log.ack(group: "slow", id: old.id, completion: $0) }, .notInFlight)
        clock.advance(3600)
        XCTAssertEqual(try waitFor { log.fetch(group: "slow", max: 10, completion: $0) }.map(\.event.id), [fresh.id])
        _ = older
    }

    func testRetentionBySizeAndPeriodically() throws {
        let configuration = EventLogConfiguration(retention: RetentionPolicy(maxBytes: 10 * 1024, interval: .milliseconds(50)))
        let log = try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path, configuration: configuration)
        defer { log.closeSync() }
        let payload = String(repeating: "z", count: 1000)
        for _ in 0..<40 { try log.appendSync("r.s", payload) }
        // The writer applies the policy by itself every 50 ms; a pass may run while appends are
        // still arriving, so wait until a pass has run after the last append.
        let deadline = Date().addingTimeInterval(10)
        var left = try waitFor { log.events(matching: pattern("#"), limit: 100, completion: $0) }
        while left.count > 10 && Date() < deadline {
            usleep(20_000)
            left = try waitFor { log.events(matching: pattern("#"), limit: 100, completion: $0) }
        }
        XCTAssertGreaterThan(left.count, 5)
        XCTAssertLessThanOrEqual(left.count, 10, "about 10 KiB of ~1.1 KiB events")
        XCTAssertEqual(left.count + log.statistics.deletedByRetention, 40)
    }
}
