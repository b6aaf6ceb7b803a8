@testable import PlexusRuntime
import XCTest

final class HTTPPartsTests: XCTestCase {
    private func decode(_ text: String) -> String? {
        Array(text.utf8).withUnsafeBytes { RequestTarget.percentDecode($0[...]) }
    }

    func testPercentDecoding() {
        XCTAssertEqual(decode("/a%20b/%C3%A9"), "/a b/é")
        XCTAssertEqual(decode("/plain"), "/plain")
        XCTAssertNil(decode("/bad%zz"))
        XCTAssertNil(decode("/short%2"))
        XCTAssertNil(decode("/nul%00"))
        XCTAssertNil(decode("/notutf8%ff"))
    }

    func testRequestIdSanity() {
        func sane(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { RequestIDGenerator.isSane($0) } }
        XCTAssertTrue(sane("abc-123_x.y:z"))
        XCTAssertFalse(sane(""))
        XCTAssertFalse(sane("has space"))
        XCTAssertFalse(sane("<script>"))
        XCTAssertFalse(sane(String(repeating: "a", count: 129)))
        var generator = RequestIDGenerator()
        XCTAssertNotEqual(generator.next(), generator.next())
    }

    func testHTTPDateIsIMFFixdate() {
        XCTAssertEqual(HTTPDate.format(784111777), "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    func testHeaderValidation() {
        func token(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { HTTPResponseEncoder.isToken($0) } }
        func value(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { HTTPResponseEncoder.isFieldValue($0) } }
        XCTAssertTrue(token("X-Custom"))
        XCTAssertFalse(token("Bad Name"))
        XCTAssertFalse(token(""))
        XCTAssertTrue(value("text/plain; charset=utf-8"))
        XCTAssertFalse(value("evil\r\nSet-Cookie: x"))
    }
}
