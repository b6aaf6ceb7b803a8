import Foundation
import XCTest

/// The real `plexus` binary, started on an ephemeral loopback port over a plugins directory
/// holding the built Swift plugins, the C plugin and the broken C fixtures.
final class RunningPlexus {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"]
        ?? repositoryRoot.appendingPathComponent(".build/debug").path)

    let process = Process()
    let workDirectory: URL
    let pluginsDirectory: URL
    private(set) var port = 0
    private let errorPipe = Pipe()
    private let logLock = NSLock()
    private var logText = ""

    /// Everything the runtime wrote to stderr so far.
    var log: String { logLock.withLock { logText } }

    /// Starts plexus over a `plugins.d` holding `swiftPlugins` (products of the Swift build) and
    /// `cFixtures` (C fixture names); the settings are TOML lines for the `[server]` and `[plugins]`
    /// tables, and `extra` is appended to the config file.
    init(swiftPlugins: [String] = ["libPlexusHello.so"], cFixtures: [String] = ["hello-c"],
         pluginConfigs: [String: String] = [:], serverSettings: String = "", pluginSettings: String = "",
         extra: String = "") throws {
        workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-it-\(UUID().uuidString.prefix(8))")
        pluginsDirectory = workDirectory.appendingPathComponent("plugins.d")
        try FileManager.default.createDirectory(at: pluginsDirectory, withIntermediateDirectories: true)
        let binary = Self.binDirectory.appendingPathComponent("plexus")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("no plexus binary at \(binary.path): run `swift build` before `swift test`")
        }
        for name in swiftPlugins {
            try FileManager.default.copyItem(at: Self.binDirectory.appendingPathComponent(name), to: pluginsDirectory.appendingPathComponent(name))
        }
        if !cFixtures.isEmpty {
            let fixtures = try Self.cFixturesDirectory()
            for name in cFixtures {
                try FileManager.default.copyItem(at: fixtures.appendingPathComponent("\(name).so"), to: pluginsDirectory.appendingPathComponent("\(name).so"))
            }
        }
        for (name, text) in pluginConfigs {
            try text.write(to: pluginsDirectory.appendingPathComponent("\(name).toml"), atomically: true, encoding: .utf8)
        }
        let configFile = workDirectory.appendingPathComponent("plexus.toml")
        try """
        [server]
        listen = "127.0.0.1:0"
        \(serverSettings)
        [plugins]
        dir = "plugins.d"
        \(pluginSettings)
        [data]
        dir = "data"
        \(extra)
        """.write(to: configFile, atomically: true, encoding: .utf8)
        process.executableURL = binary
        process.arguments = ["serve", "--config", configFile.path]
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        errorPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.logLock.withLock { self.logText += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
        port = try waitForReady()
    }

    deinit {
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        errorPipe.fileHandleForReading.readabilityHandler = nil
        try? FileManager.default.removeItem(at: workDirectory)
    }

    private func waitForReady() throws -> Int {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let range = log.range(of: #"address=127\.0\.0\.1:(\d+)"#, options: .regularExpression) {
                return Int(log[range].split(separator: ":").last!)!
            }
            guard process.isRunning else { throw RawHTTPClient.Failure(description: "plexus exited early:\n\(log)") }
            usleep(20_000)
        }
        throw RawHTTPClient.Failure(description: "plexus did not become ready:\n\(log)")
    }

    /// Sends `signal` and waits for the exit status.
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The admin endpoint's plugin list, keyed by file name.
    func pluginsByFile() throws -> [String: [String: Any]] {
        let response = try RawHTTPClient.get("/admin/plugins", port: port)
        let list = try JSONSerialization.jsonObject(with: Data(response.body)) as! [[String: Any]]
        return Dictionary(uniqueKeysWithValues: list.map { ($0["file"] as! String, $0) })
    }

    /// Builds the C fixtures once per test process.
    static func cFixturesDirectory() throws -> URL {
        try fixturesOnce.get()
    }

    private static let fixturesOnce = Result<URL, Error> {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-c-fixtures-\(getpid())")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/bin/bash")
        build.arguments = [repositoryRoot.appendingPathComponent("Tests/Fixtures/CPlugins/build.sh").path, output.path]
        try build.run()
        build.waitUntilExit()
        guard build.terminationStatus == 0 else { throw RawHTTPClient.Failure(description: "building C fixtures failed") }
        return output
    }
}
