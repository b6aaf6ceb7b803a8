import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PlexusFixtureCancel
import PlexusSDK
import PlexusTesting
import Synchronization
import XCTest

/// A request the runtime gives up on (its deadline passed, its client left, its plugin stops)
/// cancels the handler's task (ABI 1.6's `on_request_abandoned`): the fixture's handlers loop
/// until `Task.isCancelled` turns true and count what they saw. In-process over TestHost, and
/// live over the real binary, where the plugin's bulkhead stays taken until the cancelled
/// handler really returns.
final class CancellationTests: XCTestCase {
    // MARK: In-process

    func testDeadlineCancelsTheHandlerInProcess() async throws {
        let host = try await TestHost.start(CancelPlugin.self)
        let response = try await host.get("/api/v1/cancel/wait")
        XCTAssertEqual(response.status, 504, response.text)
        XCTAssertTrue(response.text.contains("within 200 ms"), response.text)
        try await eventually("the handler saw its cancellation and returned") { await host.plugin.observed.finished == 1 }
        let seen = await host.plugin.observed
        XCTAssertEqual(seen, CancelPlugin.Seen(started: 1, cancelled: 1, finished: 1))
        try await eventually("the handler is no longer counted as running") { await host.handlersRunning == 0 }
        await host.stop()
    }

    func testCallerThatLeavesCancelsTheHandlerInProcess() async throws {
        let host = try await TestHost.start(CancelPlugin.self)
        let call = Task { try await host.get("/api/v1/cancel/stuck") }
        try await eventually("the handler began") { await host.plugin.observed.started == 1 }
        let cancelledYet = await host.plugin.observed.cancelled
        XCTAssertEqual(cancelledYet, 0, "no deadline for a minute: nothing cancels it yet")
        call.cancel()
        do {
            let response = try await call.value
            XCTFail("a caller that left gets no answer, got \(response.status)")
        } catch is CancellationError {}
        try await eventually("the handler saw its cancellation") { await host.plugin.observed.cancelled == 1 }
        await host.stop()
    }

    func testStopCancelsRunningHandlersInProcess() async throws {
        let host = try await TestHost.start(CancelPlugin.self)
        let call = Task { try await host.get("/api/v1/cancel/stuck") }
        try await eventually("the handler began") { await host.plugin.observed.started == 1 }
        await host.stop()
        _ = try? await call.value
        try await eventually("the handler saw the stop") { await host.plugin.observed.cancelled == 1 }
        let running = await host.handlersRunning
        XCTAssertEqual(running, 0)
    }

    func testRolesAndScopesReachTheHandlerInProcess() async throws {
        try await rolesAndScopes(try await TestHost.start(CancelPlugin.self))
    }

    func testCancelledOffLoopCallEndsAtOnceAndItsJobSeesTheFlagInProcess() async throws {
        let host = try await TestHost.start(CancelPlugin.self)
        let response = try await host.get("/api/v1/cancel/offloop")
        XCTAssertEqual(response.status, 504, response.text)
        try await eventually("the job saw its flag and returned") { await host.plugin.jobs.returned == 1 }
        let jobs = await host.plugin.jobs
        XCTAssertEqual(jobs, CancelPlugin.Jobs(started: 1, sawCancellation: 1, returned: 1, resumedBeforeTheJobReturned: 1))
        await host.stop()
    }

    /// A job still waiting for a thread when its task is cancelled never runs (it holds no thread);
    /// the waiting call ends with `CancellationError` at once.
    @PluginActor
    func testCancelledJobStillQueuedNeverRuns() async throws {
        let pool = InProcessOffLoop(width: 1)
        let probe = QueueProbe()
        let blocker = Task { @PluginActor in
            try await pool.run(cancellable: { cancellation -> Int in
                probe.blockerStarted.store(true, ordering: .releasing)
                while !cancellation.isCancelled { usleep(1000) }
                return 1
            })
        }
        // Polled here (this test runs on the plugin actor; `eventually` is nonisolated).
        for _ in 0..<500 where !probe.blockerStarted.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(20)) }
        XCTAssertTrue(probe.blockerStarted.load(ordering: .acquiring), "the first job holds the only thread")
        let queued = Task { @PluginActor in
            try await pool.run(cancellable: { _ -> Int in
                probe.queuedRan.store(true, ordering: .releasing)
                return 2
            })
        }
        queued.cancel()
        do {
            let value = try await queued.value
            XCTFail("a cancelled call gets no result, got \(value)")
        } catch is CancellationError {}
        blocker.cancel()
        _ = try? await blocker.value
        // A job queued after the cancelled one runs once the thread is free; the cancelled one never does.
        let after = try await pool.run(cancellable: { _ in 3 })
        XCTAssertEqual(after, 3)
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertFalse(probe.queuedRan.load(ordering: .acquiring), "the cancelled job ran")
    }

    // MARK: Live

    func testCancelledOffLoopCallEndsAtOnceAndItsJobSeesTheFlagLive() async throws {
        let runtime = try Self.runtime()
        let late = try runtime.get("/api/v1/cancel/offloop", anonymous: true)
        XCTAssertEqual(late.status, 504, late.text)
        var jobs = CancelPlugin.Jobs()
        try await eventually("the job saw its flag and returned") {
            jobs = try runtime.get("/api/v1/cancel/jobs", anonymous: true).decode(CancelPlugin.Jobs.self)
            return jobs.returned == 1
        }
        XCTAssertEqual(jobs, CancelPlugin.Jobs(started: 1, sawCancellation: 1, returned: 1, resumedBeforeTheJobReturned: 1))
        XCTAssertEqual(runtime.stop(), 0)
    }

    func testDeadlineCancelsTheHandlerAndHoldsItsBulkheadSlotLive() async throws {
        // Two slots; a cancelled handler keeps cleaning up for 1.5 s before it returns.
        let runtime = try Self.runtime(pluginConfig: "cleanup_ms = 1500\n", extra: "[resilience.plugins.cancel]\nmax_concurrent = 2\n")
        for _ in 0..<2 {
            let late = try runtime.get("/api/v1/cancel/wait", anonymous: true)
            XCTAssertEqual(late.status, 504, late.text)
        }
        // Both slots are still held by handlers that run: the bulkhead bounds real work.
        let full = try runtime.get("/api/v1/cancel/seen", anonymous: true)
        XCTAssertEqual(full.status, 503, "the cancelled handlers still run: \(full.text)")
        XCTAssertTrue(full.text.contains("bulkhead"), full.text)
        // Once they return, their late answers free the slots (and are dropped).
        var seen = CancelPlugin.Seen()
        try await eventually("both handlers returned and freed their slots") {
            let response = try runtime.get("/api/v1/cancel/seen", anonymous: true)
            guard response.status == 200 else { return false }
            seen = try response.decode(CancelPlugin.Seen.self)
            return seen.finished == 2
        }
        XCTAssertEqual(seen, CancelPlugin.Seen(started: 2, cancelled: 2, finished: 2))
        XCTAssertEqual(try runtime.get("/api/v1/cancel/seen", anonymous: true).status, 200)
        XCTAssertEqual(runtime.stop(), 0)
    }

    func testClientThatDisconnectsCancelsTheHandlerLive() async throws {
        let runtime = try Self.runtime()
        let socket = try Self.connect(port: runtime.port)
        _ = Array("GET /api/v1/cancel/stuck HTTP/1.1\r\nHost: t\r\n\r\n".utf8).withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
        try await eventually("the handler began") { try Self.seen(runtime).started == 1 }
        XCTAssertEqual(try Self.seen(runtime).cancelled, 0)
        // The client goes away: an abortive close (RST). A FIN alone is a half-close, after which
        // HTTP/1.1 still answers the requests already sent.
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(socket, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(socket)
        try await eventually("the handler saw its client leave") { try Self.seen(runtime).cancelled == 1 }
        try await eventually("the handler returned") { try Self.seen(runtime).finished == 1 }
        XCTAssertEqual(runtime.stop(), 0)
    }

    func testRolesAndScopesReachTheHandlerLive() async throws {
        try await rolesAndScopes(LiveTestClient(runtime: try Self.runtime()))
    }

    // MARK: Shared bodies and helpers

    /// The route declares roles and scopes as arrays; the handler reads the caller's as arrays.
    func rolesAndScopes(_ client: some PluginTestClient) async throws {
        let ops = TestCaller("ops-caller", roles: ["zeta", "ops"], scopes: ["x:y", "probe:read"])
        let echoed = try await client.get("/api/v1/cancel/whoami", caller: ops)
        XCTAssertEqual(echoed.status, 200, echoed.text)
        XCTAssertTrue(echoed.text.hasPrefix("roles="), echoed.text)
        let line = echoed.text.trimmingCharacters(in: .newlines)
        let parts = line.split(separator: " ")
        XCTAssertEqual(Set(parts[0].dropFirst("roles=".count).split(separator: "|").map(String.init)), ["ops", "zeta"], line)
        XCTAssertEqual(Set(parts[1].dropFirst("scopes=".count).split(separator: "|").map(String.init)), ["probe:read", "x:y"], line)
        let noRole = try await client.get("/api/v1/cancel/whoami", caller: TestCaller("plain-caller", scopes: ["probe:read"]))
        XCTAssertEqual(noRole.status, 403, noRole.text)
        let noScope = try await client.get("/api/v1/cancel/whoami", caller: TestCaller("dev-caller", roles: ["dev"]))
        XCTAssertEqual(noScope.status, 403, noScope.text)
    }

    static func runtime(pluginConfig: String? = nil, extra: String = "") throws -> TestRuntime {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let bin = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"] ?? root.appendingPathComponent(".build/debug").path)
        let binary = bin.appendingPathComponent("plexus"), plugin = bin.appendingPathComponent("libPlexusFixtureCancel.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        return try TestRuntime(binary: binary, plugins: [plugin], pluginConfigs: pluginConfig.map { ["cancel": $0] } ?? [:], extra: extra)
    }

    /// A TCP connection to `127.0.0.1:port`.
    static func connect(port: Int) throws -> Int32 {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard status == 0 else { throw TestFailure("connect to port \(port) failed: errno \(errno)") }
        return fd
    }

    static func seen(_ runtime: TestRuntime) throws -> CancelPlugin.Seen {
        let response = try runtime.get("/api/v1/cancel/seen", anonymous: true)
        guard response.status == 200 else { throw TestFailure("/seen answered \(response.status): \(response.text)") }
        return try response.decode(CancelPlugin.Seen.self)
    }

    /// Waits (up to 10 s, checking every 20 ms) until `condition` holds; fails naming `what` otherwise.
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<500 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("never happened: \(what)")
    }
}

/// Flags the off-loop jobs of a test raise from their pool threads.
private final class QueueProbe: Sendable {
    let blockerStarted = Atomic<Bool>(false)
    let queuedRan = Atomic<Bool>(false)
}
