import Foundation
import XCTest

/// A real `redis-server` for one test: a free loopback port, AOF on (`appendfsync always`), a
/// temporary directory; stopped (and restartable on the same port and files) by the test.
final class RedisTestServer {
    let port: Int
    let directory: URL
    private var process: Process?

    /// Starts one; skips the test (saying why) when `redis-server` is not installed.
    init() throws {
        guard let server = Self.which("redis-server"), Self.which("redis-cli") != nil else {
            throw XCTSkip("redis-server and redis-cli are not installed (scripts/install-deps.sh installs them)")
        }
        _ = server
        port = try Self.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-redis-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts (again) on the same port and files, waiting until it answers PING (10 s at most).
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.which("redis-server")!)
        process.arguments = ["--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory.path, "--appendonly", "yes",
                             "--appendfsync", "always", "--save", "", "--daemonize", "no", "--protected-mode", "no",
                             "--logfile", directory.appendingPathComponent("redis.log").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? cli("PING")) == "PONG" { return }
            usleep(50_000)
        }
        throw XCTSkip("redis-server did not answer on port \(port) within 10 s")
    }

    /// Stops it (SIGTERM: AOF is flushed) and waits for the exit.
    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
    }

    /// Runs `redis-cli -p PORT args…` and returns its output, trimmed.
    @discardableResult
    func cli(_ arguments: String...) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.which("redis-cli")!)
        process.arguments = ["-p", "\(port)"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }

    static func which(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        return nil
    }

    /// A loopback TCP port nobody listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw XCTSkip("no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
