import Foundation
import PlexusTesting
import XCTest

/// One instance per data directory and per port, refused before any plugin runs; and who may
/// read `/metrics` and `/health/plugins`.
final class InstanceGuardTests: XCTestCase {
    /// Runs `plexus serve <arguments>` to its end (at most 20 s); returns its status and stderr.
    private func runPlexus(_ arguments: [String]) throws -> (status: Int32, log: String) {
        let process = Process()
        process.executableURL = Repository.plexusBinary
        process.arguments = ["serve"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw TestFailure("a second plexus kept running: \(String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
        return (process.terminationStatus, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    func testASecondInstanceOnTheSameDataDirectoryIsRefused() throws {
        let first = try Repository.startPlexus(cFixtures: [])
        let config = first.workDirectory.appendingPathComponent("plexus.toml").path
        // Supervised: the master holds the lock (its worker serves without taking it).
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.workDirectory.appendingPathComponent("data/plexus.lock").path))
        for mode in [["--no-supervise"], ["--supervise"]] {
            let second = try runPlexus(["--config", config] + mode)
            XCTAssertEqual(second.status, 1, "\(mode): \(second.log)")
            XCTAssertTrue(second.log.contains("in use by another plexus (pid \(first.process.processIdentifier)"), "\(mode): \(second.log)")
            XCTAssertFalse(second.log.contains("plugin running"), "\(mode): refused before any plugin starts: \(second.log)")
        }
        // The first instance still serves.
        XCTAssertEqual(try first.get("/api/v1/hello/x").status, 200)
        XCTAssertEqual(first.stop(), 0)
        // Once it is gone, the directory is free again.
        let next = try TestRuntime(binary: Repository.plexusBinary, plugins: [], workDirectory: first.workDirectory)
        XCTAssertEqual(try next.get("/health").status, 200)
    }

    func testATakenPortExitsWith1BeforeAnyPluginStarts() throws {
        let first = try Repository.startPlexus(cFixtures: [])
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-port-\(UUID().uuidString.prefix(8))")
        let plugins = scratch.appendingPathComponent("plugins.d")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: scratch) }
        try FileManager.default.copyItem(at: Repository.binDirectory.appendingPathComponent("libPlexusHello.so"),
                                         to: plugins.appendingPathComponent("libPlexusHello.so"))
        for _ in 0..<3 {
            let second = try runPlexus(["--no-supervise", "--listen", "127.0.0.1:\(first.port)", "--plugins", plugins.path,
                                        "--data", scratch.appendingPathComponent("data").path])
            XCTAssertEqual(second.status, 1, second.log)
            XCTAssertTrue(second.log.contains("127.0.0.1:\(first.port)"), second.log)
            XCTAssertFalse(second.log.contains("plugin running"), "the port is bound before plugins start: \(second.log)")
        }
    }

    func testMetricsAndPluginHealthAreForTheAdminUnlessMadePublic() throws {
        let closed = try Repository.startPlexus(cFixtures: [])
        for path in ["/metrics", "/health/plugins"] {
            XCTAssertEqual(try closed.get(path, anonymous: true).status, 401, path)
            let reader = try closed.createAPIKey(name: "reader-\(path.count)", tenant: "acme", roles: ["reader"])
            XCTAssertEqual(try closed.get(path, headers: "Authorization: Bearer \(reader)\r\n").status, 403, path)
            XCTAssertEqual(try closed.get(path).status, 200, "\(path) with the admin key")
        }
        XCTAssertEqual(try closed.get("/ready", anonymous: true).status, 200, "readiness stays public")
        XCTAssertEqual(try closed.get("/health", anonymous: true).status, 200, "liveness stays public")

        let open = try Repository.startPlexus(cFixtures: [], extra: "[observability]\npublic = true\n")
        for path in ["/metrics", "/health/plugins"] {
            XCTAssertEqual(try open.get(path, anonymous: true).status, 200, path)
        }
    }
}
