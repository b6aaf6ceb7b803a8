import Foundation
import PlexusTesting
import XCTest

/// Jobs kept in the plugin's storage across restarts, eviction of stored rows, and job events on the bus.
final class PersistenceAndEventsTests: RestartTestCase {
    override class var workDirectoryPrefix: String { "timetable-persist" }

    private func jsonObject(_ bytes: [UInt8]) -> NSDictionary {
        ((try? JSONSerialization.jsonObject(with: Data(bytes))) as? NSDictionary) ?? [:]
    }

    /// A finished job's status, JSON result and ITC2007 text are the same after a restart; it stays listed and
    /// can still be re-planned.
    func testFinishedJobSurvivesRestart() throws {
        let directory = workDirectory()
        var plexus = try TimetableHarness.start(workDirectory: directory)
        let id = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        let before = try TimetableHarness.waitFinished(plexus, id)
        XCTAssertEqual(before["status"] as? String, "succeeded")
        let resultBefore = try plexus.get(jobPath(id) + "/result")
        XCTAssertEqual(resultBefore.status, 200)
        let textBefore = try plexus.get(jobPath(id) + "/result?format=itc2007")
        XCTAssertEqual(textBefore.status, 200)
        XCTAssertFalse(textBefore.text.isEmpty)
        XCTAssertEqual(plexus.stop(), 0, plexus.log)

        plexus = try TimetableHarness.start(workDirectory: directory)
        defer { _ = plexus.stop() }
        let after = try TimetableHarness.status(plexus, id)
        for key in ["status", "created", "started", "finished", "name", "format", "kind", "cancel_requested", "limits", "instance", "progress"] {
            XCTAssertEqual(after[key] as? NSObject, before[key] as? NSObject, "\(key) differs after restart")
        }
        XCTAssertEqual((after["links"] as? [String: String])?["result"], jobPath(id) + "/result")
        let resultAfter = try plexus.get(jobPath(id) + "/result")
        XCTAssertEqual(resultAfter.status, 200, resultAfter.text)
        XCTAssertEqual(resultAfter.header("Content-Type"), "application/json")
        XCTAssertEqual(jsonObject(resultAfter.body), jsonObject(resultBefore.body))
        XCTAssertEqual(jsonObject(resultAfter.body)["id"] as? String, id)
        let textAfter = try plexus.get(jobPath(id) + "/result", headers: "Accept: text/plain\r\n")
        XCTAssertEqual(textAfter.status, 200)
        XCTAssertEqual(textAfter.text, textBefore.text)
        let list = try TimetableHarness.json(try plexus.get(TimetableHarness.jobs))
        XCTAssertEqual((list["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, [id])

        // The restored timetable can be re-planned (read back from the stored ITC2007 text).
        let replan = try TimetableHarness.postJSON(plexus, jobPath(id) + "/replan", [
            "disruptions": [["room": "r3", "unavailable": [["day": 0, "period": 0]]]], "time_limit_seconds": 1,
        ])
        let replanned = try TimetableHarness.accepted(replan)
        XCTAssertEqual(try TimetableHarness.waitFinished(plexus, replanned)["status"] as? String, "succeeded")
        XCTAssertEqual(try TimetableHarness.result(plexus, replanned)["replan_of"] as? String, id)
        // A new job after the restart gets a new id and is listed after the restored one.
        let list2 = try TimetableHarness.json(try plexus.get(TimetableHarness.jobs))
        XCTAssertEqual((list2["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, [id, replanned])
    }

    /// Killed with SIGKILL: the running and the queued job come back `failed` ("interrupted by a restart", no
    /// result); a job that had finished before comes back intact; the plugin reports version 1.1.0.
    func testJobsInterruptedBySIGKILLAreFailedAfterRestart() throws {
        let directory = workDirectory()
        let config = "max_running_jobs = 1\n"
        var plexus = try TimetableHarness.start(config: config, workDirectory: directory)
        let done = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        XCTAssertEqual(try TimetableHarness.waitFinished(plexus, done)["status"] as? String, "succeeded")
        let running = try TimetableHarness.submit(plexus, ctt: Instances.larger(), timeLimit: 60)
        XCTAssertEqual(try TimetableHarness.waitRunning(plexus, running)["status"] as? String, "running")
        let queued = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        XCTAssertEqual(try TimetableHarness.status(plexus, queued)["status"] as? String, "queued")
        usleep(300_000)
        XCTAssertEqual(plexus.stop(signal: SIGKILL), SIGKILL)

        plexus = try TimetableHarness.start(config: config, workDirectory: directory)
        defer { _ = plexus.stop() }
        for id in [running, queued] {
            let status = try TimetableHarness.status(plexus, id)
            XCTAssertEqual(status["status"] as? String, "failed", "\(status)")
            XCTAssertEqual(status["error"] as? String, "interrupted by a restart")
            XCTAssertTrue(status["finished"] is String, "\(status)")
            TimetableHarness.assertProblem(try plexus.get(jobPath(id) + "/result"), status: 409, ["failed", "interrupted by a restart"])
        }
        XCTAssertEqual(try TimetableHarness.status(plexus, running)["started"] is String, true)
        XCTAssertEqual(try TimetableHarness.status(plexus, done)["status"] as? String, "succeeded")
        XCTAssertEqual(try TimetableHarness.result(plexus, done)["feasible"] as? Bool, true)
        // Nothing is running after the restart: new jobs start at once.
        let fresh = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
        XCTAssertEqual(try TimetableHarness.waitFinished(plexus, fresh)["status"] as? String, "succeeded")
        // The interrupted jobs' `timetable.job.finished` events were published (durable) at start.
        var logged: [[String: Any]] = []
        var failed: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(5)
        repeat {
            logged = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/events?topic=timetable.job.finished&limit=100").body))
                as? [[String: Any]] ?? []
            failed = logged.compactMap { $0["payload"] as? [String: Any] }.filter { $0["status"] as? String == "failed" }
            if failed.count < 2 { usleep(50_000) }
        } while failed.count < 2 && Date() < deadline
        XCTAssertEqual(Set(failed.compactMap { $0["id"] as? String }), [running, queued], "\(logged)")
        XCTAssertTrue(failed.allSatisfy { $0["hard"] is NSNull && $0["soft"] is NSNull }, "\(failed)")
        let plugin = try plexus.pluginsByFile()["libPlexusTimetable.so"]
        XCTAssertEqual(plugin?["version"] as? String, "1.1.0", "\(plugin ?? [:])")
    }

    /// An evicted job's rows are deleted: a restart (even with a larger `max_jobs`) does not bring it back.
    func testEvictionDeletesStoredRows() throws {
        let directory = workDirectory()
        var plexus = try TimetableHarness.start(config: "max_jobs = 2\n", workDirectory: directory)
        var ids: [String] = []
        for _ in 0..<3 {
            let id = try TimetableHarness.submit(plexus, ctt: Instances.small, timeLimit: 1)
            XCTAssertEqual(try TimetableHarness.waitFinished(plexus, id)["status"] as? String, "succeeded")
            ids.append(id)
        }
        TimetableHarness.assertProblem(try plexus.get(jobPath(ids[0])), status: 404, [ids[0]])
        XCTAssertEqual(plexus.stop(), 0, plexus.log)

        plexus = try TimetableHarness.start(config: "max_jobs = 10\n", workDirectory: directory)
        defer { _ = plexus.stop() }
        TimetableHarness.assertProblem(try plexus.get(jobPath(ids[0])), status: 404, [ids[0]])
        TimetableHarness.assertProblem(try plexus.get(jobPath(ids[0]) + "/result"), status: 404, [ids[0]])
        let list = try TimetableHarness.json(try plexus.get(TimetableHarness.jobs))
        XCTAssertEqual((list["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, Array(ids[1...]))
        XCTAssertEqual(try TimetableHarness.result(plexus, ids[2])["id"] as? String, ids[2])
    }

    /// Over SSE: rate-limited `timetable.job.progress` events with the best-so-far while a job runs, then one
    /// `timetable.job.finished` with the final status and cost; both topics are in the event catalogue.
    func testProgressAndFinishedEventsOnTheBus() throws {
        let plexus = try TimetableHarness.start()
        defer { _ = plexus.stop() }
        let client = try TestClient(port: plexus.port)
        try client.send("GET /api/v1/events/stream?topic=timetable.%23 HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        let head = try client.readHead()
        XCTAssertEqual(head.status, 200)
        let reader = SSEReader(client: client)
        usleep(100_000)

        let timeLimit = 3.0
        let id = try TimetableHarness.submit(plexus, ctt: Instances.larger(), timeLimit: timeLimit)
        let started = Date()
        var progress: [[String: Any]] = []
        var finished: [String: Any]?
        while finished == nil {
            guard Date().timeIntervalSince(started) < 30 else { return XCTFail("no timetable.job.finished within 30 s") }
            let frame = try reader.next()
            let payload = frame.json["payload"] as? [String: Any] ?? [:]
            guard payload["id"] as? String == id else { continue }
            XCTAssertEqual(frame.json["source"] as? String, "timetable")
            switch frame.event {
            case "timetable.job.progress": progress.append(payload)
            case "timetable.job.finished": finished = payload
            default: XCTFail("unexpected event \(frame.event ?? "nil")")
            }
        }
        let seconds = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(progress.count, 2, "\(progress)")
        XCTAssertLessThanOrEqual(Double(progress.count), 4 * seconds + 2, "more than 4 progress events per second")
        for event in progress {
            XCTAssertEqual(Set(event.keys), ["id", "best_hard", "best_soft", "elapsed_seconds"])
            XCTAssertNotNil(event["best_hard"] as? Int)
            XCTAssertNotNil(event["best_soft"] as? Int)
            XCTAssertNotNil(event["elapsed_seconds"] as? Double)
        }
        let elapsed = progress.compactMap { $0["elapsed_seconds"] as? Double }
        XCTAssertEqual(elapsed, elapsed.sorted(), "elapsed_seconds grows")

        let result = try TimetableHarness.result(plexus, id)
        let cost = result["cost"] as? [String: Any] ?? [:]
        XCTAssertEqual(finished?["status"] as? String, result["status"] as? String)
        XCTAssertEqual(finished?["hard"] as? Int, cost["hard"] as? Int)
        XCTAssertEqual(finished?["soft"] as? Int, cost["soft"] as? Int)
        XCTAssertEqual(Set(finished?.keys.map { $0 } ?? []), ["id", "status", "hard", "soft"])

        // `finished` is durable (in the event log), `progress` is not.
        let logged = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/events?topic=timetable.%23&limit=100").body))
            as? [[String: Any]] ?? []
        let loggedTopics = logged.filter { ($0["payload"] as? [String: Any])?["id"] as? String == id }.compactMap { $0["topic"] as? String }
        XCTAssertEqual(loggedTopics, ["timetable.job.finished"], "\(logged)")
        let catalogue = try JSONSerialization.jsonObject(with: Data(try plexus.get("/api/v1/events/catalogue").body)) as? [[String: Any]] ?? []
        let topics = Set(catalogue.compactMap { $0["topic"] as? String })
        XCTAssertTrue(topics.isSuperset(of: ["timetable.job.progress", "timetable.job.finished"]), "\(catalogue)")
    }
}
