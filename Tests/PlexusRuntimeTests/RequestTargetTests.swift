@testable import PlexusRuntime
import XCTest

/// The strict request-target parser: a table of targets and what each gives or why it is refused.
final class RequestTargetTests: XCTestCase {
    private func parse(_ target: String, _ method: String = "GET") -> Result<RequestTarget, RequestTargetError> {
        Array(target.utf8).withUnsafeBytes { bytes in
            do throws(RequestTargetError) { return .success(try RequestTarget.parse(bytes, method: method)) } catch { return .failure(error) }
        }
    }

    private func target(_ form: RequestTarget.Form, _ rawPath: String, _ path: String, _ query: String = "", authority: String = "") -> RequestTarget {
        RequestTarget(form: form, rawPath: rawPath, path: path, query: query, authority: authority)
    }

    func testAcceptedTargets() {
        let table: [(method: String, target: String, expected: RequestTarget)] = [
            ("GET", "/", target(.origin, "/", "/")),
            ("GET", "/api/v1/hello/x", target(.origin, "/api/v1/hello/x", "/api/v1/hello/x")),
            ("GET", "/a?b=c&d=e", target(.origin, "/a", "/a", "b=c&d=e")),
            ("GET", "/a?", target(.origin, "/a", "/a", "")),
            ("GET", "/a?x=/y?z", target(.origin, "/a", "/a", "x=/y?z")),
            ("GET", "/a%20b/%C3%A9", target(.origin, "/a%20b/%C3%A9", "/a b/é")),
            ("GET", "/greet/a%2Fb", target(.origin, "/greet/a%2Fb", "/greet/a/b")),
            ("GET", "/q?topic=a.%23.b", target(.origin, "/q", "/q", "topic=a.%23.b")),
            ("GET", "/a//b/", target(.origin, "/a//b/", "/a//b/")),
            ("GET", "/.well-known/x", target(.origin, "/.well-known/x", "/.well-known/x")),
            ("GET", "/a/.../b", target(.origin, "/a/.../b", "/a/.../b")),
            ("GET", "/a/..b/.c", target(.origin, "/a/..b/.c", "/a/..b/.c")),
            ("GET", "/~u/!$&'()*+,;=:@", target(.origin, "/~u/!$&'()*+,;=:@", "/~u/!$&'()*+,;=:@")),
            ("GET", "/a|b^[c]", target(.origin, "/a|b^[c]", "/a|b^[c]")),
            ("GET", "/s?f={a}|[b]^\\`", target(.origin, "/s", "/s", "f={a}|[b]^\\`")),
            ("OPTIONS", "*", target(.asterisk, "*", "*")),
            ("OPTIONS", "/x", target(.origin, "/x", "/x")),
            ("GET", "http://h/p?q", target(.absolute, "/p", "/p", "q", authority: "h")),
            ("GET", "HTTPS://Example.com:8443/a%2Fb", target(.absolute, "/a%2Fb", "/a/b", authority: "Example.com:8443")),
            ("GET", "http://h", target(.absolute, "/", "/", authority: "h")),
            ("GET", "http://h?x=1", target(.absolute, "/", "/", "x=1", authority: "h")),
            ("GET", "http://[::1]:80/x", target(.absolute, "/x", "/x", authority: "[::1]:80")),
            ("GET", "http://127.0.0.1/", target(.absolute, "/", "/", authority: "127.0.0.1")),
            ("CONNECT", "example.com:443", target(.authority, "", "", authority: "example.com:443")),
            ("CONNECT", "[::1]:8080", target(.authority, "", "", authority: "[::1]:8080")),
        ]
        for (method, text, expected) in table {
            XCTAssertEqual(try parse(text, method).get(), expected, "\(method) \(text)")
        }
    }

    func testRefusedTargets() {
        let table: [(method: String, target: String, mentions: String)] = [
            ("GET", "", "empty"),
            // Controls, spaces, non-ASCII.
            ("GET", "/a\u{1}b", "0x01"),
            ("GET", "/a\u{7f}", "0x7F"),
            ("GET", "/a b", "0x20"),
            ("GET", "/a\tb", "0x09"),
            ("GET", "/caf\u{e9}", "0xC3"),
            ("GET", "/a?b c", "0x20"),
            ("GET", "/a?\u{0}", "0x00"),
            // Fragments.
            ("GET", "/a#b", "fragment"),
            ("GET", "/a?b#c", "fragment"),
            ("GET", "/#", "fragment"),
            // Characters that must be escaped in a path.
            ("GET", "/a\\b", "'\\'"),
            ("GET", "/a\"b", "'\"'"),
            ("GET", "/a<b>", "'<'"),
            ("GET", "/a{b}", "'{'"),
            ("GET", "/a`b", "'`'"),
            ("GET", "/a?b<c", "'<'"),
            // Percent-encodings.
            ("GET", "/a%zz", "two hex digits"),
            ("GET", "/a%4", "two hex digits"),
            ("GET", "/a%", "two hex digits"),
            ("GET", "/a%4/b", "two hex digits"),
            ("GET", "/a?x=%g0", "two hex digits"),
            ("GET", "/a?x=%", "two hex digits"),
            ("GET", "/nul%00", "NUL"),
            ("GET", "/bad%ff", "UTF-8"),
            ("GET", "/bad%C3", "UTF-8"),
            // Dot-segments, plain and escaped, anywhere in the path.
            ("GET", "/..", "dot-segment"),
            ("GET", "/../etc/passwd", "dot-segment"),
            ("GET", "/a/../b", "dot-segment"),
            ("GET", "/a/./b", "dot-segment"),
            ("GET", "/a/.", "dot-segment"),
            ("GET", "/a/..?x", "dot-segment"),
            ("GET", "/a/%2e%2e/b", "dot-segment"),
            ("GET", "/a/%2E%2E", "dot-segment"),
            ("GET", "/a/.%2e/b", "dot-segment"),
            ("GET", "/a/%2e./b", "dot-segment"),
            ("GET", "/a/%2e/b", "dot-segment"),
            ("GET", "http://h/a/../b", "dot-segment"),
            // Forms in the wrong place.
            ("GET", "*", "only for OPTIONS"),
            ("OPTIONS", "*x", "asterisk"),
            ("GET", "example.com:443", "absolute"),
            ("GET", "ftp://h/x", "absolute"),
            ("GET", "http:/h/x", "absolute"),
            ("GET", "http//h/x", "absolute"),
            ("GET", "http:///x", "empty"),
            ("GET", "http://u@h/x", "userinfo"),
            ("GET", "http://u:p@h/x", "userinfo"),
            ("GET", "http://h:x/", "port"),
            ("GET", "http://h:123456/", "port"),
            ("GET", "http://:80/", "no host"),
            ("GET", "http://[::1/", "']'"),
            ("GET", "http://h!<>/", "'<'"),
            ("CONNECT", "/x", "host:port"),
            ("CONNECT", "example.com", "host:port"),
            ("CONNECT", "example.com:", "host:port"),
            ("CONNECT", "http://example.com:443/", "host:port"),
        ]
        for (method, text, mentions) in table {
            switch parse(text, method) {
            case .success(let parsed):
                XCTFail("\(method) \(text) was accepted as \(parsed)")
            case .failure(let error):
                XCTAssertEqual(error.status, 400, "\(method) \(text)")
                XCTAssertTrue(error.detail.contains(mentions), "\(method) \(text): '\(error.detail)' does not mention '\(mentions)'")
            }
        }
    }

    func testAPathStartingWithTwoSlashesIsAPathNotAnAuthority() {
        // `//h/x` is origin-form (an empty first segment), never a network-path reference.
        XCTAssertEqual(try parse("//h/x").get(), target(.origin, "//h/x", "//h/x"))
    }
}
