import Foundation
import PlexusTesting
import XCTest

/// Paths of this repository's build products and fixtures.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"]
        ?? root.appendingPathComponent(".build/debug").path)
    static var plexusBinary: URL { binDirectory.appendingPathComponent("plexus") }

    /// Starts the freshly built plexus over the named Swift plugin products and C fixtures.
    static func startPlexus(swiftPlugins: [String] = ["libPlexusHello.so"], cFixtures: [String] = ["hello-c"],
                            pluginConfigs: [String: String] = [:], serverSettings: String = "",
                            pluginSettings: String = "", extra: String = "", workDirectory: URL? = nil,
                            binary: URL? = nil) throws -> TestRuntime {
        guard FileManager.default.isExecutableFile(atPath: plexusBinary.path) else {
            throw TestFailure("no plexus binary at \(plexusBinary.path): run `swift build` before `swift test`")
        }
        var plugins = swiftPlugins.map { binDirectory.appendingPathComponent($0) }
        if !cFixtures.isEmpty {
            let fixtures = try cFixturesDirectory()
            plugins += cFixtures.map { fixtures.appendingPathComponent("\($0).so") }
        }
        return try TestRuntime(binary: binary ?? plexusBinary, plugins: plugins, pluginConfigs: pluginConfigs,
                               serverSettings: serverSettings, pluginSettings: pluginSettings, extra: extra, workDirectory: workDirectory)
    }

    /// Builds the C fixtures once per test process.
    static func cFixturesDirectory() throws -> URL { try fixturesOnce.get() }

    private static let fixturesOnce = Result<URL, Error> {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-c-fixtures-\(getpid())")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/bin/bash")
        build.arguments = [root.appendingPathComponent("Tests/Fixtures/CPlugins/build.sh").path, output.path]
        try build.run()
        build.waitUntilExit()
        guard build.terminationStatus == 0 else { throw TestFailure("building the C fixtures failed") }
        return output
    }
}
