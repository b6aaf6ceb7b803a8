import Foundation
import PlexusTesting
import XCTest

/// The access log over the real binary (supervised: the worker writes it, the master forwards
/// SIGUSR1): each format in a file, credentials redacted, reopen for logrotate, nothing lost on
/// a graceful stop, and a sink that does not read never holding up a request.
final class AccessLogTests: XCTestCase {
    private func start(_ settings: String) throws -> TestRuntime {
        try Repository.startPlexus(cFixtures: [], extra: "[access_log]\n\(settings)\n")
    }

    private func contents(_ url: URL) -> String {
        (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }

    private func waitUntil(_ what: String, _ condition: () -> Bool) throws {
        for _ in 0..<400 {
            if condition() { return }
            usleep(25_000)
        }
        throw TestFailure("timed out waiting until \(what)")
    }

    private let target = "/api/v1/hello/world?ticket=S1&page=2&access_token=S2&api_key=S3"
    /// Quotes, a backslash and UTF-8 (a control byte would be refused by the parser with 400).
    private let agent = "probe \"quoted\" \\ é"

    func testEveryFormatRecordsTheRequestInAFileWithCredentialsRedacted() throws {
        for format in ["kv", "json", "combined"] {
            let plexus = try start("destination = \"file\"\npath = \"access.log\"\nformat = \"\(format)\"")
            let file = plexus.workDirectory.appendingPathComponent("access.log")
            XCTAssertEqual(try plexus.get(target, headers: "User-Agent: \(agent)\r\n").status, 200)
            XCTAssertEqual(plexus.stop(), 0)
            let lines = contents(file).split(separator: "\n").filter { $0.contains("/api/v1/hello/world") }
            XCTAssertEqual(lines.count, 1, "\(format): \(contents(file))")
            let line = String(lines.first ?? "")
            for secret in ["S1", "S2", "S3"] { XCTAssertFalse(line.contains(secret), "\(format) leaks \(secret): \(line)") }
            XCTAssertFalse(plexus.log.contains("/api/v1/hello/world"), "the file destination keeps records off stderr")
            switch format {
            case "kv":
                for field in ["method=GET", "target=/api/v1/hello/world?ticket=REDACTED&page=2&access_token=REDACTED&api_key=REDACTED",
                              "status=200", "plugin=hello", "route=/api/v1/hello/:name", "subject=plexus-admin",
                              #"user_agent="probe \"quoted\" \\ \xC3\xA9""#, "peer=127.0.0.1:", "request_id=", "duration_us=", "bytes="] {
                    XCTAssertTrue(line.contains(field), "kv lacks \(field): \(line)")
                }
            case "json":
                let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
                XCTAssertEqual(object["status"] as? Int, 200)
                XCTAssertEqual(object["method"] as? String, "GET")
                XCTAssertEqual(object["target"] as? String, "/api/v1/hello/world?ticket=REDACTED&page=2&access_token=REDACTED&api_key=REDACTED")
                XCTAssertEqual(object["plugin"] as? String, "hello")
                XCTAssertEqual(object["route"] as? String, "/api/v1/hello/:name")
                XCTAssertEqual(object["user_agent"] as? String, agent)
                XCTAssertGreaterThan(object["bytes"] as? Int ?? 0, 0)
                XCTAssertNotNil(object["request_id"] as? String)
            default:
                let pattern = #"^127\.0\.0\.1 - plexus-admin \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "GET /api/v1/hello/world\?ticket=REDACTED&page=2&access_token=REDACTED&api_key=REDACTED HTTP/1\.1" 200 \d+ "-" "probe \\x22quoted\\x22 \\x5C \\xC3\\xA9"$"#
                XCTAssertNotNil(line.range(of: pattern, options: .regularExpression), line)
            }
        }
    }

    func testStandardErrorByDefaultAndNothingWithAccessLogFalseEvenOnSIGUSR1() throws {
        let plexus = try Repository.startPlexus(cFixtures: [])
        XCTAssertEqual(try plexus.get("/api/v1/hello/default").status, 200)
        XCTAssertEqual(plexus.stop(), 0)
        XCTAssertTrue(plexus.log.contains("method=GET target=/api/v1/hello/default status=200"), plexus.log)

        let quiet = try Repository.startPlexus(cFixtures: [], serverSettings: "access_log = false")
        XCTAssertEqual(try quiet.get("/api/v1/hello/quiet").status, 200)
        kill(quiet.process.processIdentifier, SIGUSR1)
        usleep(200_000)
        XCTAssertEqual(try quiet.get("/api/v1/hello/quiet").status, 200, "SIGUSR1 with the log off is ignored, not fatal")
        XCTAssertEqual(quiet.stop(), 0)
        XCTAssertFalse(quiet.log.contains("/api/v1/hello/quiet"), quiet.log)
    }

    func testNoRecordIsLostOnAGracefulStop() throws {
        // Thresholds no test reaches: only the shutdown writes the records.
        let plexus = try start("destination = \"file\"\npath = \"access.log\"\nflush_bytes = 16777216\nflush_ms = 600000\nbuffer_bytes = 33554432")
        let file = plexus.workDirectory.appendingPathComponent("access.log")
        for index in 0..<300 { XCTAssertEqual(try plexus.get("/api/v1/hello/n\(index)").status, 200) }
        XCTAssertEqual(plexus.stop(), 0)
        let logged = Set(contents(file).split(separator: "\n").compactMap { line -> String? in
            guard let range = line.range(of: #"target=/api/v1/hello/n\d+"#, options: .regularExpression) else { return nil }
            return String(line[range])
        })
        XCTAssertEqual(logged.count, 300, "every request answered before SIGTERM is in the log")
    }

    func testSIGUSR1ToTheMasterReopensTheFileForLogrotate() throws {
        let plexus = try start("destination = \"file\"\npath = \"access.log\"\nflush_ms = 20")
        let file = plexus.workDirectory.appendingPathComponent("access.log")
        let rotated = plexus.workDirectory.appendingPathComponent("access.log.1")
        XCTAssertEqual(try plexus.get("/api/v1/hello/before").status, 200)
        try waitUntil("the first record is written") { contents(file).contains("/api/v1/hello/before") }
        try FileManager.default.moveItem(at: file, to: rotated)
        kill(plexus.process.processIdentifier, SIGUSR1)
        try waitUntil("the worker reopens access.log") { FileManager.default.fileExists(atPath: file.path) }
        XCTAssertEqual(try plexus.get("/api/v1/hello/after").status, 200)
        XCTAssertEqual(plexus.stop(), 0, "SIGUSR1 must not kill the master or its worker:\n\(plexus.log)")
        XCTAssertTrue(contents(rotated).contains("/api/v1/hello/before"))
        XCTAssertFalse(contents(rotated).contains("/api/v1/hello/after"))
        XCTAssertTrue(contents(file).contains("/api/v1/hello/after"), contents(file))
        XCTAssertTrue(plexus.log.contains("reopen the access log"), plexus.log)
    }

    func testASinkThatDoesNotReadNeverBlocksServingAndDropsAreCounted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-fifo-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let fifo = directory.appendingPathComponent("access.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // A reader that never reads: the pipe fills (64 KiB) and the writer thread blocks in write().
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        XCTAssertGreaterThanOrEqual(reader, 0)
        defer { close(reader) }
        let plexus = try start("destination = \"file\"\npath = \"\(fifo)\"\nflush_bytes = 4096\nflush_ms = 10\nbuffer_bytes = 16384")
        let padding = String(repeating: "x", count: 2000)
        for index in 0..<400 {
            XCTAssertEqual(try plexus.get("/api/v1/hello/n\(index)", headers: "User-Agent: \(padding)\r\n").status, 200, "request \(index)")
        }
        let metrics = try plexus.get("/metrics").text
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("plexus_access_log_dropped_total") }
        let dropped = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        XCTAssertGreaterThan(dropped, 0, "drops are counted: \(line ?? "no series")")
        try waitUntil("the drops are reported in the log") { plexus.log.contains("access log records dropped") }
        XCTAssertEqual(plexus.stop(), 0, "a sink that never reads does not hold up the shutdown past its bound:\n\(plexus.log)")
    }
}
