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
