import Foundation
import PlexusPolicy
import XCTest

final class JSONValueTests: XCTestCase {
    func testParsesEveryKindOfValue() throws {
        let value = try JSONValue(parsing: #"{"a": [1, 2.5, true, false, null, "x"], "b": {"c": -3}}"#)
        XCTAssertEqual(
            value,
            .object(["a": .array([.number(1), .number(2.5), .bool(true), .bool(false), .null, .string("x")]),
                     "b": .object(["c": .number(-3)])]))
        XCTAssertEqual(value["b"]?["c"], .number(-3))
        XCTAssertNil(value["missing"])
    }

    func testSerializesWithSortedKeysAndExactNumbers() throws {
        let value: JSONValue = ["z": 1, "a": [0.5, -2, 1e21], "m": ["q": "quote \" backslash \\ newline \n tab \t \u{01} é"]]
        let text = String(decoding: value.serialized(), as: UTF8.self)
        XCTAssertEqual(text, #"{"a":[0.5,-2,1e+21],"m":{"q":"quote \" backslash \\ newline \n tab \t \u0001 é"},"z":1}"#)
        XCTAssertEqual(try JSONValue(parsing: value.serialized()), value, "round trip")
        let pretty = String(decoding: (["b": [1], "a": [:]] as JSONValue).serialized(pretty: true), as: UTF8.self)
        XCTAssertEqual(pretty, "{\n  \"a\": {},\n  \"b\": [\n    1\n  ]\n}")
    }

    func testInvalidJSONIsATypedError() {
        XCTAssertThrowsError(try JSONValue(parsing: "{\"a\": }")) {
            XCTAssertEqual(($0 as? PolicyError)?.kind, .invalidJSON)
        }
    }

    func testCodableRoundTrip() throws {
        let value: JSONValue = ["type": "object", "required": ["id"], "additionalProperties": false]
        let decoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
        XCTAssertEqual(decoded, value)
    }
}
