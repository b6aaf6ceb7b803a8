import Foundation
@testable import PlexusEventLog
@testable import PlexusRuntime
import XCTest

/// The event JSON written byte by byte (SSE frames, WebSocket messages) says what
/// `JSONSerialization` said of the same event, and the payload check agrees with a real parser.
final class EventJSONTests: XCTestCase {
    private func parsed(_ bytes: [UInt8]) throws -> NSDictionary {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary, String(decoding: bytes, as: UTF8.self))
    }

    private func event(_ payload: Data, contentType: String, topic: String = "orders.created", time: Date = Date(),
                       correlation: String? = nil, causation: String? = nil, tenant: String = "") -> EventEnvelope {
        EventEnvelope(id: ULID(high: 0x0123_4567_89AB, low: 0xCDEF), topic: topic, source: "http", tenant: tenant, time: time,
                      priority: -7, contentType: contentType, payload: payload, correlationID: correlation, causationID: causation,
                      schemaVersion: 3)
    }

    func testWrittenEventEqualsTheSerialisedObject() throws {
        let hostile = "quote \" backslash \\ slash / newline \n tab \t bell \u{07} nul \u{00} é 漢字 🎉"
        let events = [
            event(Data(#"{"b": [1, 2.5, -3e2, true, null], "a": {"x": "y"}}"#.utf8), contentType: "application/json"),
            event(Data(#"  "a fragment"  "#.utf8), contentType: "application/json; charset=utf-8"),
            event(Data(#"{"broken": "#.utf8), contentType: "application/json"),
            event(Data(hostile.utf8), contentType: "text/plain; charset=utf-8", correlation: hostile, causation: "c-1", tenant: "acme"),
            event(Data([0xFF, 0xFE, 0x00, 0x41]), contentType: "text/plain"),
            event(Data([0x00, 0x01, 0x80, 0xFF]), contentType: "application/octet-stream", topic: "bin.x"),
            event(Data(), contentType: "application/json"),
        ]
        for event in events {
            let written = EventJSON.bytes(event)
            XCTAssertEqual(try parsed(written), EventJSON.object(event) as NSDictionary, String(decoding: written, as: UTF8.self))
        }
    }

    func testAPublishReceiptNamesTheEvent() throws {
        let event = event(Data("{}".utf8), contentType: "application/json", topic: "a.\"quoted\".b")
        for durable in [true, false] {
            let expected: NSDictionary = ["id": event.id.description, "topic": event.topic, "durable": durable]
            XCTAssertEqual(try parsed(EventJSON.receipt(event, durable: durable)), expected)
        }
    }

    func testTimestampsAreWhatTheISO8601FormatterWrites() {
        var generator = SystemRandomNumberGenerator()
        let edges: [Double] = [0, 0.0005, 0.9995, 0.999_999, 1_767_225_599.999, 951_782_400.5, 4_102_444_800.001, -1.5]
        let times = edges + (0..<2_000).map { _ in Double.random(in: 0...4_102_444_800, using: &generator) }
        for seconds in times {
            let date = Date(timeIntervalSince1970: seconds)
            var written: [UInt8] = []
            JSONText.appendTimestamp(date, to: &written)
            XCTAssertEqual(String(decoding: written, as: UTF8.self), "\"\(ISO8601DateFormatter.withFractions.string(from: date))\"", "\(seconds)")
        }
    }

    func testTheValidatorAgreesWithJSONSerialization() {
        let valid = [
            "0", "-0", "1.5e+10", "-12.25E-3", "true", "null", "\"\"", "\"\\u00e9\\n\\/\"", "[]", "{}", " [1, {\"a\": [null]}] ",
            "{\"é\": \"漢字 🎉\"}", "[[[[[[[[[[]]]]]]]]]]",
        ]
        let invalid = [
            "", " ", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a: 1}", "[1 2]", "\"\\x\"",
            "\"\\u12\"", "\"tab\there\"", "\"open", "[", "{\"a\":1", "1 2", "NaN", "Infinity", "'single'",
        ]
        for text in valid {
            XCTAssertTrue(Data(text.utf8).withUnsafeBytes { JSONValidator.isValid($0) }, text)
            XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]), text)
        }
        for text in invalid {
            XCTAssertFalse(Data(text.utf8).withUnsafeBytes { JSONValidator.isValid($0) }, text)
        }
        // Not UTF-8 inside a string: an overlong form, a surrogate, a stray continuation, a cut sequence.
        for bytes: [UInt8] in [[0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0x80, 0x22], [0x22, 0xE6, 0xBC, 0x22]] {
            XCTAssertFalse(bytes.withUnsafeBytes { JSONValidator.isValid($0) }, "\(bytes)")
        }
        // Nesting past the bound is refused, not recursed into without end.
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        XCTAssertFalse(Data(deep.utf8).withUnsafeBytes { JSONValidator.isValid($0) })
    }

    func testAnSSEFrameCarriesTheEventOnDataLines() throws {
        let event = event(Data("{\n  \"multi\": \"line\"\n}".utf8), contentType: "application/json")
        let frame = String(decoding: SSEEncoding.frame(for: event, format: .standard), as: UTF8.self)
        let data = frame.split(separator: "\n").filter { $0.hasPrefix("data: ") }.map { $0.dropFirst(6) }.joined(separator: "\n")
        XCTAssertEqual(try parsed(Array(data.utf8)), EventJSON.object(event) as NSDictionary)
    }
}
