import Foundation
import PlexusTesting
import XCTest

/// An answer is encoded into its exchange's own buffer, kept across a keep-alive connection's
/// requests up to 4 KiB and freed past that once written: answers of every size, one after the
/// other and pipelined, come out whole and in order on one connection.
final class ResponseBufferTests: XCTestCase {
    func testAnswersOfEverySizeComeOutWholeOnOneKeepAliveConnection() throws {
        let plexus = try Repository.startPlexus(cFixtures: [])
        let client = try TestClient(port: plexus.port)
        let auth = "Authorization: Bearer \(plexus.adminKey)\r\n"
        func echo(_ body: [UInt8]) throws {
            try client.send("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Content-Type: application/octet-stream\r\nContent-Length: \(body.count)\r\n\r\n")
            try client.send(body)
        }
        // Large (freed once written), small (kept), large again (allocated again), small.
        for size in [200_000, 10, 5_000, 3_000, 120_000, 1] {
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }
            try echo(body)
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200, "\(size) bytes")
            XCTAssertEqual(response.body, body, "\(size) bytes come back whole")
        }
        // Pipelined: three requests in one write, answered in order through one gathered write.
        let bodies = [[UInt8](repeating: 0x61, count: 9_000), [UInt8](repeating: 0x62, count: 7), [UInt8](repeating: 0x63, count: 4_097)]
        var pipelined: [UInt8] = []
        for body in bodies {
            pipelined += Array("POST /api/v1/echo HTTP/1.1\r\nHost: t\r\n\(auth)Content-Length: \(body.count)\r\n\r\n".utf8) + body
        }
        try client.send(pipelined)
        for body in bodies {
            let response = try client.readResponse()
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.body, body)
        }
        try client.send("GET /api/v1/hello HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(try client.readResponse().text, "hello\n")
        XCTAssertEqual(plexus.stop(), 0)
    }
}
