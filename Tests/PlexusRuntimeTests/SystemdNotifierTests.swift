import Foundation
import Glibc
@testable import PlexusRuntime
import XCTest

/// The sd_notify protocol spoken by hand: addresses, message format, the watchdog interval.
final class SystemdNotifierTests: XCTestCase {
    /// A datagram socket bound to `name` (`/path` or `@abstract`).
    private func listen(_ name: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index] = byte }
            if name.hasPrefix("@") { path[0] = 0 }
        }
        let length = socklen_t(2 + bytes.count + (name.hasPrefix("@") ? 0 : 1))
        let status = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard status == 0 else { throw NSError(domain: "bind", code: Int(errno)) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private func receive(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    func testSendsToAnAbstractNameAndAPath() throws {
        let abstract = "@plexus-test-\(UUID().uuidString.prefix(8))"
        let fd = try listen(abstract)
        defer { close(fd) }
        let notifier = try XCTUnwrap(SystemdNotifier(socketName: abstract))
        notifier.ready(status: "serving\nwith a newline")
        XCTAssertEqual(receive(fd), "READY=1\nSTATUS=serving with a newline\n", "a value cannot add a line")
        notifier.reloading()
        let reloading = try XCTUnwrap(receive(fd))
        XCTAssertTrue(reloading.hasPrefix("RELOADING=1\nMONOTONIC_USEC="), reloading)
        let microseconds = UInt64(reloading.split(separator: "\n")[1].dropFirst("MONOTONIC_USEC=".count))
        XCTAssertNotNil(microseconds)
        XCTAssertLessThanOrEqual(microseconds ?? .max, SystemdNotifier.monotonicMicroseconds())

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        let pathFD = try listen(path)
        defer { close(pathFD); unlink(path) }
        try XCTUnwrap(SystemdNotifier(socketName: path)).stopping()
        XCTAssertEqual(receive(pathFD), "STOPPING=1\n")
    }

    func testRefusesWhatIsNotAnAFUnixName() {
        XCTAssertNil(SystemdNotifier(socketName: ""))
        XCTAssertNil(SystemdNotifier(socketName: "vsock:2:1234"))
        XCTAssertNil(SystemdNotifier(socketName: "relative/path"))
        XCTAssertNil(SystemdNotifier(socketName: "/" + String(repeating: "x", count: 200)), "longer than sun_path")
    }

    func testEnvironmentIsReadOnceAndClearedForChildren() throws {
        setenv("NOTIFY_SOCKET", "@plexus-env-test", 1)
        setenv("WATCHDOG_USEC", "3000000", 1)
        setenv("WATCHDOG_PID", "\(getpid())", 1)
        let notifier = try XCTUnwrap(SystemdNotifier.fromEnvironment())
        XCTAssertEqual(notifier.watchdogInterval, 1_500, "pings at half of WatchdogSec")
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            XCTAssertNil(getenv(name), "\(name) must not reach workers or plugin code")
        }
        XCTAssertNil(SystemdNotifier.fromEnvironment())

        setenv("NOTIFY_SOCKET", "@plexus-env-test", 1)
        setenv("WATCHDOG_USEC", "3000000", 1)
        setenv("WATCHDOG_PID", "\(getpid() + 1)", 1)
        XCTAssertNil(try XCTUnwrap(SystemdNotifier.fromEnvironment()).watchdogInterval, "another process's watchdog")
    }

    func testStateAnnouncesEachTransitionOnceAndInOrder() throws {
        let name = "@plexus-state-\(UUID().uuidString.prefix(8))"
        let fd = try listen(name)
        defer { close(fd) }
        let state = SystemdServiceState(notifier: try XCTUnwrap(SystemdNotifier(socketName: name)))
        state.tick(servingReady: false)
        state.tick(servingReady: true)
        state.tick(servingReady: true)
        state.reloadStarted("SIGHUP")
        state.tick(servingReady: true, reloadInProgress: true)
        state.reloadEnded("serving generation 2")
        state.reloadEnded("again")
        state.reloadStarted("abandoned")
        state.tick(servingReady: false, reloadInProgress: false)
        state.tick(servingReady: true, reloadInProgress: false)
        state.stopping()
        state.stopping()
        state.tick(servingReady: true)
        var messages: [String] = []
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while poll(&poller, 1, 200) == 1, let message = receive(fd) { messages.append(message) }
        XCTAssertEqual(messages.map { $0.split(separator: "\n").first.map(String.init) ?? "" },
                       ["READY=1", "RELOADING=1", "READY=1", "RELOADING=1", "READY=1", "STOPPING=1"], "\(messages)")
        XCTAssertTrue(messages[2].contains("STATUS=serving generation 2"))
        XCTAssertTrue(messages[4].contains("STATUS=serving after a worker restart"))
    }

    func testWatchdogScheduleIsDueOncePerInterval() {
        var schedule = SystemdWatchdogSchedule(intervalMilliseconds: 100, now: 1_000)
        XCTAssertTrue(schedule.due(now: 1_000))
        XCTAssertFalse(schedule.due(now: 1_050))
        XCTAssertTrue(schedule.due(now: 1_100))
        XCTAssertFalse(schedule.due(now: 1_199))
        XCTAssertTrue(schedule.due(now: 1_500), "a late tick pings at once")
        XCTAssertFalse(schedule.due(now: 1_550))
    }
}
