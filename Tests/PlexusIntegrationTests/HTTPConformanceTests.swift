import Foundation
import PlexusTesting
import XCTest

/// HTTP/1.1 behaviour of the real server over raw sockets, including malformed input.
final class HTTPConformanceTests: XCTestCase {
    nonisolated(unsafe) private static var shared: TestRuntime?

    private var plexus: TestRuntime {
        get throws {
            if let shared = Self.shared { return shared }
            let started = try Repository.startPlexus(serverSettings: """
                max_body_bytes = 1024
                header_timeout_ms = 600
                max_header_bytes = 4096
                """)
            Self.shared = started
            return started
        }
    }

    override class func tearDown() {
        shared = nil
        super.tearDown()
    }

    private func client() throws -> TestClient { try TestClient(port: try plexus.port) }

    func testKeepAliveServesSeveralRequestsOnOneConnection() throws {
        let client = try client()
        for name in ["a", "b", "c"] {
            try client.send("GET /api/v1/hello/\(name) HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
            let response = try client.readResponse()
            XCTAssertEqual(response.text, "Hello, \(name)!\n")
            XCTAssertNil(response.header("Connection"))
        }
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let client = try client()
        // The slow one first: its answer must still come first.
        try client.send("GET /api/v1/hello/delay/150 HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\nGET /api/v1/hello/second HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\nPOST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Content-Length: 5\r\n\r\nthird")
        XCTAssertEqual(try client.readResponse().text, "waited 150 ms\n")
        XCTAssertEqual(try client.readResponse().text, "Hello, second!\n")
        XCTAssertEqual(try client.readResponse().text, "third")
    }

    func testChunkedRequestBodyIsDecoded() throws {
        let client = try client()
        try client.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nhello\r\n7\r\n, chunk\r\n0\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "hello, chunk")
        XCTAssertEqual(response.header("Content-Type"), "text/plain")
    }

    func testHeadHasLengthButNoBody() throws {
        let client = try client()
        try client.send("HEAD /api/v1/hello/x HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\nGET /api/v1/hello/y HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        let head = try client.readResponse(headOnly: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Length"), "10")
        // If HEAD had leaked a body, this would read it instead of the next response.
        XCTAssertEqual(try client.readResponse().text, "Hello, y!\n")
    }

    func testExpectContinueGetsInterimResponse() throws {
        let client = try client()
        try client.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 100)
        try client.send("ping")
        XCTAssertEqual(try client.readResponse().text, "ping")
    }

    func testDateAndRequestIdHeaders() throws {
        let kept = try plexus.get("/api/v1/hello/x", headers: "X-Request-Id: abc-123.z\r\n")
        XCTAssertEqual(kept.header("X-Request-Id"), "abc-123.z")
        XCTAssertNotNil(kept.header("Date").flatMap { DateFormatter.httpDate.date(from: $0) }, "Date must be an IMF-fixdate")
        let insane = try plexus.get("/api/v1/hello/x", headers: "X-Request-Id: <script>\r\n")
        XCTAssertNotEqual(insane.header("X-Request-Id"), "<script>")
        XCTAssertFalse(insane.header("X-Request-Id")?.isEmpty ?? true)
    }

    func testUnknownPathIs404AndWrongMethodIs405WithAllow() throws {
        let missing = try plexus.get("/nowhere")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.header("Content-Type"), "application/problem+json")
        let problem = try JSONSerialization.jsonObject(with: Data(missing.body)) as! [String: Any]
        XCTAssertEqual(problem["status"] as? Int, 404)
        XCTAssertEqual(problem["detail"] as? String, "no route for /nowhere")
        let client = try client()
        try client.send("DELETE /api/v1/hello HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        let wrong = try client.readResponse()
        XCTAssertEqual(wrong.status, 405)
        XCTAssertEqual(wrong.header("Allow"), "GET, HEAD")
    }

    func testHandlerErrorsBecomeProblemJSON() throws {
        let client = try client()
        try client.send("POST /api/v1/hello/count-words HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Content-Length: 10\r\n\r\n{\"txt\":1}\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(response.header("Content-Type"), "application/problem+json")
        XCTAssertTrue(response.text.contains("missing field 'text'"), response.text)
    }

    func testMalformedRequestLineIs400ThenClose() throws {
        let client = try client()
        try client.send("GARBAGE\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 400)
        XCTAssertTrue(client.readsEOF())
    }

    /// A head that arrives in pieces (the target, a field name and a field value each split
    /// across reads) is put together as sent; one field more than the 100 allowed is a 431 that
    /// names the limit; a field with an empty name is a 400.
    func testHeadInPiecesTooManyFieldsAndAnEmptyFieldName() throws {
        let client = try client()
        let authorization = try plexus.authorized("")
        for piece in ["POST /api/v1/ec", "ho HTTP/1.1\r\nHost: t\r\n\(authorization)Conte", "nt-Ty", "pe: text/pl",
                      "ain; charset=x\r\nContent-Length: 2\r\n\r\nok"] {
            try client.send(piece)
            Thread.sleep(forTimeInterval: 0.02)
        }
        let echoed = try client.readResponse()
        XCTAssertEqual(echoed.status, 200, echoed.text)
        XCTAssertEqual(echoed.header("Content-Type"), "text/plain; charset=x")
        XCTAssertEqual(echoed.text, "ok")

        let crowded = try self.client()
        let fields = (0..<100).map { "X-Field-\($0): v\r\n" }.joined()
        try crowded.send("GET /api/v1/hello HTTP/1.1\r\nHost: t\r\n\(authorization)\(fields)\r\n")
        let refused = try crowded.readResponse()
        XCTAssertEqual(refused.status, 431, refused.text)
        XCTAssertTrue(refused.text.contains("more than 100 header fields"), refused.text)

        let unnamed = try self.client()
        try unnamed.send("GET /api/v1/hello HTTP/1.1\r\nHost: t\r\n: value\r\n\r\n")
        let bad = try unnamed.readResponse()
        XCTAssertEqual(bad.status, 400, bad.text)
        XCTAssertTrue(bad.text.contains("header field name"), bad.text)
    }

    func testHugeHeaderIs431() throws {
        let client = try client()
        try client.send("GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))X-Big: \(String(repeating: "a", count: 40_000))\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 431)
        XCTAssertTrue(client.readsEOF())
    }

    func testLongURLIs414() throws {
        let client = try client()
        try client.send("GET /\(String(repeating: "a", count: 9_000)) HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        XCTAssertEqual(try client.readResponse().status, 414)
    }

    func testBadChunkSizeIs400() throws {
        let client = try client()
        try client.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 400)
        XCTAssertTrue(client.readsEOF())
    }

    func testBodyOverTheLimitIs413() throws {
        let declared = try client()
        try declared.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Content-Length: 5000000\r\n\r\n")
        XCTAssertEqual(try declared.readResponse().status, 413)
        XCTAssertTrue(declared.readsEOF())
        let chunked = try client()
        let chunk = String(repeating: "x", count: 4096)
        try chunked.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Transfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<300 { try? chunked.send("1000\r\n\(chunk)\r\n") }
        XCTAssertEqual(try chunked.readResponse().status, 413)
    }

    func testSlowHeaderIs408() throws {
        let client = try TestClient(port: try plexus.port, timeoutSeconds: 30)
        try client.send("GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))")
        // ... and never finish the head: the header timeout (600 ms here) answers 408.
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408)
        XCTAssertTrue(client.readsEOF())
    }

    func testHTTP10ClosesAfterResponse() throws {
        let client = try client()
        try client.send("GET /api/v1/hello/old HTTP/1.0\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.text, "Hello, old!\n")
        XCTAssertEqual(response.header("Connection"), "close")
        XCTAssertTrue(client.readsEOF())
    }
}

extension DateFormatter {
    static let httpDate: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter
    }()
}

extension HTTPConformanceTests {
    func testBodyToAnUnknownPathGets404ThenCloseAndNothingElse() throws {
        let client = try TestClient(port: try plexus.port, timeoutSeconds: 5)
        try client.send("POST /nowhere HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Content-Length: 5000\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 404)
        XCTAssertTrue(client.readsEOF(), "no stray 408 later: the connection closes after the 404")
    }

    func testUpgradeHeaderOnAPluginRouteGetsOneAnswer() throws {
        let client = try TestClient(port: try plexus.port, timeoutSeconds: 5)
        try client.send("GET /api/v1/hello/up HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.text, "Hello, up!\n")
        XCTAssertTrue(client.readsEOF(), "the upgrade is ignored and nothing else is written")
    }
}

// MARK: Request targets and head framing (strict parsing)

extension HTTPConformanceTests {
    /// Sends `request` on a fresh connection; returns the status and whether the server then closed.
    private func answer(_ request: String) throws -> (status: Int, text: String, closed: Bool) {
        let client = try TestClient(port: try plexus.port, timeoutSeconds: 5)
        try client.send(request)
        let response = try client.readResponse()
        return (response.status, response.text, client.readsEOF())
    }

    func testMalformedRequestTargetsAre400ThenClose() throws {
        let auth = try plexus.authorized("")
        let targets = [
            "/api/v1/hello/x#fragment", "/api/v1/hello/%zz", "/api/v1/hello/%4", "/api/v1/hello/x%",
            "/api/v1/hello/../../admin/plugins", "/api/v1/../admin/plugins", "/api/v1/hello/%2e%2e", "/api/v1/hello/./x",
            "/api/v1/hello/a\\b", "/api/v1/hello/<x>", "/api/v1/hello/nul%00", "/api/v1/hello/%ff",
            "/api/v1/hello/x?a=%g1", "*", "ftp://t/api/v1/hello/x", "http://user@t/api/v1/hello/x",
            "/api/v1/hello/\u{1}", "/api/v1/hello/caf\u{e9}",
        ]
        for target in targets {
            let result = try answer("GET \(target) HTTP/1.1\r\nHost: t\r\n\(auth)\r\n")
            XCTAssertEqual(result.status, 400, "\(target): \(result.text)")
            XCTAssertTrue(result.closed, "\(target): closes after the 400")
        }
    }

    func testAbsoluteFormIsServedWhenItsHostIsTheHostField() throws {
        let auth = try plexus.authorized("")
        let served = try answer("GET http://t/api/v1/hello/abs?x=1 HTTP/1.1\r\nHost: t\r\n\(auth)Connection: close\r\n\r\n")
        XCTAssertEqual(served.status, 200, served.text)
        XCTAssertEqual(served.text, "Hello, abs!\n")
        let mismatched = try answer("GET http://elsewhere/api/v1/hello/abs HTTP/1.1\r\nHost: t\r\n\(auth)\r\n")
        XCTAssertEqual(mismatched.status, 400, mismatched.text)
    }

    func testConnectIsRefusedWith501() throws {
        let result = try answer("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")
        XCTAssertEqual(result.status, 501, result.text)
        XCTAssertTrue(result.closed)
    }

    func testAmbiguousFramingIsRefused() throws {
        let auth = try plexus.authorized("")
        let cases: [(label: String, request: String, status: Int)] = [
            ("Content-Length and Transfer-Encoding", "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            ("two Content-Length fields", "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400),
            ("a Content-Length list", "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: 5, 5\r\n\r\nhello", 400),
            ("a signed Content-Length", "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: +5\r\n\r\nhello", 400),
            ("a coding after chunked", "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400),
            ("a coding before chunked", "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
            ("obs-fold", "GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\n\(auth)X-Folded: a\r\n b\r\n\r\n", 400),
            ("obs-fold after an empty value", "GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\n\(auth)X-Folded:\r\n b\r\n\r\n", 400),
            ("bare LF after the request line", "GET /api/v1/hello/x HTTP/1.1\nHost: t\r\n\(auth)\r\n", 400),
            ("bare LF ending the head", "GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\n\(auth)\n", 400),
            ("bare CR in a field", "GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\n\(auth)X-A: a\rb\r\n\r\n", 400),
            ("an empty field name", "GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\n\(auth): x\r\n\r\n", 400),
            ("a chunk size ending in a bare LF", "POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400),
            ("HTTP/0.9", "GET /api/v1/hello/x\r\n\r\n", 505),
            ("the HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505),
        ]
        for (label, request, status) in cases {
            let result = try answer(request)
            XCTAssertEqual(result.status, status, "\(label): \(result.text)")
            XCTAssertTrue(result.closed, "\(label): closes after the error")
        }
    }

    func testAHeadSplitAcrossReadsIsCheckedWhole() throws {
        // The fold arrives in its own read, right after the line it continues.
        let client = try TestClient(port: try plexus.port, timeoutSeconds: 5)
        try client.send("GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\n\(try plexus.authorized(""))X-Folded: a\r\n")
        usleep(50_000)
        try client.send(" b\r\n\r\n")
        XCTAssertEqual(try client.readResponse().status, 400)
        // A head that is fine, sent a byte at a time, is served.
        let slow = try TestClient(port: try plexus.port, timeoutSeconds: 5)
        for byte in "GET /api/v1/hello/bytes HTTP/1.1\r\nHost: t\r\n\(try plexus.authorized(""))\r\n".utf8 { try slow.send([byte]) }
        XCTAssertEqual(try slow.readResponse().text, "Hello, bytes!\n")
    }

    func testNothingIsReadAfterConnectionClose() throws {
        let auth = try plexus.authorized("")
        let client = try TestClient(port: try plexus.port, timeoutSeconds: 5)
        try client.send("GET /api/v1/hello/first HTTP/1.1\r\nHost: t\r\n\(auth)Connection: close\r\n\r\nGET /api/v1/hello/second HTTP/1.1\r\nHost: t\r\n\(auth)\r\n")
        XCTAssertEqual(try client.readResponse().text, "Hello, first!\n")
        XCTAssertTrue(client.readsEOF(), "the request after `Connection: close` is not answered")
    }
}
