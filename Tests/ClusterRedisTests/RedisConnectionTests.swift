import Foundation
import Logging
import PlexusEventLog
@testable import PlexusRuntime
import XCTest

/// The client and the Streams store against a real redis-server, on a real loop, in-process.
final class RedisConnectionTests: XCTestCase {
    private var loop: EventLoop!
    private var thread: Thread!
    private let logger = Logger(label: "cluster-tests")

    override func setUp() {
        loop = EventLoop()
        let loop = loop!
        thread = Thread { loop.run() }
        thread.start()
        while !loop.inLoopThread && loop.ownerThread == nil { usleep(1_000) }
    }

    override func tearDown() {
        let done = DispatchSemaphore(value: 0)
        loop.execute { [loop] in loop!.stop(); done.signal() }
        done.wait()
        while thread.isExecuting { usleep(1_000) }
    }

    /// Runs `body` on the loop and waits (10 s at most) for the value it hands back.
    private func onLoop<T>(what: String = "the loop", seconds: Double = 10, _ body: @escaping (@escaping (T) -> Void) -> Void) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Box<T>()
        loop.execute { body { value in box.value = value; done.signal() } }
        guard done.wait(timeout: .now() + seconds) == .success, let value = box.value else {
            throw Timeout(description: "no answer from \(what) within \(seconds) s")
        }
        return value
    }

    private final class Box<T>: @unchecked Sendable { var value: T? }
    private struct Timeout: Error, CustomStringConvertible { let description: String }

    /// Polls `condition` on the loop until it holds (or `seconds` pass).
    private func eventually(_ seconds: Double = 10, _ condition: @escaping () -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try onLoop({ $0(condition()) }) { return true }
            usleep(20_000)
        }
        return false
    }

    private func settings(_ server: RedisTestServer, claimIdle: UInt64 = 30_000) -> ClusterRedisSettings {
        var settings = try! ClusterRedisSettings(url: server.url)
        settings.claimIdleMilliseconds = claimIdle
        settings.prefix = "t\(UInt32.random(in: 0...UInt32.max)):"
        settings.minBackoffMilliseconds = 20
        settings.maxBackoffMilliseconds = 200
        return settings
    }

    func testCommandsFailFastWhileRedisIsDownAndTheConnectionComesBack() throws {
        let server = try RedisTestServer()
        let connection = RedisConnection(name: "t", settings: settings(server), loop: loop, logger: logger)
        try onLoop { done in connection.start(); done(true) }
        XCTAssertTrue(try eventually { connection.state == .ready }, "never connected")
        let binary: [UInt8] = [0, 13, 10, 255, 42]
        let set: Result<RedisReply, RedisFailure> = try onLoop { done in connection.send([Array("SET".utf8), Array("k".utf8), binary], completion: done) }
        XCTAssertEqual(try set.get(), .status("OK"))
        let get: Result<RedisReply, RedisFailure> = try onLoop { done in connection.send("GET", "k", completion: done) }
        XCTAssertEqual(try get.get(), .bulk(binary))
        let wrong: Result<RedisReply, RedisFailure> = try onLoop { done in connection.send("INCR", "k", completion: done) }
        XCTAssertNotNil(try wrong.get().errorText, "an error reply is a reply")

        server.stop()
        XCTAssertTrue(try eventually { connection.state != .ready }, "the loss was not noticed")
        let refused: Result<RedisReply, RedisFailure> = try onLoop { done in connection.send("GET", "k", completion: done) }
        guard case .failure(let failure) = refused else { return XCTFail("a command while Redis is down succeeded: \(refused)") }
        XCTAssertTrue(failure.unreachable)
        XCTAssertTrue(failure.description.contains("unreachable"), failure.description)

        try server.start()
        XCTAssertTrue(try eventually { connection.state == .ready && connection.connects == 2 }, "never reconnected")
        let again: Result<RedisReply, RedisFailure> = try onLoop { done in connection.send("GET", "k", completion: done) }
        XCTAssertEqual(try again.get(), .bulk(binary), "AOF kept the value across the restart")
        try onLoop { done in connection.close(); done(true) }
    }

    func testAConnectionToNothingFailsFastAndKeepsTrying() throws {
        var settings = ClusterRedisSettings(host: "127.0.0.1", port: try RedisTestServer.freePort())
        settings.minBackoffMilliseconds = 10
        settings.maxBackoffMilliseconds = 50
        let connection = RedisConnection(name: "t", settings: settings, loop: loop, logger: logger)
        try onLoop { done in connection.start(); done(true) }
        let refused: Result<RedisReply, RedisFailure> = try onLoop { done in connection.send("PING", completion: done) }
        guard case .failure(let failure) = refused else { return XCTFail("PING to nothing succeeded") }
        XCTAssertTrue(failure.unreachable)
        XCTAssertTrue(try eventually { connection.lastError.lowercased().contains("refused") }, "reason: \(connection.lastError)")
        try onLoop { done in connection.close(); done(true) }
    }

    func testStreamsStoreHandsEachEventToOneConsumerClaimsAbandonedOnesAndDeadLetters() throws {
        let server = try RedisTestServer()
        let settings = settings(server, claimIdle: 150)
        let connection = RedisConnection(name: "t", settings: settings, loop: loop, logger: logger)
        try onLoop { done in connection.start(); done(true) }
        XCTAssertTrue(try eventually { connection.state == .ready })
        let keys = ClusterKeys(prefix: settings.prefix)
        func store(_ consumer: String) -> RedisStreamStore {
            RedisStreamStore(redis: connection, keys: keys, consumer: consumer, settings: settings, maxAttempts: 3, maxAgeSeconds: 0,
                             loop: loop, logger: logger)
        }
        let a = store("a"), b = store("b")
        let pattern = try TopicPattern("orders.#")
        for consumer in [a, b] {
            let created: Result<Void, EventLogError> = try onLoop { done in consumer.createGroup("g", pattern: pattern, startAt: .end, completion: done) }
            XCTAssertNoThrow(try created.get())
        }
        let other: Result<Void, EventLogError> = try onLoop { done in a.createGroup("g", pattern: try! TopicPattern("x.#"), startAt: .end, completion: done) }
        XCTAssertThrowsError(try other.get(), "the same group with another pattern")
        let badName: Result<Void, EventLogError> = try onLoop { done in a.createGroup("bad name!", pattern: pattern, startAt: .end, completion: done) }
        XCTAssertThrowsError(try badName.get())

        var ids: [ULID] = []
        for n in 0..<10 {
            let topic = n == 4 ? "other.topic" : "orders.n\(n)"
            let receipt: Result<AppendReceipt, EventLogError> = try onLoop { done in
                a.append(EventEnvelope(topic: topic, source: "t", payload: Data("\(n)".utf8)), completion: done)
            }
            ids.append(try receipt.get().id)
        }
        XCTAssertEqual(ids, ids.sorted(), "ids sort in append order")
        let first: Result<[Delivery], EventLogError> = try onLoop { done in a.fetch(group: "g", max: 4, completion: done) }
        let second: Result<[Delivery], EventLogError> = try onLoop { done in b.fetch(group: "g", max: 100, completion: done) }
        let seenA = try first.get().map(\.event.id), seenB = try second.get().map(\.event.id)
        XCTAssertEqual(seenA.count, 4)
        XCTAssertEqual(Set(seenA).intersection(seenB), [], "one consumer per event")
        XCTAssertEqual(Set(seenA + seenB), Set(ids.enumerated().filter { $0.offset != 4 }.map(\.element)), "every matching event, none other")
        for id in seenA {
            let acked: Result<Void, EventLogError> = try onLoop { done in a.ack(group: "g", id: id, completion: done) }
            XCTAssertNoThrow(try acked.get())
        }
        let twice: Result<Void, EventLogError> = try onLoop { done in a.ack(group: "g", id: seenA[0], completion: done) }
        XCTAssertThrowsError(try twice.get(), "an event acked twice")

        // b "dies" with its five deliveries unacked: a claims them once they are idle long enough.
        usleep(400_000)
        let claimed: Result<[Delivery], EventLogError> = try onLoop { done in a.fetch(group: "g", max: 100, completion: done) }
        let reclaimed = try claimed.get()
        XCTAssertEqual(Set(reclaimed.map(\.event.id)), Set(seenB))
        XCTAssertTrue(reclaimed.allSatisfy { $0.attempt == 2 }, "\(reclaimed.map(\.attempt))")
        for delivery in reclaimed.dropFirst() {
            let acked: Result<Void, EventLogError> = try onLoop { done in a.ack(group: "g", id: delivery.event.id, completion: done) }
            XCTAssertNoThrow(try acked.get())
        }
        // The first one keeps failing: nacked, claimed again, and dead-lettered after its third delivery.
        let doomed = reclaimed[0].event.id
        var announced: [EventEnvelope] = []
        try onLoop { done in a.announceDeadLetter = { announced.append($0) }; b.announceDeadLetter = { announced.append($0) }; done(true) }
        let nacked: Result<Void, EventLogError> = try onLoop { done in a.nack(group: "g", id: doomed, reason: "boom", completion: done) }
        XCTAssertNoThrow(try nacked.get())
        var lastAttempt = 2
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            usleep(300_000)
            let due: Result<[Delivery], EventLogError> = try onLoop { done in b.fetch(group: "g", max: 100, completion: done) }
            if let delivery = try due.get().first(where: { $0.event.id == doomed }) {
                lastAttempt = delivery.attempt
                let again: Result<Void, EventLogError> = try onLoop { done in b.nack(group: "g", id: doomed, reason: "boom \(delivery.attempt)", completion: done) }
                XCTAssertNoThrow(try again.get())
            }
            if try onLoop({ $0(announced.count) }) > 0 { break }
        }
        XCTAssertEqual(lastAttempt, 3)
        XCTAssertEqual(try onLoop { $0(announced.map(\.topic)) }, ["deadletter.g"])
        XCTAssertEqual(try onLoop { $0(announced.first?.causationID) }, doomed.description)
        let letters: Result<[DeadLetter], EventLogError> = try onLoop { done in a.deadLetters(group: "g", completion: done) }
        XCTAssertEqual(try letters.get().map(\.eventID), [doomed])
        XCTAssertEqual(try letters.get().first?.attempts, 3)
        XCTAssertEqual(try letters.get().first?.lastReason, "boom 3")

        // Redriven: pending again with a fresh count, delivered (attempt 1) by the next claim, gone from the dead letters.
        let unknown: Result<Void, EventLogError> = try onLoop { done in a.redrive(group: "g", id: ids[0], completion: done) }
        XCTAssertThrowsError(try unknown.get(), "an event that is not a dead letter")
        let redriven: Result<Void, EventLogError> = try onLoop { done in a.redrive(group: "g", id: doomed, completion: done) }
        XCTAssertNoThrow(try redriven.get())
        let again: Result<[Delivery], EventLogError> = try onLoop { done in a.fetch(group: "g", max: 100, completion: done) }
        XCTAssertEqual(try again.get().map(\.event.id), [doomed])
        XCTAssertEqual(try again.get().first?.attempt, 1)
        let emptied: Result<[DeadLetter], EventLogError> = try onLoop { done in a.deadLetters(group: "g", completion: done) }
        XCTAssertEqual(try emptied.get().count, 0)
        let settled: Result<Void, EventLogError> = try onLoop { done in a.ack(group: "g", id: doomed, completion: done) }
        XCTAssertNoThrow(try settled.get())

        // Replay by id and by time, filtered by pattern.
        let after: Result<[EventEnvelope], EventLogError> = try onLoop { done in
            a.events(matching: pattern, since: .id(ids[6]), limit: 100, tenant: nil, completion: done)
        }
        XCTAssertEqual(try after.get().map(\.id), Array(ids[7...]))
        let all: Result<[EventEnvelope], EventLogError> = try onLoop { done in
            a.events(matching: try! TopicPattern("#"), since: .time(Date(timeIntervalSince1970: 0)), limit: 3, tenant: nil, completion: done)
        }
        XCTAssertEqual(try all.get().map(\.id), Array(ids[0..<3]))
        XCTAssertEqual(try all.get().first.map { String(decoding: $0.payload, as: UTF8.self) }, "0")
        // Redis forgets everything (no persistence): the group is made again and new events flow.
        _ = try server.cli("FLUSHALL")
        let lost: Result<[Delivery], EventLogError> = try onLoop { done in a.fetch(group: "g", max: 10, completion: done) }
        XCTAssertThrowsError(try lost.get(), "the group is gone")
        let fresh: Result<AppendReceipt, EventLogError> = try onLoop { done in
            a.append(EventEnvelope(topic: "orders.after", source: "t"), completion: done)
        }
        let recreated: Result<[Delivery], EventLogError> = try onLoop { done in a.fetch(group: "g", max: 10, completion: done) }
        XCTAssertEqual(try recreated.get().map(\.event.id), [try fresh.get().id])
        try onLoop { done in connection.close(); done(true) }
    }

    func testADurablePublishAskingForReplicasThatAreNotThereIsRefused() throws {
        let server = try RedisTestServer()
        var settings = settings(server)
        settings.waitReplicas = 1
        settings.waitTimeoutMilliseconds = 50
        let connection = RedisConnection(name: "t", settings: settings, loop: loop, logger: logger)
        try onLoop { done in connection.start(); done(true) }
        XCTAssertTrue(try eventually { connection.state == .ready })
        let store = RedisStreamStore(redis: connection, keys: ClusterKeys(prefix: settings.prefix), consumer: "a", settings: settings,
                                     maxAttempts: 3, maxAgeSeconds: 0, loop: loop, logger: logger)
        let receipt: Result<AppendReceipt, EventLogError> = try onLoop { done in
            store.append(EventEnvelope(topic: "orders.x", source: "t"), completion: done)
        }
        XCTAssertThrowsError(try receipt.get()) { error in
            XCTAssertTrue("\(error)".contains("only 0 of 1 replicas"), "\(error)")
        }
        try onLoop { done in connection.close(); done(true) }
    }
}
