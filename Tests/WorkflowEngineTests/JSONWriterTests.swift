import WorkflowEngine
import XCTest

/// The byte writer behind `JSON.text` / `JSON.bytes`: escapes, key order, numbers, round trip.
final class JSONWriterTests: XCTestCase {
    func testEscapesSortsAndRoundTrips() throws {
        let value: JSON = .object(["z": .string("quote \" back \\ nl \n cr \r tab \t bell \u{7} nul \u{0} é 日本 🎉"),
                                   "a": .array([.number(3), .number(-2.5), .bool(true), .null, .number(1e300)]), "m": .object([:])])
        let text = value.text
        XCTAssertEqual(text, #"{"a":[3,-2.5,true,null,1e+300],"m":{},"z":"quote \" back \\ nl \n cr \r tab \t bell \u0007 nul \u0000 é 日本 🎉"}"#)
        XCTAssertEqual(value.bytes, Array(text.utf8))
        XCTAssertEqual(JSON.parse(text), value, "what is written parses back to the same value")
        let parsedByFoundation = try JSONSerialization.jsonObject(with: Data(value.bytes)) as? [String: Any]
        XCTAssertEqual(parsedByFoundation?["z"] as? String, value["z"]?.string)
    }
}

/// The stored form of a history entry is the same text as its JSON object's.
final class HistoryEventTextTests: XCTestCase {
    func testTextEqualsTheJSONObjectsText() {
        let events = [
            HistoryEvent(.started, data: .object(["x": .string("a\"b")]), time: 1),
            HistoryEvent(.stepFailed, step: "s\n1", attempt: 2, error: "boom \\ \u{1}", failure: .timeout, name: "n", time: 3),
            HistoryEvent(.timerStarted, step: "t", at: 1_796_596_560_031, time: 4),
            HistoryEvent(.completed, time: 5),
        ]
        for event in events {
            XCTAssertEqual(event.text, event.json.text)
            XCTAssertEqual(JSON.parse(event.text).flatMap(HistoryEvent.init(json:)), event)
        }
    }
}

/// Integers are written digit by digit.
final class JSONIntegerTests: XCTestCase {
    func testIntegersAtTheEdges() {
        for value in [0, 7, -7, 10, -10, 1_796_596_560_031, -9_007_000_000_000_000 + 1, 9_006_999_999_999_999] as [Int64] {
            XCTAssertEqual(JSON.number(Double(value)).text, String(value))
        }
    }
}
