import Foundation
import PlexusTesting
import XCTest

/// The access log under a crash (issue 22): records of requests answered before a worker crash
/// are written even though the worker never flushed them. The worker appends each record to a
/// ring the master shares (a memfd, never a file in the data directory); after the crash the
/// master writes what the worker's writer thread had not.
final class AccessLogCrashTests: XCTestCase {
    func testRecordsTheWorkerHadNotWrittenSurviveItsCrash() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-access-crash-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("access.log").path
        // Nothing is flushed on its own: a minute between flushes, a mebibyte before one.
        let plexus = try Repository.startPlexus(cFixtures: ["hello-c", "crash-segv"], extra: """
            [supervisor]
            enabled = true
            quarantine_after = 100
            [access_log]
            destination = "file"
            path = "\(path)"
            flush_ms = 60000
            flush_bytes = 1048576
            """)
        defer { _ = plexus.stop() }
        let auth = plexus.authorized("")
        let ids = (1...5).map { "crash-log-\($0)" }
        for id in ids {
            let client = try TestClient(port: plexus.port)
            try client.send("GET /api/v1/c/hello HTTP/1.1\r\nHost: t\r\nX-Request-Id: \(id)\r\n\(auth)\r\n")
            XCTAssertEqual(try client.readResponse().status, 200)
        }
        let written = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        XCTAssertFalse(written.contains("crash-log-1"), "nothing is flushed before the crash: \(written)")
        let dataFiles = try FileManager.default.contentsOfDirectory(atPath: plexus.workDirectory.appendingPathComponent("data").path)
        XCTAssertFalse(dataFiles.contains { $0.hasSuffix(".accesslog") }, "the ring is memory, not a file: \(dataFiles)")

        let crasher = try TestClient(port: plexus.port)
        try crasher.send("GET /api/v1/c/segv HTTP/1.1\r\nHost: t\r\n\(auth)\r\n")
        XCTAssertEqual(try crasher.readResponse().status, 502)

        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if ids.allSatisfy({ text.contains($0) }) { break }
            usleep(50_000)
        }
        for id in ids {
            XCTAssertEqual(text.components(separatedBy: id).count - 1, 1,
                           "the record of \(id) is written once after the crash:\n\(text)\n\(plexus.log)")
        }
        XCTAssertTrue(plexus.log.contains("record(s)"), "the master says it wrote the crashed worker's records: \(plexus.log)")
        // The next worker serves and logs as before (its records reach the file at the shutdown's flush).
        let after = try TestClient(port: plexus.port)
        try after.send("GET /api/v1/c/hello HTTP/1.1\r\nHost: t\r\nX-Request-Id: after-crash\r\n\(auth)\r\n")
        XCTAssertEqual(try after.readResponse().status, 200)
        XCTAssertEqual(plexus.stop(), 0)
        let final = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        XCTAssertTrue(final.contains("after-crash"), final)
    }
}
