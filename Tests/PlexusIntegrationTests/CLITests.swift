import Foundation
import PlexusTesting
import XCTest

/// The `plexus` command as an operator meets it: built-in defaults that start, failures that say what is
/// wrong (exit 1, no usage banner), usage errors that show the usage (exit 64), host names in `--listen`,
/// and API key commands that act on a real data directory and take effect at once.
final class CLITests: XCTestCase {
    private func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func testServeWithBuiltInDefaultsStartsWithoutAPluginsDirectoryAndPicksUpPluginsLater() throws {
        let work = try temporaryDirectory("defaults")
        defer { try? FileManager.default.removeItem(at: work) }
        let server = try ServeProcess(["serve", "--listen", "127.0.0.1:0"], in: work)
        defer { server.stop() }
        XCTAssertEqual(try server.get("/health").status, 200)
        let plugins = work.appendingPathComponent("plugins.d")
        XCTAssertTrue(FileManager.default.fileExists(atPath: plugins.path), "serve did not create ./plugins.d")
        XCTAssertEqual(try server.get("/api/v1/hello/ann").status, 404)
        // A plugin dropped in later is loaded by the watching supervisor.
        try FileManager.default.copyItem(at: Repository.binDirectory.appendingPathComponent("libPlexusHello.so"),
                                         to: plugins.appendingPathComponent("libPlexusHello.so"))
        let deadline = Date().addingTimeInterval(20)
        var status = 0
        while Date() < deadline {
            status = (try? server.get("/api/v1/hello/ann").status) ?? 0
            if status == 200 { break }
            usleep(200_000)
        }
        XCTAssertEqual(status, 200, "the plugin put into the new plugins.d was never loaded:\n\(server.log)")
    }

    func testRuntimeFailuresPrintTheErrorAndExit1() throws {
        let work = try temporaryDirectory("failures")
        defer { try? FileManager.default.removeItem(at: work) }
        let missingConfig = work.appendingPathComponent("nope.toml").path
        let cases: [([String], [String])] = [
            (["serve", "--config", missingConfig], ["no such file", missingConfig]),
            (["plugin", "inspect", work.appendingPathComponent("nope.so").path], ["no such file", "nope.so"]),
            (["serve", "--plugins", work.appendingPathComponent("absent.d").path, "--data", work.appendingPathComponent("data").path,
              "--listen", "127.0.0.1:0"], ["no such file", "absent.d"]),
            (["backup", "--data", work.appendingPathComponent("nodata").path, "--output", work.appendingPathComponent("b").path],
             ["no such file", "nodata"]),
            (["restore", "--from", work.appendingPathComponent("nobackup").path, "--data", work.appendingPathComponent("d").path],
             ["no such file", "nobackup"]),
        ]
        for (arguments, fragments) in cases {
            let result = try CLI.run(arguments)
            XCTAssertEqual(result.status, 1, "\(arguments): \(result.text)")
            XCTAssertFalse(result.text.contains("USAGE"), "\(arguments) printed a usage banner: \(result.text)")
            for fragment in fragments { XCTAssertTrue(result.text.contains(fragment), "\(arguments): \(result.text)") }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("data/admin.key").path),
                       "a failing serve wrote an admin key first")
        // A real usage error keeps the usage banner and status 64.
        let usage = try CLI.run(["serve", "--log-level", "loud"])
        XCTAssertEqual(usage.status, 64, usage.text)
        XCTAssertTrue(usage.text.contains("Usage") || usage.text.contains("USAGE"), usage.text)
    }

    func testListenAcceptsAHostName() throws {
        let work = try temporaryDirectory("localhost")
        defer { try? FileManager.default.removeItem(at: work) }
        for mode in [["--supervise"], ["--no-supervise"]] {
            let server = try ServeProcess(["serve", "--listen", "localhost:0", "--data", work.appendingPathComponent("data").path] + mode, in: work)
            defer { server.stop() }
            XCTAssertEqual(try server.get("/health").status, 200, "\(mode): \(server.log)")
        }
        let bad = try CLI.run(["serve", "--listen", "no-such-host.invalid:8080"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.text.contains("no-such-host.invalid"), bad.text)
    }

    func testAPIKeyRefusesADirectoryWithoutPlexusData() throws {
        let work = try temporaryDirectory("apikey-data")
        defer { try? FileManager.default.removeItem(at: work) }
        let result = try CLI.run(["apikey", "create", "--data", work.path, "--name", "stray"])
        XCTAssertEqual(result.status, 1, result.text)
        XCTAssertTrue(result.text.contains("holds no Plexus data"), result.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: work.appendingPathComponent("runtime/gateway.sqlite").path),
                       "a new key store was created in a directory that is not a data directory")
        let missing = try CLI.run(["apikey", "list", "--data", work.appendingPathComponent("absent").path])
        XCTAssertEqual(missing.status, 1, missing.text)
        XCTAssertTrue(missing.text.contains("no such file"), missing.text)
    }

    /// A key made with `apikey create` authenticates on the very next request, and a revoked one is refused on it.
    func testAPIKeyCommandsTakeEffectAtOnce() throws {
        let plexus = try Repository.startPlexus()
        defer { _ = plexus.stop() }
        let data = plexus.workDirectory.appendingPathComponent("data").path
        for round in 0..<3 {
            let created = try CLI.run(["apikey", "create", "--data", data, "--name", "at-once-\(round)"])
            XCTAssertEqual(created.status, 0, created.text)
            let key = try XCTUnwrap(created.text.split(separator: "\n").first { $0.hasPrefix("plx_") }.map(String.init), created.text)
            XCTAssertEqual(try plexus.get("/api/v1/whoami", headers: "Authorization: Bearer \(key)\r\n").status, 200, "round \(round)")
            XCTAssertEqual(try CLI.run(["apikey", "revoke", "--data", data, "at-once-\(round)"]).status, 0)
            XCTAssertEqual(try plexus.get("/api/v1/whoami", headers: "Authorization: Bearer \(key)\r\n").status, 401, "round \(round)")
        }
    }
}

/// `plexus serve` started with given arguments in a working directory, until ``stop()``.
private final class ServeProcess {
    let process = Process()
    private let pipe = Pipe()
    private let buffer = Buffer()
    private(set) var port = 0

    var log: String { buffer.text }

    init(_ arguments: [String], in directory: URL) throws {
        process.executableURL = Repository.plexusBinary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = pipe
        let buffer = buffer
        pipe.fileHandleForReading.readabilityHandler = { buffer.append($0.availableData) }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let range = log.range(of: #"address=127\.0\.0\.1:(\d+)"#, options: .regularExpression),
               let port = Int(log[range].split(separator: ":").last ?? "") {
                self.port = port
                return
            }
            guard process.isRunning else { throw TestFailure("plexus exited (\(process.terminationStatus)) before it was ready:\n\(log)") }
            usleep(20_000)
        }
        stop()
        throw TestFailure("plexus did not become ready within 30 s:\n\(log)")
    }

    func get(_ path: String) throws -> TestResponse {
        let client = try TestClient(port: port)
        try client.send("GET \(path) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return try client.readResponse()
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        pipe.fileHandleForReading.readabilityHandler = nil
    }

    private final class Buffer: @unchecked Sendable {
        private let lock = NSLock()
        private var collected = ""
        var text: String { lock.withLock { collected } }
        func append(_ data: Data) { lock.withLock { collected += String(decoding: data, as: UTF8.self) } }
    }
}
