import Foundation
import PlexusTesting
import XCTest

/// Per-plugin storage through a fixture plugin, against the real runtime.
final class StorageTests: XCTestCase {
    private func json(_ response: TestResponse) throws -> Any { try JSONSerialization.jsonObject(with: Data(response.body)) }

    func testSQLWithMigrationAndChangeFeedOnTheBus() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: [])
        let client = try TestClient(port: plexus.port)
        try client.send("GET /api/v1/events/stream?topic=storage.notes.%23 HTTP/1.1\r\nHost: t\r\n\(plexus.authorized(""))\r\n")
        XCTAssertEqual(try client.readHead().status, 200)
        let feed = SSEReader(client: client)
        usleep(100_000)
        let created = try plexus.request("POST", "/api/v1/notes", body: Array("first".utf8))
        XCTAssertEqual(created.status, 201, created.text)
        let id = try XCTUnwrap((try json(created) as? [String: Any])?["id"] as? Int)
        XCTAssertEqual(try plexus.request("PUT", "/api/v1/notes/\(id)", body: Array("edited".utf8)).status, 204)
        let notes = try json(try plexus.get("/api/v1/notes")) as! [[String: String]]
        XCTAssertEqual(notes, [["id": "\(id)", "body": "edited"]])
        XCTAssertEqual(try plexus.request("DELETE", "/api/v1/notes/\(id)").status, 204)
        var operations: [String] = []
        for _ in 0..<3 {
            let frame = try feed.next()
            let payload = frame.json["payload"] as? [String: Any]
            XCTAssertEqual(payload?["table"] as? String, "notes")
            XCTAssertEqual(payload?["rowid"] as? Int, id)
            operations.append(frame.event ?? "")
        }
        XCTAssertEqual(operations, ["storage.notes.notes.insert", "storage.notes.notes.update", "storage.notes.notes.delete"])
        XCTAssertTrue(try plexus.get("/metrics").text.contains("plexus_storage_operation_seconds"))
    }

    func testOnlineBackupWhileServing() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: [])
        XCTAssertEqual(try plexus.request("POST", "/api/v1/notes", body: Array("backed up".utf8)).status, 201)
        _ = try plexus.request("POST", "/api/v1/events", body: Array(#"{"topic":"audit.entry","durable":true}"#.utf8))
        let output = plexus.workDirectory.appendingPathComponent("backup")
        let result = try CLI.run(["backup", "--data", plexus.workDirectory.appendingPathComponent("data").path, "--output", output.path])
        XCTAssertEqual(result.status, 0, result.text)
        XCTAssertTrue(result.text.contains("plugins/notes/storage.sqlite"), result.text)
        XCTAssertTrue(result.text.contains("events.sqlite"), result.text)
        let query = Process()
        query.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        query.arguments = ["python3", "-c", "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select body from notes').fetchone()[0])",
                           output.appendingPathComponent("plugins/notes/storage.sqlite").path]
        let pipe = Pipe()
        query.standardOutput = pipe
        try query.run()
        query.waitUntilExit()
        XCTAssertEqual(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "backed up\n")
        let missing = try CLI.run(["backup", "--data", "/nonexistent", "--output", output.path + "-2"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.text.contains("no such file: /nonexistent"), missing.text)
    }

    func testCorruptDatabaseIsReportedAtStartAndTheRuntimeKeepsServing() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-corrupt-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        let database = work.appendingPathComponent("data/plugins/notes")
        try FileManager.default.createDirectory(at: database, withIntermediateDirectories: true)
        try Data(repeating: 0x5A, count: 8192).write(to: database.appendingPathComponent("storage.sqlite"))
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: ["hello-c"], workDirectory: work)
        let deadline = Date().addingTimeInterval(5)
        while !plexus.log.contains("plugin storage cannot be opened") && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(plexus.log.contains("plugin storage cannot be opened"), plexus.log)
        XCTAssertTrue(plexus.log.contains("storage.sqlite"), "the log names the file")
        // The plugin's migration in start() meets the corrupt file: the plugin fails with the reason.
        let notes = try XCTUnwrap(try plexus.pluginsByFile()["libPlexusFixtureNotes.so"])
        XCTAssertEqual(notes["state"] as? String, "failed")
        XCTAssertTrue((notes["reason"] as? String ?? "").contains("corrupt"), "\(notes)")
        XCTAssertEqual(try plexus.get("/api/v1/c/hello").status, 200, "other plugins keep serving")
    }

    func testKeyValueVersionsConflictsAndTTL() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: [])
        XCTAssertEqual((try json(try plexus.request("PUT", "/api/v1/kv/color?expected_version=0", body: Array("red".utf8))) as! [String: Int])["version"], 1)
        let conflict = try plexus.request("PUT", "/api/v1/kv/color?expected_version=0", body: Array("blue".utf8))
        XCTAssertEqual(conflict.status, 409)
        XCTAssertEqual(conflict.header("Content-Type"), "application/problem+json")
        XCTAssertEqual((try json(try plexus.request("PUT", "/api/v1/kv/color?expected_version=1", body: Array("blue".utf8))) as! [String: Int])["version"], 2)
        let read = try plexus.get("/api/v1/kv/color")
        XCTAssertEqual(read.text, "blue")
        XCTAssertEqual(read.header("ETag"), "\"2\"")
        _ = try plexus.request("PUT", "/api/v1/kv/colour?ttl=0.3", body: Array("gone soon".utf8))
        XCTAssertEqual(try json(try plexus.get("/api/v1/kv?prefix=col")) as! [String], ["color", "colour"])
        usleep(500_000)
        XCTAssertEqual(try plexus.get("/api/v1/kv/colour").status, 404, "expired keys are invisible at once")
        XCTAssertEqual(try plexus.request("DELETE", "/api/v1/kv/color?expected_version=1").status, 409)
        XCTAssertEqual(try plexus.request("DELETE", "/api/v1/kv/color?expected_version=2").status, 204)
    }

    func testAnotherPluginsDatabaseIsOutOfReach() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so", "libPlexusFixtureBusProbe.so"], cFixtures: [])
        XCTAssertEqual(try plexus.request("POST", "/api/v1/notes", body: Array("mine".utf8)).status, 201)
        let other = plexus.workDirectory.appendingPathComponent("data/plugins/bus-probe/storage.sqlite").path
        for sql in ["ATTACH DATABASE '\(other)' AS theirs", "SELECT * FROM _plexus_kv", "PRAGMA writable_schema = ON"] {
            let response = try plexus.request("POST", "/api/v1/notes/sql", body: Array(sql.utf8))
            XCTAssertEqual(response.status, 400, "\(sql): \(response.text)")
            XCTAssertTrue(response.text.contains("denied"), response.text)
        }
        XCTAssertEqual(try plexus.get("/api/v1/notes").status, 200, "the runtime keeps serving")
    }

    /// A full disk under the runtime's own databases (here the durable event log) is answered
    /// without the server's paths: the error with its path goes to the log only.
    func testFullDiskAnswersOfTheRuntimeNameNoServerPath() throws {
        let wrapper = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-fsize-events-\(getpid()).sh")
        try "#!/bin/sh\nulimit -f 16384\nexec \"\(Repository.plexusBinary.path)\" \"$@\"\n".write(to: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper.path, 0o755)
        defer { try? FileManager.default.removeItem(at: wrapper) }
        let plexus = try Repository.startPlexus(cFixtures: [], binary: wrapper)
        let payload = String(repeating: "x", count: 400_000)
        let body = Array(try JSONSerialization.data(withJSONObject: ["topic": "fill.disk", "payload_text": payload, "durable": true]))
        var full: TestResponse?
        for _ in 0..<200 {
            let response = try plexus.request("POST", "/api/v1/events", headers: "Content-Type: application/json\r\n", body: body)
            if response.status != 202 { full = response; break }
        }
        let failure = try XCTUnwrap(full, "the file-size limit was never reached")
        XCTAssertGreaterThanOrEqual(failure.status, 500, failure.text)
        XCTAssertFalse(failure.text.contains(plexus.workDirectory.path), failure.text)
        XCTAssertFalse(failure.text.contains(".sqlite"), failure.text)
        let requestID = try XCTUnwrap(failure.header("X-Request-Id"))
        XCTAssertTrue(failure.text.contains(requestID), "the answer names the request id to look up: \(failure.text)")
        XCTAssertTrue(plexus.logEventuallyContains(requestID), "the log holds the error under that request id")
        XCTAssertEqual(try plexus.get("/health").status, 200)
    }

    func testFullDiskGivesAnErrorAndLosesNothing() throws {
        // A wrapper that caps the file size plexus may write (RLIMIT_FSIZE via ulimit -f, in KiB blocks).
        let wrapper = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-fsize-\(getpid()).sh")
        try "#!/bin/sh\nulimit -f 65536\nexec \"\(Repository.plexusBinary.path)\" \"$@\"\n".write(to: wrapper, atomically: true, encoding: .utf8)
        chmod(wrapper.path, 0o755)
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureNotes.so"], cFixtures: [], binary: wrapper)
        XCTAssertEqual(try plexus.request("POST", "/api/v1/notes", body: Array("keep me".utf8)).status, 201)
        var full: TestResponse?
        for _ in 0..<60 {
            let response = try plexus.request("POST", "/api/v1/notes/bulk?count=50&size=40000")
            if response.status != 201 { full = response; break }
        }
        let failure = try XCTUnwrap(full, "the file-size limit was never reached")
        XCTAssertEqual(failure.status, 507, failure.text)
        XCTAssertTrue(failure.text.contains("disk_full") || failure.text.contains("Storage disk full"), failure.text)
        // The answer names no server path (the error with its path goes to the log).
        XCTAssertFalse(failure.text.contains(plexus.workDirectory.path), failure.text)
        XCTAssertFalse(failure.text.contains(".sqlite"), failure.text)
        let notes = try XCTUnwrap(try json(try plexus.get("/api/v1/notes")) as? [[String: String]])
        XCTAssertEqual(notes.first?["body"], "keep me", "committed data survives")
        XCTAssertEqual(notes.count % 50, 1, "a failed batch leaves nothing half-written")
        XCTAssertEqual(try plexus.get("/health").status, 200)
    }

    func testDurableEventsSurviveKillNineAtLeastOnce() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-kill-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let ackLog = work.appendingPathComponent("acked.txt").path
        let config = ["bus-probe": "ack_log = \"\(ackLog)\"\n"]
        var plexus: TestRuntime? = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureBusProbe.so"], cFixtures: [],
                                                              pluginConfigs: config, workDirectory: work)
        // Publishers on several threads; every id whose publish returned 202 must be delivered after a kill -9.
        let lock = NSLock()
        var published: [String] = []
        let port = plexus!.port, auth = plexus!.authorized("")
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for n in 0..<200 {
                if worker == 0 && n == 100 { kill(plexus!.process.processIdentifier, SIGKILL) }
                guard let response = try? TestClient.request("POST", "/api/v1/events", port: port, headers: auth,
                                                             body: Array(#"{"topic":"orders.created","payload":{"n":\#(n)},"durable":true}"#.utf8)),
                      response.status == 202,
                      let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                      let id = object["id"] as? String else { continue }
                lock.withLock { published.append(id) }
            }
        }
        plexus?.process.waitUntilExit()
        XCTAssertGreaterThan(published.count, 0)
        plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureBusProbe.so"], cFixtures: [], pluginConfigs: config, workDirectory: work)
        var delivered: [String] = []
        let deadline = Date().addingTimeInterval(30)
        repeat {
            usleep(200_000)
            delivered = ((try? String(contentsOfFile: ackLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        } while Set(published).subtracting(delivered).count > 0 && Date() < deadline
        let missing = Set(published).subtracting(delivered)
        XCTAssertEqual(missing.count, 0, "\(missing.count) of \(published.count) acknowledged publishes were never delivered")
        print("kill -9: \(published.count) acknowledged publishes, \(delivered.count) deliveries, \(delivered.count - Set(delivered).count) duplicates")
        XCTAssertEqual(plexus?.stop(), 0)
    }
}
