import Foundation
import PlexusTesting
import XCTest

/// `plexus serve --supervise` (`[supervisor] enabled = true`): plugins run in a worker process;
/// a crash or hang is blamed on the plugin that was running, the worker restarts, and a plugin
/// blamed too often is quarantined.
final class SupervisorTests: XCTestCase {
    private func startSupervised(_ fixtures: [String], supervisor: String = "", extra: String = "", workDirectory: URL? = nil) throws -> TestRuntime {
        try Repository.startPlexus(swiftPlugins: [], cFixtures: fixtures, extra: "[supervisor]\nenabled = true\n\(supervisor)\n\(extra)",
                                   workDirectory: workDirectory)
    }

    /// Waits until `text` occurs `count` times in the log.
    private func waitForLog(_ plexus: TestRuntime, _ text: String, count: Int = 1, seconds: Double = 20,
                            file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if plexus.log.components(separatedBy: text).count - 1 >= count { return }
            usleep(50_000)
        }
        XCTFail("'\(text)' not seen \(count) time(s) in the log:\n\(plexus.log)", file: file, line: line)
    }

    private func assertHelloAnswers(_ plexus: TestRuntime, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let response = try plexus.get("/api/v1/c/hello")
            XCTAssertEqual(response.status, 200, file: file, line: line)
            XCTAssertTrue(response.text.hasPrefix("hello from C"), response.text, file: file, line: line)
        } catch {
            XCTFail("hello-c did not answer: \(error)\n\(plexus.log)", file: file, line: line)
        }
    }

    func testSegfaultingRouteIsBlamedContainedAndQuarantinedThenReleased() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-sup-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        let plexus = try startSupervised(["hello-c", "crash-segv"], workDirectory: work)
        assertHelloAnswers(plexus)
        let culprit = "crashed in plugin 'crash-segv' (route GET /api/v1/c/segv) from SIGSEGV"
        for crash in 1...3 {
            XCTAssertEqual(try plexus.get("/api/v1/c/segv").status, 502, "the worker dies; the master answers for it")
            waitForLog(plexus, culprit, count: crash)
            assertHelloAnswers(plexus)  // waits in the listen backlog for the new worker
        }
        waitForLog(plexus, "plugin 'crash-segv' quarantined")
        XCTAssertEqual(try plexus.get("/api/v1/c/segv").status, 404, "a quarantined plugin's route is gone")
        let entry = try XCTUnwrap(try plexus.pluginsByFile()["crash-segv.so"])
        XCTAssertEqual(entry["state"] as? String, "failed")
        XCTAssertTrue((entry["reason"] as? String ?? "").hasPrefix("quarantined: crashed the worker 3 times"), "\(entry)")
        let listing = try CLI.run(["plugins", "--listen", "127.0.0.1:\(plexus.port)", "--data", work.appendingPathComponent("data").path])
        XCTAssertTrue(listing.text.range(of: #"crash-segv\s+1\.2\.0\s+failed\s+quarantined:"#, options: .regularExpression) != nil, listing.text)
        let data = work.appendingPathComponent("data")
        let quarantine = try JSONSerialization.jsonObject(with: Data(contentsOf: data.appendingPathComponent("quarantine.json"))) as? [String: Any]
        let record = try XCTUnwrap(quarantine?["crash-segv"] as? [String: Any])
        XCTAssertEqual((record["crashes"] as? [[String: Any]])?.count, 3)
        XCTAssertEqual((record["crashes"] as? [[String: Any]])?.first?["signal"] as? String, "SIGSEGV")
        XCTAssertEqual(plexus.stop(), 0, "SIGTERM through the master still exits 0")

        let missing = try CLI.run(["plugin", "release", "hello-c", "--data", data.path])
        XCTAssertNotEqual(missing.status, 0)
        let release = try CLI.run(["plugin", "release", "crash-segv", "--data", data.path])
        XCTAssertEqual(release.status, 0, release.text)
        let again = try startSupervised(["hello-c", "crash-segv"], workDirectory: work)
        waitForLog(again, "plugins_running=2")
        XCTAssertEqual(try again.pluginsByFile()["crash-segv.so"]?["state"] as? String, "running", "released: loaded again")
        XCTAssertEqual(again.stop(), 0)
    }

    func testAbortingRouteIsBlamedAndTheOtherPluginRecovers() throws {
        let plexus = try startSupervised(["hello-c", "crash-abort"])
        XCTAssertEqual(try plexus.get("/api/v1/c/abort").status, 502, "the worker dies; the master answers for it")
        waitForLog(plexus, "crashed in plugin 'crash-abort' (route GET /api/v1/c/abort) from SIGABRT")
        assertHelloAnswers(plexus)
        XCTAssertEqual(try plexus.pluginsByFile()["crash-abort.so"]?["state"] as? String, "running", "one crash does not quarantine")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testHangingRouteIsKilledByTheWatchdogAndBlamed() throws {
        let plexus = try startSupervised(["hello-c", "crash-hang"], supervisor: "watchdog_ms = 1000")
        let started = Date()
        XCTAssertEqual(try plexus.get("/api/v1/c/hang").status, 502, "the watchdog kills the worker; the master answers for it")
        XCTAssertLessThan(Date().timeIntervalSince(started), 8, "the watchdog must cut the hang short")
        waitForLog(plexus, "crashed in plugin 'crash-hang' (route GET /api/v1/c/hang) from SIGKILL (watchdog")
        assertHelloAnswers(plexus)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testCrashDuringStartCountsAndQuarantinesThePlugin() throws {
        let plexus = try startSupervised(["hello-c", "crash-start"], extra: "[bus]\ndurable_topics = \"system.plugin.quarantined\"")
        waitForLog(plexus, "crashed in plugin 'crash-start' (on_start) from SIGSEGV", count: 3)
        waitForLog(plexus, "plugin 'crash-start' quarantined")
        assertHelloAnswers(plexus)
        let entry = try XCTUnwrap(try plexus.pluginsByFile()["crash-start.so"])
        XCTAssertEqual(entry["state"] as? String, "failed")
        XCTAssertTrue((entry["reason"] as? String ?? "").contains("quarantined"), "\(entry)")
        // The worker publishes it (durably) as it starts; the commit may land just after readiness.
        var events = try plexus.get("/api/v1/events?topic=system.plugin.quarantined")
        let deadline = Date().addingTimeInterval(5)
        while !events.text.contains("crash-start") && Date() < deadline {
            usleep(50_000)
            events = try plexus.get("/api/v1/events?topic=system.plugin.quarantined")
        }
        XCTAssertEqual(events.status, 200)
        XCTAssertTrue(events.text.contains("crash-start"), events.text)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testMasterDrainsOnFirstSignalAndExitsAtOnceOnTheSecond() throws {
        let plexus = try Repository.startPlexus(cFixtures: [], serverSettings: "shutdown_grace_ms = 30000", extra: "[supervisor]\nenabled = true")
        let client = try TestClient(port: plexus.port)
        try client.send("GET /api/v1/hello/delay/20000 HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        usleep(300_000)
        kill(plexus.process.processIdentifier, SIGINT)
        waitForLog(plexus, "signal 2: stopping the worker")
        waitForLog(plexus, "shutting down")
        XCTAssertTrue(plexus.process.isRunning, "the first signal drains")
        let started = Date()
        kill(plexus.process.processIdentifier, SIGINT)
        plexus.process.waitUntilExit()
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "the second signal must not wait for the drain")
        XCTAssertEqual(plexus.process.terminationStatus, 1)
        XCTAssertTrue(plexus.log.contains("second signal"))
    }

    // MARK: Reload (new worker generation on the same socket)

    private func copyFixture(_ name: String, into plexus: TestRuntime, as file: String? = nil) throws {
        let source = try Repository.cFixturesDirectory().appendingPathComponent("\(name).so")
        let target = plexus.pluginsDirectory.appendingPathComponent(file ?? "\(name).so")
        let temporary = plexus.workDirectory.appendingPathComponent(".\(UUID().uuidString).so")
        try FileManager.default.copyItem(at: source, to: temporary)
        guard rename(temporary.path, target.path) == 0 else { throw TestFailure("rename to \(target.path) failed") }
    }

    private func status(_ plexus: TestRuntime, _ path: String) -> Int {
        (try? plexus.get(path).status) ?? -1
    }

    func testReloadOnSIGHUPAndOnAPluginsDirectoryChange() throws {
        let plexus = try startSupervised(["hello-c"])
        assertHelloAnswers(plexus)
        XCTAssertEqual(status(plexus, "/api/v1/c/greeter"), 404)
        // SIGHUP: a new generation serves, the old one drains and stops.
        kill(plexus.process.processIdentifier, SIGHUP)
        waitForLog(plexus, "reload complete: generation 2 serving")
        waitForLog(plexus, "previous worker generation stopped")
        assertHelloAnswers(plexus)
        // A plugin copied in: its route answers after the automatic reload.
        try copyFixture("greeter-c", into: plexus)
        waitForLog(plexus, "reload complete: generation 3 serving")
        XCTAssertEqual(status(plexus, "/api/v1/c/greeter"), 200, plexus.log)
        // Removed: 404 after the next reload (here through `plexus reload`).
        try FileManager.default.removeItem(at: plexus.pluginsDirectory.appendingPathComponent("greeter-c.so"))
        waitForLog(plexus, "reload complete: generation 4 serving")
        XCTAssertEqual(status(plexus, "/api/v1/c/greeter"), 404)
        let reload = try CLI.run(["reload", "--data", plexus.workDirectory.appendingPathComponent("data").path])
        XCTAssertEqual(reload.status, 0, reload.text)
        waitForLog(plexus, "reload complete: generation 5 serving")
        assertHelloAnswers(plexus)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testReloadUnderLoadDropsNoRequest() throws {
        let plexus = try startSupervised(["hello-c"], supervisor: "watch_plugins = true")
        let port = plexus.port
        let request = "GET /api/v1/c/hello HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n"
        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var ok = 0, failed = 0, connectionErrors = 0, reconnects = 0
            var errors: [String] = []
        }
        let tally = Tally()
        let perThread = 500
        let group = DispatchGroup()
        for _ in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var client: TestClient?
                var done = 0
                while done < perThread {
                    do {
                        if client == nil { client = try TestClient(port: port) }
                        try client!.send(request)
                        let response = try client!.readResponse()
                        tally.lock.lock()
                        if response.status == 200 { tally.ok += 1 } else { tally.failed += 1; tally.errors.append("status \(response.status)") }
                        if response.header("connection")?.lowercased() == "close" { tally.reconnects += 1 }
                        tally.lock.unlock()
                        if response.header("connection")?.lowercased() == "close" { client = nil }
                    } catch {
                        tally.lock.lock()
                        tally.connectionErrors += 1
                        tally.errors.append("\(error)")
                        tally.lock.unlock()
                        client = nil
                    }
                    done += 1
                    usleep(8_000)  // bounded load spread over the reloads
                }
            }
        }
        usleep(200_000)
        try copyFixture("greeter-c", into: plexus)
        waitForLog(plexus, "reload complete: generation 2 serving")
        try FileManager.default.removeItem(at: plexus.pluginsDirectory.appendingPathComponent("greeter-c.so"))
        waitForLog(plexus, "reload complete: generation 3 serving")
        XCTAssertEqual(group.wait(timeout: .now() + 120), .success, "the clients finished")
        tally.lock.lock()
        defer { tally.lock.unlock() }
        XCTAssertEqual(tally.ok, 4 * perThread, "every request answered 200; errors: \(tally.errors.prefix(10))")
        XCTAssertEqual(tally.failed, 0)
        XCTAssertEqual(tally.connectionErrors, 0, "\(tally.errors.prefix(10))\n\(plexus.log)")
        print("reload under load: \(tally.ok) ok, \(tally.reconnects) reconnects after Connection: close")
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testReloadToABrokenRequiredPluginRollsBack() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["hello-c"], pluginSettings: "required = \"hello-c\"",
                                                extra: "[supervisor]\nenabled = true\nreload_timeout_ms = 5000")
        assertHelloAnswers(plexus)
        // The required plugin's file replaced by one that does not load, plus a new route.
        try copyFixture("garbage", into: plexus, as: "hello-c.so")
        waitForLog(plexus, "reload rolled back: the new worker is not ready: required plugin 'hello-c'")
        assertHelloAnswers(plexus)  // the old generation keeps serving
        XCTAssertFalse(plexus.log.contains("reload complete"), plexus.log)
        // Fixed again: the next reload goes through.
        try copyFixture("hello-c", into: plexus)
        waitForLog(plexus, "reload complete")
        assertHelloAnswers(plexus)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testPluginsDirectoryWatchIgnoresNoiseAndSurvivesReplacementAndRemoval() throws {
        let plexus = try startSupervised(["hello-c"])
        let directory = plexus.pluginsDirectory
        // Entries a worker never reads: no reload.
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(".state"), withIntermediateDirectories: true)
        try "x".write(to: directory.appendingPathComponent(".state/cache"), atomically: true, encoding: .utf8)
        try "notes".write(to: directory.appendingPathComponent("README.txt"), atomically: true, encoding: .utf8)
        usleep(1_200_000)
        XCTAssertFalse(plexus.log.contains("reload: starting"), plexus.log)
        // Replaced by another directory (built aside, then swapped in): the watch follows the path.
        let replacement = plexus.workDirectory.appendingPathComponent("plugins.new")
        let aside = plexus.workDirectory.appendingPathComponent("plugins.old")
        try FileManager.default.createDirectory(at: replacement, withIntermediateDirectories: true)
        for name in ["hello-c", "greeter-c"] {
            try FileManager.default.copyItem(at: try Repository.cFixturesDirectory().appendingPathComponent("\(name).so"),
                                             to: replacement.appendingPathComponent("\(name).so"))
        }
        XCTAssertEqual(rename(directory.path, aside.path), 0)
        XCTAssertEqual(rename(replacement.path, directory.path), 0)
        waitForLog(plexus, "was replaced: watch re-armed on the new directory")
        waitForLog(plexus, "reload complete: generation 2 serving")
        XCTAssertEqual(status(plexus, "/api/v1/c/greeter"), 200, plexus.log)
        // Removed: no reload while it is gone; back unchanged: none either; changed after that: one.
        XCTAssertEqual(rename(directory.path, replacement.path), 0)
        waitForLog(plexus, "was removed: no reload until it is back")
        XCTAssertEqual(rename(replacement.path, directory.path), 0)
        waitForLog(plexus, "fs event watch armed again")
        usleep(700_000)
        XCTAssertFalse(plexus.log.contains("generation 3"), plexus.log)
        try FileManager.default.removeItem(at: directory.appendingPathComponent("greeter-c.so"))
        waitForLog(plexus, "reload complete: generation 3 serving")
        XCTAssertEqual(status(plexus, "/api/v1/c/greeter"), 404)
        assertHelloAnswers(plexus)
        XCTAssertEqual(plexus.stop(), 0)
    }

    // MARK: Memory (`max_rss_mb`)

    /// The payload of the first durable `system.worker.recycled` event `match` accepts, waiting for its commit.
    private func recycledEvent(_ plexus: TestRuntime, seconds: Double = 10, where match: ([String: Any]) -> Bool) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let response = try plexus.get("/api/v1/events?topic=system.worker.recycled")
            if response.status == 200, let list = try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]],
               let payload = list.compactMap({ $0["payload"] as? [String: Any] }).first(where: match) {
                return payload
            }
            usleep(100_000)
        } while Date() < deadline
        return nil
    }

    private let recycledDurable = "[bus]\ndurable_topics = \"system.worker.recycled\""

    func testMemoryCeilingRecyclesTheWorkerGracefullyAndPublishesIt() throws {
        let plexus = try startSupervised(["hello-c", "mem-leak"], supervisor: "max_rss_mb = 100", extra: recycledDurable)
        // The leak keeps 96 MB per call and answers: over the ceiling, then no longer growing.
        XCTAssertEqual(try plexus.get("/api/v1/c/leak").status, 200)
        waitForLog(plexus, "is above max_rss_mb 100: recycling it")
        waitForLog(plexus, "reload complete: generation 2 serving")
        waitForLog(plexus, "previous worker generation stopped")
        assertHelloAnswers(plexus)
        XCTAssertFalse(plexus.log.contains("SIGKILL (memory"), "a worker that stopped growing drains gracefully\n\(plexus.log)")
        let event = try XCTUnwrap(try recycledEvent(plexus) { $0["reason"] as? String == "memory_ceiling" }, plexus.log)
        XCTAssertEqual(event["limit_mb"] as? Int, 100)
        XCTAssertEqual(event["generation"] as? Int, 1)
        XCTAssertGreaterThan(event["rss_mb"] as? Int ?? 0, 100)
        let metrics = try plexus.get("/metrics").text
        XCTAssertTrue(metrics.contains(#"plexus_worker_recycles_total{reason="memory_ceiling"} 1"#), metrics)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testRunawayAllocationIsKilledBlamedAndQuarantined() throws {
        let plexus = try startSupervised(["hello-c", "mem-hog"], supervisor: "max_rss_mb = 200\nquarantine_after = 2", extra: recycledDurable)
        let culprit = "crashed in plugin 'mem-hog' (route GET /api/v1/c/hog) from SIGKILL (memory"
        for blame in 1...2 {
            let started = Date()
            XCTAssertEqual(try plexus.get("/api/v1/c/hog").status, 502, "the worker is killed before it answers; the master answers for it")
            XCTAssertLessThan(Date().timeIntervalSince(started), 4, "killed for its memory, well before the 5 s watchdog")
            waitForLog(plexus, culprit, count: blame)
            assertHelloAnswers(plexus)
        }
        waitForLog(plexus, "plugin 'mem-hog' quarantined")
        // Killed while draining, the serving generation (started before the verdict) is replaced once more.
        let deadline = Date().addingTimeInterval(15)
        while (try? plexus.pluginsByFile()["mem-hog.so"]?["state"] as? String) != "failed" && Date() < deadline { usleep(100_000) }
        XCTAssertEqual(status(plexus, "/api/v1/c/hog"), 404, "a quarantined plugin's route is gone\n\(plexus.log)")
        assertHelloAnswers(plexus)
        // Generation 1 is recycled for its memory: gracefully at first (then killed as it drains), or killed while serving.
        let event = try XCTUnwrap(try recycledEvent(plexus) { $0["generation"] as? Int == 1 }, plexus.log)
        XCTAssertEqual(event["limit_mb"] as? Int, 200)
        XCTAssertGreaterThan(event["rss_mb"] as? Int ?? 0, 200)
        if event["reason"] as? String == "memory_hard_limit" {
            XCTAssertEqual(event["plugin"] as? String, "mem-hog")
        } else {
            XCTAssertEqual(event["reason"] as? String, "memory_ceiling")
        }
        let killedAt = plexus.log.matches(of: #/worker RSS (\d+) MB is still growing past twice max_rss_mb/#).compactMap { Int($0.1) }
        XCTAssertEqual(killedAt.count, 2, plexus.log)
        XCTAssertTrue(killedAt.allSatisfy { (401..<2_000).contains($0) }, "killed soon after passing twice the ceiling: \(killedAt)")
        let metrics = try plexus.get("/metrics").text
        XCTAssertTrue(metrics.contains(#"plexus_worker_recycles_total{reason="memory_hard_limit"} 2"#), metrics)
        XCTAssertEqual(plexus.stop(), 0)
    }

    func testServeIsSupervisedByDefaultAndCanRunWithoutIt() throws {
        let supervised = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["hello-c"])
        assertHelloAnswers(supervised)
        XCTAssertTrue(supervised.log.contains("supervisor listening"))
        XCTAssertEqual(supervised.stop(), 0)
        let plain = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["hello-c"], extra: "[supervisor]\nenabled = false")
        assertHelloAnswers(plain)
        XCTAssertFalse(plain.log.contains("supervisor"))
        XCTAssertEqual(plain.stop(), 0)
    }
}
