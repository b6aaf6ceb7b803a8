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

    func testAGeneratedRequestIDIsHeldInlineAndASetOneReplacesIt() {
        var generator = RequestIDGenerator()
        let first = generator.next()
        let context = RequestContext(token: 1, peer: ConnectionPeer(address: "127.0.0.1:1", ip: "127.0.0.1", isLoopback: true))
        context.generateRequestID(&generator)
        let second = context.requestID
        let prefix = first.split(separator: "-")[0]
        XCTAssertEqual(second, "\(prefix)-2", "the same prefix, the next counter")
        XCTAssertEqual(context.withRequestIDBytes { String(decoding: $0, as: UTF8.self) }, second)
        XCTAssertEqual(context.requestIDByteCount, second.utf8.count)
        context.requestID = "client-given.id:1"
        XCTAssertEqual(context.requestID, "client-given.id:1")
        XCTAssertEqual(context.withRequestIDBytes { String(decoding: $0, as: UTF8.self) }, "client-given.id:1")
        XCTAssertEqual(context.requestIDByteCount, 17)
        context.resetContext(token: 2)
        XCTAssertEqual(context.requestID, "")
        XCTAssertEqual(context.requestIDByteCount, 0)
    }

    func testTheLongestGeneratedRequestIDFits() {
        // A counter of 16 hex digits after a prefix of 8: the inline buffer's whole room.
        var bytes: RequestIDGenerator.Bytes = (0, 0, 0, 0)
        var generator = RequestIDGenerator(counter: .max - 1)
        let count = withUnsafeMutableBytes(of: &bytes) { generator.next(into: $0) }
        XCTAssertLessThanOrEqual(count, RequestIDGenerator.longest)
        let text = withUnsafeBytes(of: bytes) { String(decoding: $0[..<count], as: UTF8.self) }
        XCTAssertTrue(text.hasSuffix("-ffffffffffffffff"), text)
    }

    func testHTTPDateIsIMFFixdate() {
        XCTAssertEqual(HTTPDate.format(784111777), "Sun, 06 Nov 1994 08:49:37 GMT")
    }

    func testHeaderValidation() {
        func token(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { RequestHeadRules.isToken($0) } }
        func value(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { HTTPResponseEncoder.isFieldValue($0) } }
        XCTAssertTrue(token("X-Custom"))
        XCTAssertFalse(token("Bad Name"))
        XCTAssertFalse(token(""))
        XCTAssertTrue(value("text/plain; charset=utf-8"))
        XCTAssertFalse(value("evil\r\nSet-Cookie: x"))
    }

    func testOwnedHeaderLengthsComeFromTheNames() {
        let mask = HTTPResponseEncoder.ownedNameLengths
        func owned(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { HTTPResponseEncoder.isOwned($0, lengths: mask) } }
        XCTAssertEqual(mask, HTTPResponseEncoder.ownedHeaders.reduce(UInt64(0)) { $0 | 1 << UInt64($1.count) })
        XCTAssertEqual(mask.nonzeroBitCount, Set(HTTPResponseEncoder.ownedHeaders.map(\.count)).count)
        for name in HTTPResponseEncoder.ownedHeaders.map({ String(decoding: $0, as: UTF8.self) }) {
            XCTAssertTrue(owned(name), name)
            XCTAssertTrue(owned(name.uppercased()), name)
            // Same length, another name: kept.
            XCTAssertFalse(owned(String(repeating: "q", count: name.utf8.count)), name)
            XCTAssertFalse(owned(name + "s"), name)
        }
        XCTAssertTrue(owned("Content-Length") && owned("X-Request-Id") && owned("Transfer-Encoding"))
        XCTAssertFalse(owned("Content-Type") || owned("Set-Cookie") || owned("") || owned(String(repeating: "x", count: 200)))
        // A renamed or added name is covered without touching a length by hand.
        let added = [Array("x-some-much-longer-owned-name".utf8)]
        let addedMask = (HTTPResponseEncoder.ownedHeaders + added).reduce(UInt64(0)) { $0 | 1 << UInt64($1.count) }
        XCTAssertFalse(Array("x-some-much-longer-owned-name".utf8).withUnsafeBytes { HTTPResponseEncoder.isOwned($0, lengths: addedMask) },
                       "the mask only says which lengths to compare; the names decide")
    }
}
