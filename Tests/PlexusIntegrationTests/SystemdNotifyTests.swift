import Foundation
import PlexusTesting
import XCTest

/// `Type=notify` under systemd: the real binary talks to a `NOTIFY_SOCKET` this test listens on.
final class SystemdNotifyTests: XCTestCase {
    /// Starts plexus with `NOTIFY_SOCKET` (and `WATCHDOG_USEC`) in its environment only.
    private func startPlexus(_ socket: NotifySocket, watchdogMicroseconds: Int? = 200_000, pluginSettings: String = "", extra: String = "") throws -> TestRuntime {
        setenv("NOTIFY_SOCKET", socket.name, 1)
        if let watchdogMicroseconds { setenv("WATCHDOG_USEC", "\(watchdogMicroseconds)", 1) }
        defer {
            unsetenv("NOTIFY_SOCKET")
            unsetenv("WATCHDOG_USEC")
        }
        return try Repository.startPlexus(pluginSettings: pluginSettings, extra: extra)
    }

    func testSupervisedMasterSaysReadyReloadingWatchdogAndStopping() throws {
        let socket = try NotifySocket(abstract: false)
        let plexus = try startPlexus(socket)
        let master = plexus.process.processIdentifier

        let ready = socket.waitFor { $0.assignments["READY"] == "1" }
        XCTAssertNotNil(ready, "no READY=1: \(socket.received.map(\.lines))\n\(plexus.log)")
        XCTAssertEqual(try plexus.get("/ready").status, 200, "READY=1 is sent once /ready answers 200")
        XCTAssertNotNil(socket.waitFor { $0.assignments["WATCHDOG"] == "1" }, "no WATCHDOG=1 with WATCHDOG_USEC set")
        XCTAssertNotNil(socket.waitFor { $0.assignments["WATCHDOG"] == "1" }, "the watchdog ping repeats")

        kill(master, SIGHUP)
        let reloading = socket.waitFor { $0.assignments["RELOADING"] == "1" }
        XCTAssertNotNil(reloading, "no RELOADING=1 after SIGHUP: \(socket.received.map(\.lines))")
        let monotonic = reloading?.assignments["MONOTONIC_USEC"].flatMap { UInt64($0) }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        XCTAssertNotNil(monotonic, "RELOADING=1 carries MONOTONIC_USEC: \(reloading?.lines ?? [])")
        XCTAssertLessThanOrEqual(monotonic ?? .max, UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000,
                                 "MONOTONIC_USEC is CLOCK_MONOTONIC, not wall time")
        let reloaded = socket.waitFor { $0.assignments["READY"] == "1" }
        XCTAssertEqual(reloaded?.assignments["STATUS"], "serving generation 2", "\(socket.received.map(\.lines))")
        let deadline = Date().addingTimeInterval(10)
        while !plexus.log.contains("reload complete: generation 2 serving") && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(plexus.log.contains("reload complete: generation 2 serving"), plexus.log)

        XCTAssertEqual(plexus.stop(), 0)
        XCTAssertNotNil(socket.waitFor(seconds: 5) { $0.assignments["STOPPING"] == "1" }, "no STOPPING=1 on SIGTERM: \(socket.received.map(\.lines))")
        XCTAssertEqual(Set(socket.received.map(\.pid)), [master], "only the master (systemd's main pid) notifies; workers never inherit NOTIFY_SOCKET")
    }

    func testRolledBackReloadEndsWithReady() throws {
        let socket = try NotifySocket(abstract: true)
        let plexus = try startPlexus(socket, watchdogMicroseconds: nil, pluginSettings: "required = [\"hello\"]")
        XCTAssertNotNil(socket.waitFor { $0.assignments["READY"] == "1" }, "\(plexus.log)")
        // The next generation cannot start the required plugin: the reload is rolled back.
        try FileManager.default.removeItem(at: plexus.pluginsDirectory.appendingPathComponent("libPlexusHello.so"))
        kill(plexus.process.processIdentifier, SIGHUP)
        XCTAssertNotNil(socket.waitFor { $0.assignments["RELOADING"] == "1" }, "\(socket.received.map(\.lines))")
        let ended = socket.waitFor { $0.assignments["READY"] == "1" }
        XCTAssertTrue(ended?.assignments["STATUS"]?.hasPrefix("reload rolled back") == true, "\(socket.received.map(\.lines))\n\(plexus.log)")
        XCTAssertFalse(socket.received.contains { $0.assignments["WATCHDOG"] != nil }, "no WATCHDOG=1 without WATCHDOG_USEC")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testUnsupervisedServerIsNotReadyWhileARequiredPluginIsMissing() throws {
        let socket = try NotifySocket(abstract: true)
        let plexus = try startPlexus(socket, pluginSettings: "required = [\"billing\"]", extra: "[supervisor]\nenabled = false\n")
        XCTAssertEqual(try plexus.get("/ready").status, 503)
        XCTAssertNotNil(socket.waitFor { $0.assignments["WATCHDOG"] == "1" }, "\(socket.received.map(\.lines))")
        XCTAssertEqual(plexus.stop(), 0)
        XCTAssertNotNil(socket.waitFor(seconds: 5) { $0.assignments["STOPPING"] == "1" }, "\(socket.received.map(\.lines))")
        XCTAssertFalse(socket.received.contains { $0.assignments["READY"] != nil },
                       "READY=1 only once /ready would answer 200: \(socket.received.map(\.lines))")
    }

    func testUnsupervisedServerSaysReadyAndStopping() throws {
        let socket = try NotifySocket(abstract: false)
        let plexus = try startPlexus(socket, extra: "[supervisor]\nenabled = false\n")
        XCTAssertNotNil(socket.waitFor { $0.assignments["READY"] == "1" }, "\(socket.received.map(\.lines))\n\(plexus.log)")
        XCTAssertEqual(plexus.stop(), 0)
        XCTAssertNotNil(socket.waitFor(seconds: 5) { $0.assignments["STOPPING"] == "1" }, "\(socket.received.map(\.lines))")
        XCTAssertEqual(Set(socket.received.map(\.pid)), [plexus.process.processIdentifier])
    }
}
