import Foundation
import PlexusTesting
import XCTest

/// A worker crash under `plexus serve --supervise` drops only the connections it must: the
/// master keeps a copy of every connection and hands those at a request boundary to the next
/// worker; the crashing request is answered 502, a request in flight elsewhere 503, a stream is closed.
final class CrashHandoverTests: XCTestCase {
    private func waitForLog(_ plexus: TestRuntime, _ text: String, count: Int = 1, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if plexus.log.components(separatedBy: text).count - 1 >= count { return }
            usleep(50_000)
        }
        XCTFail("'\(text)' not seen \(count) time(s) in the log:\n\(plexus.log)", file: file, line: line)
    }

    func testIdleKeepAliveConnectionsSurviveCrashesOnTheirOwnSockets() throws {
        let plexus = try Repository.startPlexus(cFixtures: ["hello-c", "crash-segv"],
                                                extra: "[supervisor]\nenabled = true\nquarantine_after = 100")
        defer { _ = plexus.stop() }
        let auth = plexus.authorized("")
        let hello = "GET /api/v1/c/hello HTTP/1.1\r\nHost: t\r\n\(auth)\r\n"
        let idle = try (0..<5).map { _ in try TestClient(port: plexus.port) }
        for client in idle {
            try client.send(hello)
            XCTAssertEqual(try client.readResponse().status, 200)
        }
        for crash in 1...2 {
            // A request in flight in another plugin, and half a request head.
            let elsewhere = try TestClient(port: plexus.port)
            try elsewhere.send("GET /api/v1/hello/delay/10000 HTTP/1.1\r\nHost: t\r\n\(auth)\r\n")
            let partial = try TestClient(port: plexus.port)
            try partial.send("GET /api/v1/c/hello HTTP/1.1\r\nHost: t\r\n")
            // A stream cannot move to another worker: it is closed (the client resumes with Last-Event-ID).
            let stream = try TestClient(port: plexus.port)
            try stream.send("GET /api/v1/events/stream?topic=crash.test HTTP/1.1\r\nHost: t\r\n\(auth)\r\n")
            XCTAssertEqual(try stream.readHead().status, 200)
            usleep(300_000)

            let crasher = try TestClient(port: plexus.port)
            try crasher.send("GET /api/v1/c/segv HTTP/1.1\r\nHost: t\r\n\(auth)\r\n")
            let crashed = try crasher.readResponse()
            XCTAssertEqual(crashed.status, 502, crashed.text)
            XCTAssertEqual(crashed.header("connection")?.lowercased(), "close")
            XCTAssertEqual(crashed.header("content-type"), "application/problem+json")
            XCTAssertTrue(crashed.text.contains("plugin 'crash-segv' crashed the worker"), crashed.text)
            XCTAssertTrue(crasher.readsEOF(), "the crashing request's connection ends after the 502")

            for (client, what) in [(elsewhere, "in flight in another plugin"), (partial, "half received")] {
                let answer = try client.readResponse()
                XCTAssertEqual(answer.status, 503, "\(what): \(answer.text)")
                XCTAssertEqual(answer.header("retry-after"), "1", what)
                XCTAssertEqual(answer.header("connection")?.lowercased(), "close", what)
            }
            XCTAssertTrue(stream.readsEOF(), "the stream ends with the crashed worker")
            waitForLog(plexus, "connections of the crashed worker: 5 handed to the next worker, 1 answered 502, 2 answered 503, 1 closed", count: crash)

            // Every idle connection is answered on its own socket by the next worker, twice (keep-alive goes on).
            for (index, client) in idle.enumerated() {
                for _ in 0..<2 {
                    try client.send(hello)
                    let response = try client.readResponse()
                    XCTAssertEqual(response.status, 200, "connection \(index) after crash \(crash)")
                    XCTAssertTrue(response.text.hasPrefix("hello from C"), response.text)
                }
            }
        }
        waitForLog(plexus, "crashed in plugin 'crash-segv'", count: 2)
    }

    /// The watchdog's SIGKILL takes the worker's descriptors with it at once: the master's copies
    /// alone keep the idle connections open for the next worker.
    func testIdleConnectionsSurviveAWorkerKilledByTheWatchdog() throws {
        let plexus = try Repository.startPlexus(cFixtures: ["hello-c", "crash-hang"],
                                                extra: "[supervisor]\nenabled = true\nwatchdog_ms = 1000")
        defer { _ = plexus.stop() }
        let hello = "GET /api/v1/c/hello HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n"
        let idle = try (0..<3).map { _ in try TestClient(port: plexus.port) }
        for client in idle {
            try client.send(hello)
            XCTAssertEqual(try client.readResponse().status, 200)
        }
        let hanging = try TestClient(port: plexus.port)
        try hanging.send("GET /api/v1/c/hang HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        let answer = try hanging.readResponse()
        XCTAssertEqual(answer.status, 502, answer.text)
        XCTAssertTrue(answer.text.contains("plugin 'crash-hang'"), answer.text)
        waitForLog(plexus, "connections of the crashed worker: 3 handed to the next worker, 1 answered 502")
        for (index, client) in idle.enumerated() {
            try client.send(hello)
            XCTAssertEqual(try client.readResponse().status, 200, "connection \(index)")
        }
    }

    /// Connections handed to a worker that dies while starting (before it took them) go on to the
    /// next one: here three workers crash in a plugin's on_start until it is quarantined.
    func testHandedConnectionsOutliveWorkersThatCrashWhileStarting() throws {
        let plexus = try Repository.startPlexus(cFixtures: ["hello-c", "crash-segv"],
                                                extra: "[supervisor]\nenabled = true\nwatch_plugins = false\nquarantine_after = 3")
        defer { _ = plexus.stop() }
        let auth = plexus.authorized("")
        let hello = "GET /api/v1/c/hello HTTP/1.1\r\nHost: t\r\n\(auth)\r\n"
        let idle = try (0..<3).map { _ in try TestClient(port: plexus.port, timeoutSeconds: 30) }
        for client in idle {
            try client.send(hello)
            XCTAssertEqual(try client.readResponse().status, 200)
        }
        // Loaded by the next worker only (the directory is not watched).
        let source = try Repository.cFixturesDirectory().appendingPathComponent("crash-start.so")
        let temporary = plexus.workDirectory.appendingPathComponent(".crash-start.so")
        try FileManager.default.copyItem(at: source, to: temporary)
        XCTAssertEqual(rename(temporary.path, plexus.pluginsDirectory.appendingPathComponent("crash-start.so").path), 0)

        let crasher = try TestClient(port: plexus.port)
        try crasher.send("GET /api/v1/c/segv HTTP/1.1\r\nHost: t\r\n\(auth)\r\n")
        XCTAssertEqual(try crasher.readResponse().status, 502)
        waitForLog(plexus, "plugin 'crash-start' quarantined")
        waitForLog(plexus, "connections of the crashed worker: 3 handed to the next worker", count: 4)
        for (index, client) in idle.enumerated() {
            try client.send(hello)
            XCTAssertEqual(try client.readResponse().status, 200, "connection \(index)")
        }
    }
}
