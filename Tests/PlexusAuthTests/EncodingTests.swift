import XCTest

@testable import PlexusAuth

/// The strict base64url, JSON and timestamp helpers.
final class EncodingTests: XCTestCase {
    func testBase64URLRoundTripAndStrictness() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let text = Base64URL.encode(bytes)
            XCTAssertFalse(text.contains("="))
            XCTAssertEqual(Base64URL.decode(text.utf8), bytes)
        }
        XCTAssertEqual(Base64URL.encode(Array("hello?>".utf8)), "aGVsbG8_Pg")
        XCTAssertNil(Base64URL.decode("aGVsbG8/Pg".utf8), "'/' is not base64url")
        XCTAssertNil(Base64URL.decode("aGVsbG8_Pg==".utf8), "padding")
        XCTAssertNil(Base64URL.decode("aGVsbG8_P".utf8), "impossible length")
        XCTAssertNil(Base64URL.decode("aGVsbG8_Ph".utf8), "non-zero trailing bits")
        XCTAssertNil(Base64URL.decode("aGVs bG8".utf8), "whitespace")
    }

    func testJSONParser() throws {
        let value = try JSONParser.parse(Array(#" {"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude00\n"], "b": {}} "#.utf8))
        XCTAssertEqual(
            value,
            .object(["a": .array([.number(1), .number(-2500), .bool(true), .null, .string("xé😀\n")]), "b": .object([:])]))
        let invalid = [
            #"{"a":1,"a":2}"#, #"{"a":1,}"#, "[1 2]", "01", "1.", "-", "\"\\ud800\"", "\"\u{01}\"", "tru", "{} {}",
            String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "1e400",
        ]
        for text in invalid {
            XCTAssertThrowsError(try JSONParser.parse(Array(text.utf8)), text)
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xFF, 0x22]), "invalid UTF-8")
    }

    func testTimestamps() {
        XCTAssertEqual(Timestamp.rfc3339(1_795_309_200), "2026-11-22T01:00:00Z")
        XCTAssertEqual(Timestamp.rfc3339(0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(Timestamp.rfc3339(951_782_400.9), "2000-02-29T00:00:00Z")
        XCTAssertEqual(Timestamp.rfc3339(-1), "1969-12-31T23:59:59Z")
    }
}
