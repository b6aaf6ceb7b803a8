import Foundation
import PlexusTesting
import XCTest

/// Start-up and shutdown of the real process.
final class LifecycleTests: XCTestCase {
    func testSIGTERMDrainsInFlightRequestsThenExitsZero() throws {
        let plexus = try Repository.startPlexus()
        let client = try TestClient(port: plexus.port)
        try client.send("GET /api/v1/hello/delay/600 HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(150_000)
        kill(plexus.process.processIdentifier, SIGTERM)
        let response = try client.readResponse()
        XCTAssertEqual(response.status, 200, "the in-flight request must finish")
        XCTAssertEqual(response.text, "waited 600 ms\n")
        XCTAssertEqual(response.header("Connection"), "close", "a draining server closes after the response")
        plexus.process.waitUntilExit()
        XCTAssertEqual(plexus.process.terminationStatus, 0)
        // No new connections once draining has begun.
        XCTAssertThrowsError(try TestClient(port: plexus.port))
        XCTAssertTrue(plexus.log.contains("shutting down"))
        XCTAssertTrue(plexus.log.contains("stopped"))
    }

    /// Every SQLite file the runtime opened (event log, audit log, API keys, a plugin's storage)
    /// is closed before the process exits: the last close checkpoints the WAL and removes the
    /// `-wal` file, which a process that exits with the database open leaves behind.
    func testSIGTERMClosesEveryDatabase() throws {
        for supervised in [true, false] {
            let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: [],
                                                    extra: "[supervisor]\nenabled = \(supervised)")
            XCTAssertEqual(try plexus.request("POST", "/api/v1/notes", body: Array("kept".utf8)).status, 201)
            let data = plexus.workDirectory.appendingPathComponent("data")
            let databases = ["events.sqlite", "runtime/audit.sqlite", "runtime/gateway.sqlite", "plugins/notes/storage.sqlite"]
            for database in databases {
                XCTAssertTrue(FileManager.default.fileExists(atPath: data.appendingPathComponent(database + "-wal").path),
                              "\(database) is open in WAL mode while serving")
            }
            XCTAssertEqual(plexus.stop(), 0, plexus.log)
            for database in databases {
                XCTAssertFalse(FileManager.default.fileExists(atPath: data.appendingPathComponent(database + "-wal").path),
                               "\(database) was not closed at shutdown (supervised: \(supervised))")
            }
            XCTAssertFalse(plexus.log.contains("did not stop in time"), plexus.log)
        }
    }

    func testSecondSignalExitsAtOnce() throws {
        let plexus = try Repository.startPlexus(serverSettings: "shutdown_grace_ms = 30000")
        let client = try TestClient(port: plexus.port)
        try client.send("GET /api/v1/hello/delay/20000 HTTP/1.1\r\nHost: t\r\n\r\n")
        usleep(100_000)
        kill(plexus.process.processIdentifier, SIGINT)
        usleep(200_000)
        XCTAssertTrue(plexus.process.isRunning, "the first signal drains")
        let started = Date()
        kill(plexus.process.processIdentifier, SIGINT)
        plexus.process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "the second signal must not wait for the drain")
        XCTAssertEqual(plexus.process.terminationStatus, 1)
        XCTAssertTrue(plexus.log.contains("second signal"))
    }

    func testPluginsCommandReadsTheRunningInstance() throws {
        let plexus = try Repository.startPlexus(cFixtures: ["hello-c", "garbage"])
        let output = try CLI.run(["plugins", "--listen", "127.0.0.1:\(plexus.port)", "--data", plexus.workDirectory.appendingPathComponent("data").path])
        XCTAssertEqual(output.status, 0, output.text)
        XCTAssertTrue(output.text.contains("NAME"))
        XCTAssertTrue(output.text.range(of: #"hello\s+1\.0\.0\s+running\s+GET /api/v1/hello"#, options: .regularExpression) != nil, output.text)
        XCTAssertTrue(output.text.range(of: #"hello-c\s+1\.2\.0\s+running"#, options: .regularExpression) != nil, output.text)
        XCTAssertTrue(output.text.contains("garbage.so: not an ELF shared object"), output.text)
        let unreachable = try CLI.run(["plugins", "--listen", "127.0.0.1:1"])
        XCTAssertNotEqual(unreachable.status, 0)
        XCTAssertTrue(unreachable.text.contains("cannot read plugins from 127.0.0.1:1"), unreachable.text)
    }

    func testInspectJudgesCompatibilityWithoutStarting() throws {
        let good = try CLI.run(["plugin", "inspect", Repository.binDirectory.appendingPathComponent("libPlexusHello.so").path])
        XCTAssertEqual(good.status, 0, good.text)
        XCTAssertTrue(good.text.range(of: #"name\s+hello"#, options: .regularExpression) != nil, good.text)
        XCTAssertTrue(good.text.contains("compatible: built for ABI 1.10"), good.text)
        XCTAssertTrue(good.text.contains("Swift 6"), good.text)
        let fixtures = try Repository.cFixturesDirectory()
        let c = try CLI.run(["plugin", "inspect", fixtures.appendingPathComponent("greeter-c.so").path])
        XCTAssertEqual(c.status, 0, c.text)
        XCTAssertTrue(c.text.contains("hello-c ^1.2"), c.text)
        let v2 = try CLI.run(["plugin", "inspect", fixtures.appendingPathComponent("abi-v2-entry.so").path])
        XCTAssertEqual(v2.status, 1)
        XCTAssertTrue(v2.text.contains("not loadable: abi-v2-entry.so: built for plugin ABI 2.x, this runtime speaks ABI 1.10"), v2.text)
    }

    func testBadConfigIsRefusedWithFileAndKey() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(getpid()).toml")
        try "[server]\nlisten = \"127.0.0.1:0\"\nmax_body_byte = 10\n".write(to: file, atomically: true, encoding: .utf8)
        let unknown = try CLI.run(["serve", "--config", file.path])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.text.contains("unknown setting(s) server.max_body_byte"), unknown.text)
        try "[server\nlisten = 1\n".write(to: file, atomically: true, encoding: .utf8)
        let syntax = try CLI.run(["serve", "--config", file.path])
        XCTAssertNotEqual(syntax.status, 0)
        XCTAssertTrue(syntax.text.contains("\(file.path):1:"), syntax.text)
    }
}

/// Runs the `plexus` binary and collects its output.
enum CLI {
    static func run(_ arguments: [String]) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = Repository.binDirectory.appendingPathComponent("plexus")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
