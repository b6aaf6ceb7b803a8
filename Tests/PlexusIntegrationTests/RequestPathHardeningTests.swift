import Foundation
import PlexusTesting
import XCTest

/// The request path against a hostile client: credentials checked on the head before any body
/// is read, a global budget and a total deadline for request bodies, RFC 9112 head rules,
/// connections that close when the request says so, escaped slashes in parameters.
final class RequestPathHardeningTests: XCTestCase {
    nonisolated(unsafe) private static var shared: TestRuntime?

    /// One runtime for the class: bodies up to 64 KiB per route, 8 KiB for all connections together,
    /// a whole body within 1 s (a stalled one would wait 30 s).
    private var plexus: TestRuntime {
        get throws {
            if let shared = Self.shared { return shared }
            let started = try Repository.startPlexus(serverSettings: """
                max_body_bytes = 65536
                body_budget_bytes = 8192
                body_deadline_ms = 1000
                body_timeout_ms = 30000
                """)
            Self.shared = started
            return started
        }
    }

    override class func tearDown() {
        shared = nil
        super.tearDown()
    }

    private func client() throws -> TestClient { try TestClient(port: try plexus.port, timeoutSeconds: 5) }

    // MARK: Credentials before the body

    func testAnonymousBodyIsRefusedOnTheHeadWithoutWaitingForTheBody() throws {
        // An authenticated route; the body is announced and never sent: 401 comes at once.
        let client = try client()
        try client.send("POST /api/v1/hello/count-words HTTP/1.1\r\nHost: t\r\nContent-Length: 60000\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 401, response.text)
        XCTAssertTrue(client.readsEOF(), "the unread body is not waited for: the connection closes")
        // Invalid credentials likewise.
        let forged = try self.client()
        try forged.send("POST /api/v1/hello/count-words HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer plx_forged\r\nContent-Length: 60000\r\n\r\n")
        XCTAssertEqual(try forged.readResponse().status, 401)
    }

    func testExpectContinueIsOnlySentAfterTheCallerIsAdmitted() throws {
        let anonymous = try client()
        try anonymous.send("POST /api/v1/hello/count-words HTTP/1.1\r\nHost: t\r\nContent-Length: 20\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try anonymous.readResponse().status, 401, "no 100 Continue before the credentials are checked")
        let admitted = try client()
        try admitted.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(try plexus.authorized(""))Content-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try admitted.readResponse().status, 100)
        try admitted.send("ping")
        XCTAssertEqual(try admitted.readResponse().text, "ping")
    }

    // MARK: Body budget and deadline

    func testBodiesBeyondTheGlobalBudgetGet503WithRetryAfter() throws {
        let auth = try plexus.authorized("")
        // The first body holds 6000 of the 8192 budget bytes while it arrives.
        let first = try client()
        try first.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: 6000\r\n\r\n" + String(repeating: "a", count: 100))
        usleep(100_000)
        // A second one that does not fit: 503 with Retry-After, declared or chunked.
        let declared = try client()
        try declared.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: 6000\r\n\r\n")
        let refused = try declared.readResponse()
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertEqual(refused.header("Retry-After"), "1")
        let chunked = try client()
        try chunked.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Transfer-Encoding: chunked\r\n\r\n1000\r\n\(String(repeating: "c", count: 4096))\r\n")
        XCTAssertEqual(try chunked.readResponse().status, 503)
        // The first completes; once answered, its bytes are given back and the next body fits.
        try first.send(String(repeating: "a", count: 5900))
        XCTAssertEqual(try first.readResponse().body.count, 6000)
        let after = try client()
        try after.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: 6000\r\n\r\n" + String(repeating: "b", count: 6000))
        XCTAssertEqual(try after.readResponse().status, 200)
    }

    func testABodyMustArriveWithinTheTotalDeadline() throws {
        // Inactivity alone would allow 30 s; the whole body has 1 s.
        let client = try TestClient(port: try plexus.port, timeoutSeconds: 10)
        try client.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(try plexus.authorized(""))Content-Length: 100\r\n\r\nabc")
        let started = Date()
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 408, response.text)
        XCTAssertTrue(response.text.contains("not complete within 1000 ms"), response.text)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        XCTAssertTrue(client.readsEOF())
    }

    // MARK: Closing when asked

    func testAnswersWrittenBeforeTheBodyStillCloseWhenAsked() throws {
        let requests = [
            ("404 with Connection: close", "GET /nowhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 404),
            ("405 with Connection: close", "DELETE /api/v1/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 405),
            ("404 in HTTP/1.0", "GET /nowhere HTTP/1.0\r\n\r\n", 404),
            ("401 with Connection: close", "GET /admin/plugins HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 401),
        ]
        for (label, request, status) in requests {
            let client = try client()
            try client.send(request)
            XCTAssertEqual(try client.readResponse().status, status, label)
            XCTAssertTrue(client.readsEOF(), "\(label): the socket must close now, not at the idle timeout")
        }
    }

    // MARK: RFC 9112 head rules

    func testMalformedHeadsAreRefused() throws {
        let auth = try plexus.authorized("")
        let cases = [
            ("two Host fields", "GET /api/v1/hello/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\(auth)\r\n", 400),
            ("two Host fields, other case", "GET /api/v1/hello/x HTTP/1.1\r\nHost: a\r\nhOST: a\r\n\(auth)\r\n", 400),
            ("no Host in HTTP/1.1", "GET /api/v1/hello/x HTTP/1.1\r\n\(auth)\r\n", 400),
            ("space inside a field name", "GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\nX Bad: 1\r\n\(auth)\r\n", 400),
            ("space before the colon", "GET /api/v1/hello/x HTTP/1.1\r\nHost : t\r\n\(auth)\r\n", 400),
            ("tab inside a field name", "GET /api/v1/hello/x HTTP/1.1\r\nHost: t\r\nX\tBad: 1\r\n\(auth)\r\n", 400),
            ("HTTP/9.9", "GET /api/v1/hello/x HTTP/9.9\r\nHost: t\r\n\(auth)\r\n", 505),
            ("HTTP/2.0", "GET /api/v1/hello/x HTTP/2.0\r\nHost: t\r\n\(auth)\r\n", 505),
        ]
        for (label, request, status) in cases {
            let client = try client()
            try client.send(request)
            let response = try client.readResponse()
            XCTAssertEqual(response.status, status, "\(label): \(response.text)")
            XCTAssertTrue(client.readsEOF(), "\(label): closes after the error")
        }
        // Still served: one Host, HTTP/1.0 without Host.
        let fine = try client()
        try fine.send("GET /api/v1/hello/x HTTP/1.0\r\n\r\n")
        XCTAssertEqual(try fine.readResponse().status, 200)
    }

    // MARK: Routing

    func testAnEscapedSlashStaysInOneParameter() throws {
        let response = try plexus.get("/api/v1/hello/a%2Fb")
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.text, "Hello, a/b!\n")
        XCTAssertEqual(try plexus.get("/api/v1/hello/caf%C3%A9").text, "Hello, café!\n")
        XCTAssertEqual(try plexus.get("/api/v1/hello/a/b").status, 404, "a real slash is still two segments")
    }
}
