import Foundation
import PlexusTesting
import XCTest

/// `plexus check` (the configuration and every plugin, each inspected in a throw-away process)
/// and `plexus reload` (waits for the outcome; exit 1 with the reason on a rollback).
final class CheckAndReloadCommandTests: XCTestCase {
    private func fixture(_ name: String) throws -> URL {
        try Repository.cFixturesDirectory().appendingPathComponent("\(name).so")
    }

    /// A directory with `plexus.toml` (`[plugins] dir = "plugins.d"` plus `plugins`) and the given plugin files.
    private func installation(_ files: [(source: URL, name: String)], plugins: String = "", extra: String = "") throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-check-\(UUID().uuidString.prefix(8))")
        let pluginsDirectory = directory.appendingPathComponent("plugins.d")
        try FileManager.default.createDirectory(at: pluginsDirectory, withIntermediateDirectories: true)
        for (source, name) in files {
            try FileManager.default.copyItem(at: source, to: pluginsDirectory.appendingPathComponent(name))
        }
        try "[plugins]\ndir = \"plugins.d\"\n\(plugins)\n[data]\ndir = \"data\"\n\(extra)\n"
            .write(to: directory.appendingPathComponent("plexus.toml"), atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }

    func testCheckOfAGoodInstallationExits0WithASummary() throws {
        let directory = try installation([(try fixture("hello-c"), "hello-c.so"), (try fixture("greeter-c"), "greeter-c.so")],
                                         plugins: "required = \"hello-c\"")
        let result = try CLI.run(["check", "--config", directory.appendingPathComponent("plexus.toml").path])
        XCTAssertEqual(result.status, 0, result.text)
        XCTAssertTrue(result.text.contains("check ok: configuration"), result.text)
        XCTAssertTrue(result.text.contains("2 plugins loadable in"), result.text)
        XCTAssertTrue(result.text.contains("greeter-c, hello-c"), result.text)
    }

    func testCheckListsEveryProblemAndExits1() throws {
        let whole = try Data(contentsOf: Repository.binDirectory.appendingPathComponent("libPlexusHello.so"))
        let truncated = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-trunc-\(UUID().uuidString.prefix(8)).so")
        try whole.prefix(3000).write(to: truncated)
        defer { try? FileManager.default.removeItem(at: truncated) }
        let directory = try installation([(try fixture("hello-c"), "hello-c.so"), (truncated, "t.so"), (try fixture("crash-load"), "crash-load.so"),
                                          (try fixture("garbage"), "garbage.so"), (try fixture("zz-duplicate"), "zz-duplicate.so")],
                                         plugins: "required = \"hello-c, greeter-c\"")
        try "greeting = \"unterminated\n".write(to: directory.appendingPathComponent("plugins.d/hello-c.toml"), atomically: true, encoding: .utf8)
        let result = try CLI.run(["check", "--config", directory.appendingPathComponent("plexus.toml").path])
        XCTAssertEqual(result.status, 1, result.text)
        for expected in ["problem: hello-c.so: plugin 'hello-c' settings hello-c.toml: ",
                         "problem: t.so: not a loadable shared object: truncated or corrupt",
                         "problem: crash-load.so: loading it crashed the process with SIGSEGV",
                         "problem: garbage.so: not an ELF shared object",
                         "problem: zz-duplicate.so: duplicate plugin name 'hello-c', already in hello-c.so",
                         "problem: required plugin 'greeter-c' is not among the loadable plugins",
                         "check failed: 6 problems"] {
            XCTAssertTrue(result.text.contains(expected), "missing '\(expected)' in:\n\(result.text)")
        }
    }

    func testCheckOfABrokenConfigurationExits1() throws {
        let directory = try installation([(try fixture("hello-c"), "hello-c.so")], extra: "[server]\nlisten = \"nowhere\"\nno_such_key = 1")
        let result = try CLI.run(["check", "--config", directory.appendingPathComponent("plexus.toml").path])
        XCTAssertEqual(result.status, 1, result.text)
        XCTAssertTrue(result.text.contains("problem: configuration:"), result.text)
    }

    func testReloadWaitsForTheOutcomeAndExits1OnARollbackWithTheReason() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["hello-c"], pluginSettings: "required = \"hello-c\"",
                                                extra: "[supervisor]\nenabled = true\nwatch_plugins = false\nreload_timeout_ms = 5000")
        let data = plexus.workDirectory.appendingPathComponent("data").path
        let good = try CLI.run(["reload", "--data", data])
        XCTAssertEqual(good.status, 0, good.text)
        XCTAssertTrue(good.text.contains("reload complete: generation 2 serving"), good.text)

        // The required plugin's file replaced by one that does not load: the reload is rolled back.
        let temporary = plexus.workDirectory.appendingPathComponent(".swap.so")
        try FileManager.default.copyItem(at: try fixture("start-fails"), to: temporary)
        XCTAssertEqual(rename(temporary.path, plexus.pluginsDirectory.appendingPathComponent("hello-c.so").path), 0)
        let bad = try CLI.run(["reload", "--data", data])
        XCTAssertEqual(bad.status, 1, bad.text)
        XCTAssertTrue(bad.text.contains("reload rolled back (generation 3): the new worker is not ready: required plugin 'hello-c'"), bad.text)
        XCTAssertEqual((try? plexus.get("/api/v1/c/hello"))?.status, 200, "the previous generation keeps serving")
        XCTAssertEqual(plexus.stop(), 0)

        let stopped = try CLI.run(["reload", "--data", data])
        XCTAssertEqual(stopped.status, 1, stopped.text)
        XCTAssertTrue(stopped.text.contains("no supervisor pid"), stopped.text)
    }
}
