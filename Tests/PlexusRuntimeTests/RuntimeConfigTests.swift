@testable import PlexusRuntime
import XCTest

final class RuntimeConfigTests: XCTestCase {
    private func write(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).toml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testDefaultsWithoutAFile() {
        let config = RuntimeConfig()
        XCTAssertEqual(config.host, "127.0.0.1")
        XCTAssertEqual(config.port, 8080)
        XCTAssertEqual(config.pluginsDirectory.lastPathComponent, "plugins.d")
    }

    func testReadsTablesAndResolvesPathsAgainstTheFile() throws {
        let file = try write("""
        [server]
        listen = "[::1]:9000"
        max_body_bytes = 2048
        access_log = false
        [plugins]
        dir = "mods"
        start_timeout_ms = 100
        [log]
        level = "debug"
        """)
        let config = try RuntimeConfig(file: file)
        XCTAssertEqual(config.host, "::1")
        XCTAssertEqual(config.port, 9000)
        XCTAssertEqual(config.limits.maxBodyBytes, 2048)
        XCTAssertFalse(config.accessLog.isEnabled)
        XCTAssertEqual(config.pluginsDirectory.path, file.deletingLastPathComponent().appendingPathComponent("mods").path)
        XCTAssertEqual(config.startTimeoutMilliseconds, 100)
        XCTAssertEqual(config.logLevel, .debug)
    }

    func testOffLoopThreadsPerPlugin() throws {
        XCTAssertNil(RuntimeConfig().offLoopThreadsPerPlugin, "default: every pool thread but one")
        XCTAssertEqual(OffLoopScheduler.defaultThreadsPerOwner(poolSize: 4), 3)
        XCTAssertEqual(OffLoopScheduler.defaultThreadsPerOwner(poolSize: 1), 1)
        XCTAssertEqual(try RuntimeConfig(file: write("[plugins]\noffloop_threads_per_plugin = 2\n")).offLoopThreadsPerPlugin, 2)
        let zero = try write("[plugins]\noffloop_threads_per_plugin = 0\n")
        XCTAssertThrowsError(try RuntimeConfig(file: zero)) { error in
            XCTAssertTrue("\(error)".contains("plugins.offloop_threads_per_plugin = 0"), "\(error)")
            XCTAssertTrue("\(error)".contains(zero.path), "\(error)")
        }
    }

    func testErrorsNameTheFileAndKey() throws {
        let typo = try write("[server]\nlisen = \"x\"\n")
        XCTAssertThrowsError(try RuntimeConfig(file: typo)) { error in
            XCTAssertTrue("\(error)".contains("unknown setting(s) server.lisen"), "\(error)")
        }
        let wrongType = try write("[server]\nmax_body_bytes = \"big\"\n")
        XCTAssertThrowsError(try RuntimeConfig(file: wrongType)) { error in
            XCTAssertTrue("\(error)".contains("server.max_body_bytes must be a non-negative integer"), "\(error)")
        }
        let badListen = try write("[server]\nlisten = \"localhost\"\n")
        XCTAssertThrowsError(try RuntimeConfig(file: badListen))
    }

    func testAccessLogSectionDestinationsFormatsAndMistakes() throws {
        let file = try write("[access_log]\npath = \"logs/access.log\"\nformat = \"combined\"\nflush_bytes = 1024\nflush_ms = 50\nbuffer_bytes = 8192\n")
        let config = try RuntimeConfig(file: file)
        XCTAssertEqual(config.accessLog.destination, .file(file.deletingLastPathComponent().appendingPathComponent("logs/access.log").path),
                       "a path alone means a file, relative to the config file")
        XCTAssertEqual(config.accessLog.format, .combined)
        XCTAssertEqual(config.accessLog.flushBytes, 1024)
        XCTAssertEqual(config.accessLog.flushMilliseconds, 50)
        XCTAssertEqual(config.accessLog.bufferBytes, 8192)
        XCTAssertEqual(RuntimeConfig().accessLog.destination, .standardError)
        XCTAssertEqual(RuntimeConfig().accessLog.format, .kv)
        XCTAssertEqual(try RuntimeConfig(file: write("[log]\nformat = \"json\"\n")).accessLog.format, .json, "JSON logs: JSON access records")
        XCTAssertEqual(try RuntimeConfig(file: write("[log]\nformat = \"json\"\n[access_log]\nformat = \"kv\"\n")).accessLog.format, .kv)
        XCTAssertFalse(try RuntimeConfig(file: write("[server]\naccess_log = false\n[access_log]\ndestination = \"stderr\"\n")).accessLog.isEnabled)
        XCTAssertFalse(try RuntimeConfig(file: write("[access_log]\ndestination = \"off\"\n")).accessLog.isEnabled)
        for (text, message) in [("destination = \"file\"", "needs access_log.path"), ("destination = \"syslog\"", "is not one of stderr, file, off"),
                                ("format = \"apache\"", "is not one of kv, json, combined"), ("flush_ms = 0", "access_log.flush_ms must be an integer of at least 1"),
                                ("buffer_bytes = 10", "at least 1024"), ("buffer_bytes = 9223372036854775807", "at most 1073741824"), ("rotate = true", "unknown setting(s) access_log.rotate")] {
            XCTAssertThrowsError(try RuntimeConfig(file: write("[access_log]\n\(text)\n")), text) { error in
                XCTAssertTrue("\(error)".contains(message), "\(text): \(error)")
            }
        }
    }

    func testPluginConfigFlattensNestedTables() throws {
        let file = try write("greeting = \"hi\"\n[limits]\nmax = 3\nflags = [1, 2]\n")
        let values = try TOMLFile.flatten(contentsOf: file)
        XCTAssertEqual(values, ["greeting": "hi", "limits.max": "3", "limits.flags": "1,2"])
    }
}
