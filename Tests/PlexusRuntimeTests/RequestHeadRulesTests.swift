@testable import PlexusRuntime
import XCTest

/// RFC 9112 head rules beyond llhttp, the reason phrase table, and routing of escaped slashes.
final class RequestHeadRulesTests: XCTestCase {
    func testVersionsOtherThanHTTP1AreRefusedWith505() {
        XCTAssertEqual(RequestHeadRules.check(major: 9, minor: 9, hostCount: 1)?.status, 505)
        XCTAssertEqual(RequestHeadRules.check(major: 2, minor: 0, hostCount: 1)?.status, 505)
        XCTAssertEqual(RequestHeadRules.check(major: 0, minor: 9, hostCount: 0)?.status, 505)
        XCTAssertNil(RequestHeadRules.check(major: 1, minor: 1, hostCount: 1))
        XCTAssertNil(RequestHeadRules.check(major: 1, minor: 0, hostCount: 1))
    }

    func testHTTP11NeedsExactlyOneHost() {
        XCTAssertEqual(RequestHeadRules.check(major: 1, minor: 1, hostCount: 0)?.status, 400)
        XCTAssertEqual(RequestHeadRules.check(major: 1, minor: 1, hostCount: 2)?.status, 400)
        XCTAssertEqual(RequestHeadRules.check(major: 1, minor: 0, hostCount: 2)?.status, 400)
        XCTAssertNil(RequestHeadRules.check(major: 1, minor: 0, hostCount: 0), "HTTP/1.0 may omit Host")
    }

    func testHeaderNamesMustBeTokens() {
        func token(_ text: String) -> Bool { Array(text.utf8).withUnsafeBytes { RequestHeadRules.isToken($0) } }
        XCTAssertTrue(token("Content-Type"))
        XCTAssertTrue(token("x-a.b_c~!#$%&'*+^`|"))
        for bad in ["", "X Bad", "X-Bad ", " X", "X\tBad", "X:Y", "X(Y)", "X\"Y", "X\u{7f}", "X\u{1}", "X/Y", "Ä"] {
            XCTAssertFalse(token(bad), "'\(bad)' is not a token")
        }
    }

    func testEveryStatusHasARealReasonPhrase() {
        XCTAssertEqual(HTTPReason.phrase(426), "Upgrade Required")
        XCTAssertEqual(HTTPReason.phrase(507), "Insufficient Storage")
        XCTAssertEqual(HTTPReason.phrase(505), "HTTP Version Not Supported")
        XCTAssertEqual(HTTPReason.phrase(299), "Success")
        for status in 100...599 {
            let phrase = HTTPReason.phrase(status)
            XCTAssertFalse(phrase.hasPrefix("Status"), "\(status): '\(phrase)'")
            XCTAssertFalse(phrase.isEmpty, "\(status)")
        }
    }

    func testPathSegmentsAreDecodedAfterSplitting() {
        XCTAssertEqual(PathSegment.decode("a%2Fb"), "a/b")
        XCTAssertEqual(PathSegment.decode("plain"), "plain")
        XCTAssertEqual(PathSegment.decode("%C3%A9t%C3%A9"), "été")
        XCTAssertNil(PathSegment.decode("bad%zz"))
        XCTAssertNil(PathSegment.decode("short%2"))
        XCTAssertNil(PathSegment.decode("nul%00"))
        XCTAssertNil(PathSegment.decode("%ff"))
    }

    func testAnEscapedSlashStaysInsideItsParameter() throws {
        let trie = RouteTrie<String>([
            ("GET", try RoutePattern("/greet/:name"), "greet"),
            ("GET", try RoutePattern("/greet/:name/more"), "more"),
            ("GET", try RoutePattern("/files/*"), "files"),
            ("GET", try RoutePattern("/caf\u{e9}"), "literal"),
        ])
        guard case let .found(target, parameters) = trie.match(method: "GET", path: "/greet/a%2Fb") else { return XCTFail("no match") }
        XCTAssertEqual(target, "greet")
        XCTAssertEqual(parameters.first?.value, "a/b")
        guard case let .found(more, moreParameters) = trie.match(method: "GET", path: "/greet/a%2Fb/more") else { return XCTFail("no match") }
        XCTAssertEqual(more, "more")
        XCTAssertEqual(moreParameters.first?.value, "a/b")
        guard case .notFound = trie.match(method: "GET", path: "/greet/a/b") else { return XCTFail("a real slash is two segments") }
        guard case let .found(files, fileParameters) = trie.match(method: "GET", path: "/files/x%20y/z") else { return XCTFail("no match") }
        XCTAssertEqual(files, "files")
        XCTAssertEqual(fileParameters.first?.value, "x y/z")
        guard case .found("literal", _) = trie.match(method: "GET", path: "/caf%C3%A9") else { return XCTFail("an escaped literal matches") }
    }
}
