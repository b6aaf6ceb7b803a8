import Foundation
import XCTest
@testable import PlexusEventLog

final class GroupCommitTests: XCTestCase {
    func testConcurrentAppendsAreGroupCommittedAndPersisted() throws {
        let path = temporaryDirectory(self).appendingPathComponent("log.sqlite").path
        let log = try EventLog.openBlocking(at: path)
        let threads = 8
        let perThread = 250
        let lock = NSLock()
        nonisolated(unsafe) var receipts: [AppendReceipt] = []
        nonisolated(unsafe) var failures: [EventLogError] = []
        let group = DispatchGroup()
        for thread in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                // Each thread fires its appends without waiting, then waits for all of them.
                let done = DispatchGroup()
                for n in 0..<perThread {
                    done.enter()
                    log.append(EventEnvelope(topic: "load.t\(thread)", source: "tests", payload: Data("\(thread)-\(n)".utf8))) { result in
                        lock.lock()
                        switch result {
                        case .success(let receipt): receipts.append(receipt)
                        case .failure(let error): failures.append(error)
                        }
                        lock.unlock()
                        done.leave()
                    }
                }
                done.wait()
                group.leave()
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        let total = threads * perThread
        XCTAssertEqual(failures, [])
        XCTAssertEqual(receipts.count, total)
        XCTAssertEqual(Set(receipts.map(\.id)).count, total)
        let bySequence = receipts.sorted { $0.sequence < $1.sequence }
        XCTAssertEqual(bySequence.map(\.id), bySequence.map(\.id).sorted(), "id order is sequence (commit) order")
        let stats = log.statistics
        XCTAssertEqual(stats.appendedEvents, total)
        XCTAssertLessThan(stats.transactions, total, "group commit: fewer transactions than appends")
        XCTAssertGreaterThan(stats.largestBatch, 1)
        log.closeSync()

        let reopened = try EventLog.openBlocking(at: path)
        let stored = try waitFor { reopened.events(matching: pattern("#"), limit: total + 10, completion: $0) }
        XCTAssertEqual(stored.count, total)
        XCTAssertEqual(Set(stored.map(\.id)), Set(receipts.map(\.id)))
        reopened.closeSync()
    }

    func testInvalidTopicFailsOnlyThatAppend() throws {
        let log = try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path)
        defer { log.closeSync() }
        let error = awaitError { log.append(EventEnvelope(topic: "bad..topic", source: "t"), completion: $0) }
        XCTAssertEqual(error, .invalidTopic)
        XCTAssertNoThrow(try log.appendSync("good.topic"))
    }

    func testEnvelopeFieldsRoundTrip() throws {
        let log = try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path)
        defer { log.closeSync() }
        let time = Date(timeIntervalSince1970: 1_700_000_123.456)
        let original = EventEnvelope(topic: "a.b", source: "plugin", tenant: "acme", time: time, priority: 7,
                                     contentType: "application/json", payload: Data([0, 1, 2, 255]),
                                     correlationID: "corr", causationID: nil, schemaVersion: 3)
        let receipt = try waitFor { log.append(original, completion: $0) }
        let stored = try waitFor { log.events(matching: pattern("a.b"), limit: 10, completion: $0) }
        var expected = original
        expected.id = receipt.id
        XCTAssertEqual(stored, [expected])
        let json = try JSONEncoder().encode(expected)
        XCTAssertEqual(try JSONDecoder().decode(EventEnvelope.self, from: json), expected)
    }

    func testClosedLogRejectsRequests() throws {
        let log = try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path)
        log.closeSync()
        XCTAssertEqual(awaitError { log.append(EventEnvelope(topic: "a", source: "t"), completion: $0) }, .closed)
        XCTAssertEqual(awaitError { log.fetch(group: "g", max: 1, completion: $0) }, .closed)
    }
}
