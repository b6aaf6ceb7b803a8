import Foundation
import Logging
@testable import PlexusEventLog
@testable import PlexusRuntime
import XCTest

/// Server-Sent Events frames: no value can end a line, and the caches of frames and topic
/// matches are bounded by bytes.
final class SSEEncodingTests: XCTestCase {
    /// A parser that follows the HTML living standard's event-stream interpretation: lines end
    /// at CRLF, CR or LF; an empty line dispatches; `data` lines are joined with LF.
    private func parse(_ bytes: [UInt8]) -> [(fields: [String], event: String?, id: String?, data: String)] {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines: [String] = []
        var current = ""
        var iterator = Array(text.unicodeScalars).makeIterator()
        var pendingCR = false
        while let scalar = iterator.next() {
            if pendingCR {
                pendingCR = false
                if scalar == "\n" { continue }
            }
            if scalar == "\r" || scalar == "\n" {
                lines.append(current)
                current = ""
                pendingCR = scalar == "\r"
            } else {
                current.unicodeScalars.append(scalar)
            }
        }
        var frames: [(fields: [String], event: String?, id: String?, data: String)] = []
        var fields: [String] = [], event: String?, id: String?, data: [String] = []
        for line in lines {
            if line.isEmpty {
                if !fields.isEmpty { frames.append((fields, event, id, data.joined(separator: "\n"))) }
                fields = []; event = nil; id = nil; data = []
                continue
            }
            let name = String(line.prefix { $0 != ":" })
            var value = String(line.dropFirst(name.count))
            if value.hasPrefix(":") { value.removeFirst() }
            if value.hasPrefix(" ") { value.removeFirst() }
            fields.append(name)
            switch name {
            case "event": event = value
            case "id": id = value
            case "data": data.append(value)
            default: break
            }
        }
        return frames
    }

    private func event(topic: String, payload: String, contentType: String = "text/plain") -> EventEnvelope {
        EventEnvelope(id: ULID(high: 1, low: UInt64.random(in: 1...UInt64.max)), topic: topic, source: "t", contentType: contentType, payload: Data(payload.utf8))
    }

    func testATopicWithLineEndingsCannotAddFieldsOrFrames() {
        // Topics are validated at every entry; the encoder must hold even if one slipped through.
        for forged in ["a\nevent: forged\ndata: {}\nid: 0", "a\r\ndata: x\r\n\r\nid: 1", "a\rretry: 1", "a\0b"] {
            let envelope = event(topic: forged, payload: "p")
            let frames = parse(SSEEncoding.frame(for: envelope, format: .standard))
            XCTAssertEqual(frames.count, 1, forged.debugDescription)
            XCTAssertEqual(frames.first?.fields, ["id", "event", "data"], forged.debugDescription)
            XCTAssertEqual(frames.first?.id, envelope.id.description)
            XCTAssertFalse(frames.first?.event?.contains("\n") ?? true)
        }
    }

    func testDataIsSplitOnEveryLineEndingAndJoinsBack() {
        let data = Array("one\r\ntwo\rthree\nfour\n\nsix\r".utf8)
        let frame = SSEEncoding.frame(id: "7", event: "e", data: data)
        let frames = parse(frame)
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(frames.first?.data, "one\ntwo\nthree\nfour\n\nsix\n")
        XCTAssertEqual(frames.first?.fields.filter { $0 == "data" }.count, 7)
        // No line of the frame but the last is empty: nothing can end the frame early.
        let text = String(decoding: frame, as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("\n\n"))
        XCTAssertFalse(text.dropLast(2).contains("\n\n"))
        XCTAssertFalse(text.contains("\r"))
    }

    func testSingleLineFieldsCannotHoldALineEnding() {
        for value in ["a\nb", "a\rb", "a\r\nb", "a\0b", "\n\n"] {
            var frame: [UInt8] = []
            SSEEncoding.field("id", value, into: &frame)
            XCTAssertEqual(frame.filter { $0 == 10 }.count, 1, value.debugDescription)
            XCTAssertFalse(frame.contains(13) || frame.contains(0), value.debugDescription)
        }
    }

    func testMessageFormatPutsTheTopicInTheDataWithNoEventLine() throws {
        let envelope = event(topic: "orders.created", payload: "{\"n\":1}", contentType: "application/json")
        let frames = parse(SSEEncoding.frame(for: envelope, format: .message))
        XCTAssertEqual(frames.count, 1)
        XCTAssertEqual(frames.first?.fields, ["id", "data"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(frames[0].data.utf8)) as? [String: Any])
        XCTAssertEqual(object["topic"] as? String, "orders.created")
        let inner = try XCTUnwrap(object["data"] as? [String: Any])
        XCTAssertEqual(inner["id"] as? String, envelope.id.description)
        XCTAssertEqual((inner["payload"] as? [String: Any])?["n"] as? Int, 1)
    }

    // MARK: Caches bounded by bytes

    func testFrameCacheHoldsAtMostItsBytesWhateverTheFrames() {
        let cache = SSEFrameCache(byteLimit: 2 << 20)
        let payload = String(repeating: "p", count: 100_000)
        for n in 0..<100 {
            let frame = cache.frame(for: event(topic: "big.t\(n)", payload: payload), format: .standard)
            XCTAssertGreaterThan(frame.count, 100_000)
        }
        XCTAssertLessThanOrEqual(cache.bytesHeld, 2 << 20, "100 frames of 100 kB must not be held beyond the limit")
        XCTAssertGreaterThan(cache.bytesHeld, 0)
        // A frame larger than a quarter of the limit is encoded but never kept.
        let huge = SSEFrameCache(byteLimit: 1 << 20)
        _ = huge.frame(for: event(topic: "huge", payload: String(repeating: "h", count: 400_000)), format: .standard)
        XCTAssertEqual(huge.bytesHeld, 0)
    }

    func testMatchCacheHoldsAtMostItsBytesAfterManyDistinctLongTopics() throws {
        let loop = EventLoop()
        let bus = EventBus(loop: loop, logger: Logger(label: "test"), matchCacheBytes: 256 << 10)
        _ = bus.subscribe(try TopicPattern("#"), owner: "all", queueLimit: 1) { _ in }
        _ = bus.subscribe(try TopicPattern("+.#"), owner: "all2", queueLimit: 1) { _ in }
        let segment = String(repeating: "s", count: TopicGrammar.maxSegmentBytes)
        for n in 0..<20_000 {
            let topic = "\(n).\(segment).\(segment).\(segment)"
            bus.fanOut(EventEnvelope(id: ULID(high: 2, low: UInt64(n + 1)), topic: topic, source: "t"))
            XCTAssertLessThanOrEqual(bus.matchCacheBytes, 256 << 10, "after \(n + 1) topics")
        }
        XCTAssertGreaterThan(bus.matchCacheBytes, 128 << 10, "the cache is used, not emptied")
        XCTAssertLessThanOrEqual(bus.matchCacheBytes, 256 << 10)
    }

    func testRememberedMatchesAreForgottenWhenSubscriptionsChange() throws {
        let loop = EventLoop()
        let bus = EventBus(loop: loop, logger: Logger(label: "test"))
        var seen: [String] = []
        /// Publishes on `orders.eu` and runs the loop until the bus has drained.
        func publish(_ n: UInt64) {
            bus.fanOut(EventEnvelope(id: ULID(high: 3, low: n), topic: "orders.eu", source: "t"))
            loop.execute { loop.execute { loop.stop() } }
            loop.run()
        }
        let first = bus.subscribe(try TopicPattern("orders.#"), owner: "first") { _ in seen.append("first") }
        publish(1)
        // The same topic again, now with a second subscriber: the remembered match must not hide it.
        _ = bus.subscribe(try TopicPattern("orders.eu"), owner: "second") { _ in seen.append("second") }
        publish(2)
        // And without the first one, once it unsubscribed.
        bus.unsubscribe(first.id)
        publish(3)
        XCTAssertEqual(seen, ["first", "first", "second", "second"])
    }

    func testByteBoundedCacheEvictsOldestFirstAndReplacesInPlace() {
        var cache = ByteBoundedCache<String, Int>(byteLimit: 100)
        XCTAssertTrue(cache.store(1, for: "a", cost: 20))
        XCTAssertTrue(cache.store(2, for: "b", cost: 20))
        XCTAssertTrue(cache.store(3, for: "a", cost: 25))
        XCTAssertEqual(cache.bytesHeld, 45)
        XCTAssertTrue(cache.store(4, for: "c", cost: 25))
        XCTAssertTrue(cache.store(5, for: "d", cost: 25))
        // 45 + 25 + 25 = 95; one more evicts "b" (oldest), not the re-stored "a".
        XCTAssertTrue(cache.store(6, for: "e", cost: 10))
        XCTAssertNil(cache["b"])
        XCTAssertEqual(cache["a"], 3)
        XCTAssertEqual(cache.bytesHeld, 85)
        XCTAssertFalse(cache.store(7, for: "big", cost: 26), "over a quarter of the limit")
        for n in 0..<10_000 { cache.store(n, for: "k\(n % 7)", cost: 1 + n % 20) }
        XCTAssertLessThanOrEqual(cache.bytesHeld, 100)
    }
}
