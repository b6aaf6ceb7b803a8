import Foundation
import XCTest
@testable import PlexusEventLog

/// The topic grammar: what a topic or pattern may hold, checked in one place for every entry.
final class TopicGrammarTests: XCTestCase {
    /// Characters that could end an SSE line, split a log line or hide in a topic.
    private let forbidden: [(String, String)] = [
        ("\n", "U+000A"), ("\r", "U+000D"), ("\0", "U+0000"), (" ", "U+0020"), ("\t", "U+0009"),
        ("\u{7F}", "U+007F"), ("\u{85}", "U+0085"), ("\u{A0}", "U+00A0"), ("\u{2028}", "U+2028"),
        ("\u{2029}", "U+2029"), ("\u{200B}", "U+200B"), ("\u{202E}", "U+202E"), ("\u{FEFF}", "U+FEFF"),
    ]

    func testLineEndingsControlsAndWhitespaceAreRefusedNamingCharacterAndPosition() {
        for (character, code) in forbidden {
            let topic = "orders.a\(character)b"
            XCTAssertThrowsError(try Topic.validate(topic), code) { error in
                XCTAssertEqual(error as? EventLogError, .invalidTopic, code)
                let text = "\(error)"
                XCTAssertTrue(text.contains(code) && text.contains("position 9"), text)
                if character != " " {
                    XCTAssertFalse(text.contains(character), "the message must not carry the character itself: \(text)")
                }
            }
            XCTAssertThrowsError(try TopicPattern("orders.\(character).#"), code) { error in
                XCTAssertEqual(error as? EventLogError, .invalidPattern, code)
                XCTAssertTrue("\(error)".contains(code), "\(error)")
            }
        }
        // The SSE forgery of the report: a topic that would add its own fields to a frame.
        XCTAssertThrowsError(try Topic.validate("a\nevent: x\ndata: {}\nid: 0"))
    }

    func testLengthLimitsForTopicSegmentAndSegmentCount() {
        let segment = String(repeating: "s", count: TopicGrammar.maxSegmentBytes)
        let longest = Array(repeating: segment, count: 3).joined(separator: ".") + "." + String(repeating: "t", count: TopicGrammar.maxTopicBytes - 3 * 65)
        XCTAssertEqual(longest.utf8.count, TopicGrammar.maxTopicBytes)
        XCTAssertNoThrow(try Topic.validate(longest))
        XCTAssertNoThrow(try TopicPattern(longest))
        let tooLong = longest + "x"
        XCTAssertThrowsError(try Topic.validate(tooLong)) { XCTAssertTrue("\($0)".contains("257 bytes long; the limit is 256 bytes"), "\($0)") }
        XCTAssertThrowsError(try TopicPattern(tooLong + ".#")) { XCTAssertTrue("\($0)".contains("the limit is 256 bytes"), "\($0)") }
        XCTAssertThrowsError(try Topic.validate("a." + segment + "s")) {
            XCTAssertTrue("\($0)".contains("segment 2 is 65 bytes long; the limit is 64 bytes per segment"), "\($0)")
        }
        // Multi-byte characters count in bytes.
        XCTAssertThrowsError(try Topic.validate(String(repeating: "é", count: 33)))
        let deep = Array(repeating: "a", count: TopicGrammar.maxSegments + 1).joined(separator: ".")
        XCTAssertThrowsError(try Topic.validate(deep)) { XCTAssertTrue("\($0)".contains("17 segments; the limit is 16"), "\($0)") }
        XCTAssertNoThrow(try Topic.validate(Array(repeating: "a", count: TopicGrammar.maxSegments).joined(separator: ".")))
    }

    func testAHugeTopicIsRefusedWithAShortMessage() {
        let huge = String(repeating: "x", count: 1 << 20)
        XCTAssertThrowsError(try Topic.validate(huge)) { error in
            XCTAssertLessThan("\(error)".utf8.count, 400, "the message quotes an excerpt, not the megabyte")
            XCTAssertTrue("\(error)".contains("1048576 bytes long"), "\(error)")
        }
    }

    func testPrintableUnicodeAndPunctuationAreAccepted() {
        for topic in ["café.crème", "tenant-1.orders_eu.created", "a/b.c:d.e@f", "übung.日本.🎉", "x.y$z"] {
            XCTAssertNoThrow(try Topic.validate(topic), topic)
            XCTAssertNoThrow(try TopicPattern(topic), topic)
        }
    }

    func testGroupNamesFitOneSegmentSoTheirDeadLetterTopicIsValid() throws {
        let longest = String(repeating: "g", count: TopicGrammar.maxSegmentBytes)
        XCTAssertNoThrow(try WriterCore.validateGroupName(longest))
        XCTAssertNoThrow(try Topic.validate("deadletter.\(longest)"))
        XCTAssertThrowsError(try WriterCore.validateGroupName(longest + "g")) { XCTAssertTrue("\($0)".contains("1–64"), "\($0)") }
    }

    func testWildcardRulesAreUnchanged() {
        XCTAssertNoThrow(try TopicPattern("a.+.#"))
        XCTAssertThrowsError(try TopicPattern("a.#.b"))
        XCTAssertThrowsError(try TopicPattern("a+"))
        XCTAssertThrowsError(try Topic.validate("a.+"))
    }

    /// A caller confined to a tenant gets full pages of its own events, not a page of the
    /// first events filtered afterwards.
    func testEventsOfOneTenantAreSelectedBeforeTheLimit() throws {
        let log = try EventLog.openBlocking(at: temporaryDirectory(self).appendingPathComponent("log.sqlite").path)
        defer { log.closeSync() }
        for n in 0..<700 {
            _ = try waitFor { log.append(EventEnvelope(topic: "t.e", source: "tests", tenant: "acme", payload: Data("\(n)".utf8)), completion: $0) }
        }
        for n in 0..<3 {
            _ = try waitFor { log.append(EventEnvelope(topic: "t.e", source: "tests", tenant: "globex", payload: Data("g\(n)".utf8)), completion: $0) }
        }
        _ = try log.appendSync("t.e")
        let globex = try waitFor { log.events(matching: pattern("#"), limit: 2, tenant: "globex", completion: $0) }
        XCTAssertEqual(globex.map { String(decoding: $0.payload, as: UTF8.self) }, ["g0", "g1"])
        let none = try waitFor { log.events(matching: pattern("#"), limit: 5, tenant: "", completion: $0) }
        XCTAssertEqual(none.count, 1)
        XCTAssertEqual(none.first?.tenant, "")
        let all = try waitFor { log.events(matching: pattern("#"), limit: 10_000, completion: $0) }
        XCTAssertEqual(all.count, 704)
    }
}
