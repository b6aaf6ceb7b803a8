import Foundation
import PlexusTesting
import XCTest

/// Jobs belong to the tenant of the caller that submitted them: other tenants (and callers without a tenant)
/// get the unknown-job 404 on every job route and do not see them listed; the owner does, also after a restart.
final class TenantIsolationTests: RestartTestCase {
    override class var workDirectoryPrefix: String { "timetable-tenants" }

    /// A request sent with `key` as the bearer credential (a JSON body when `json` is given).
    private func send(_ plexus: TestRuntime, _ method: String, _ path: String, key: String,
                      json: [String: Any]? = nil) throws -> TestResponse {
        var headers = "Authorization: Bearer \(key)\r\n"
        var body: [UInt8] = []
        if let json {
            headers += "Content-Type: application/json\r\n"
            body = [UInt8](try JSONSerialization.data(withJSONObject: json))
        }
        return try plexus.request(method, path, headers: headers, body: body)
    }

    /// The ids `key`'s caller sees in `GET /jobs`, and the list's `count`.
    private func listed(_ plexus: TestRuntime, key: String, file: StaticString = #filePath, line: UInt = #line) throws -> (ids: [String], count: Int?) {
        let response = try send(plexus, "GET", TimetableHarness.jobs, key: key)
        XCTAssertEqual(response.status, 200, response.text, file: file, line: line)
        let object = try TimetableHarness.json(response)
        return ((object["jobs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }, object["count"] as? Int)
    }

    /// Polls `id`'s status as `key`'s caller until it is finished; returns the last status.
    private func waitFinished(_ plexus: TestRuntime, _ id: String, key: String, seconds: Double = 20) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let response = try send(plexus, "GET", jobPath(id), key: key)
            guard response.status == 200 else { throw TestFailure("status of \(id): \(response.status) \(response.text)") }
            let object = try TimetableHarness.json(response)
            let state = object["status"] as? String ?? ""
            if !["queued", "running"].contains(state) { return object }
            guard Date() < deadline else { throw TestFailure("job \(id) still \(state) after \(seconds) s") }
            usleep(50_000)
        }
    }

    /// Asserts that `key`'s caller gets, for job `id`, the same 404 problem as for an id that never existed, on
    /// status, result, cancel (both forms) and re-plan.
    private func assertInvisible(_ plexus: TestRuntime, _ id: String, key: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let unknown = "no-such-job-\(UUID().uuidString.prefix(8).lowercased())"
        let replanBody: [String: Any] = ["disruptions": [["room": "r3", "unavailable": [["day": 0, "period": 0]]]], "time_limit_seconds": 1]
        let probes: [(method: String, suffix: String, json: [String: Any]?)] = [
            ("GET", "", nil), ("GET", "/result", nil), ("POST", "/cancel", nil), ("DELETE", "", nil), ("POST", "/replan", replanBody),
        ]
        for probe in probes {
            let hidden = try send(plexus, probe.method, jobPath(id) + probe.suffix, key: key, json: probe.json)
            let missing = try send(plexus, probe.method, jobPath(unknown) + probe.suffix, key: key, json: probe.json)
            let what = "\(probe.method) \(probe.suffix.isEmpty ? "/:id" : probe.suffix)"
            let hiddenProblem = TimetableHarness.assertProblem(hidden, status: 404, [id], file: file, line: line)
            let missingProblem = TimetableHarness.assertProblem(missing, status: 404, [unknown], file: file, line: line)
            // The same answer as for an unknown id, once the ids (and the per-request `instance`) are set aside.
            for member in ["type", "title", "status"] {
                XCTAssertEqual(hiddenProblem[member] as? NSObject, missingProblem[member] as? NSObject, "\(what): \(member)", file: file, line: line)
            }
            XCTAssertEqual((hiddenProblem["detail"] as? String)?.replacingOccurrences(of: id, with: "<id>"),
                           (missingProblem["detail"] as? String)?.replacingOccurrences(of: unknown, with: "<id>"), what, file: file, line: line)
            XCTAssertEqual(Set(hiddenProblem.keys), Set(missingProblem.keys), what, file: file, line: line)
        }
    }

    func testJobsAreIsolatedPerTenantAndKeepTheirTenantAcrossARestart() throws {
        let directory = workDirectory()
        var plexus = try TimetableHarness.start(workDirectory: directory)
        let keyA = try plexus.createAPIKey(name: "timetable-tenant-a", tenant: "tenant-a")
        let keyB = try plexus.createAPIKey(name: "timetable-tenant-b", tenant: "tenant-b")
        let admin = plexus.adminKey

        // Tenant A submits a job; tenant B, and the admin (a caller without a tenant), cannot reach it, even
        // while it is queued or running: their cancel attempts must not touch it.
        let submitted = try send(plexus, "POST", TimetableHarness.jobs, key: keyA,
                                 json: ["format": "itc2007", "instance": Instances.small, "time_limit_seconds": 1, "seed": 7])
        let id = try TimetableHarness.accepted(submitted)
        try assertInvisible(plexus, id, key: keyB)
        try assertInvisible(plexus, id, key: admin)
        let finished = try waitFinished(plexus, id, key: keyA)
        XCTAssertEqual(finished["status"] as? String, "succeeded", "\(finished)")
        XCTAssertEqual(finished["cancel_requested"] as? Bool, false, "another tenant's cancel reached the job")
        try assertInvisible(plexus, id, key: keyB)

        // Tenant A sees its job and its result; the lists of B and of the admin do not show it.
        let resultA = try send(plexus, "GET", jobPath(id) + "/result", key: keyA)
        XCTAssertEqual(resultA.status, 200, resultA.text)
        XCTAssertEqual(try TimetableHarness.json(resultA)["id"] as? String, id)
        XCTAssertEqual(try listed(plexus, key: keyA).ids, [id])
        XCTAssertEqual(try listed(plexus, key: keyA).count, 1)
        XCTAssertEqual(try listed(plexus, key: keyB).ids, [])
        XCTAssertEqual(try listed(plexus, key: keyB).count, 0)
        XCTAssertEqual(try listed(plexus, key: admin).ids, [])

        // A re-plan of A's job is A's too.
        let replan = try send(plexus, "POST", jobPath(id) + "/replan", key: keyA,
                              json: ["disruptions": [["room": "r3", "unavailable": [["day": 0, "period": 0]]]], "time_limit_seconds": 1])
        let replanned = try TimetableHarness.accepted(replan)
        XCTAssertEqual(try waitFinished(plexus, replanned, key: keyA)["status"] as? String, "succeeded")
        try assertInvisible(plexus, replanned, key: keyB)
        XCTAssertEqual(try listed(plexus, key: keyA).ids, [id, replanned])

        // Tenant B's own job is B's alone.
        let submittedB = try send(plexus, "POST", TimetableHarness.jobs, key: keyB,
                                  json: ["format": "itc2007", "instance": Instances.small, "time_limit_seconds": 1, "seed": 7])
        let idB = try TimetableHarness.accepted(submittedB)
        XCTAssertEqual(try waitFinished(plexus, idB, key: keyB)["status"] as? String, "succeeded")
        XCTAssertEqual(try listed(plexus, key: keyB).ids, [idB])
        XCTAssertEqual(try listed(plexus, key: keyA).ids, [id, replanned])
        try assertInvisible(plexus, idB, key: keyA)

        // The routes keep authenticated access and describe themselves in /openapi.json.
        XCTAssertEqual(try plexus.get(TimetableHarness.jobs, anonymous: true).status, 401)
        let document = try TimetableHarness.json(try plexus.get("/openapi.json", anonymous: true))
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        let operations: [(String, String)] = [
            (TimetableHarness.jobs, "get"), (TimetableHarness.jobs, "post"), (jobPath("{id}"), "get"), (jobPath("{id}"), "delete"),
            (jobPath("{id}") + "/result", "get"), (jobPath("{id}") + "/cancel", "post"), (jobPath("{id}") + "/replan", "post"),
        ]
        for (path, method) in operations {
            let operation = paths[path]?[method] as? [String: Any] ?? [:]
            XCTAssertFalse((operation["summary"] as? String ?? "").isEmpty, "\(method) \(path) has no summary: \(operation)")
            XCTAssertFalse((operation["security"] as? [Any])?.isEmpty ?? true, "\(method) \(path) is not authenticated: \(operation)")
        }
        XCTAssertEqual(plexus.stop(), 0, plexus.log)

        // After a restart on the same storage, every job still belongs to its tenant.
        plexus = try TimetableHarness.start(workDirectory: directory)
        defer { _ = plexus.stop() }
        XCTAssertEqual(try listed(plexus, key: keyA).ids, [id, replanned])
        XCTAssertEqual(try listed(plexus, key: keyB).ids, [idB])
        XCTAssertEqual(try listed(plexus, key: plexus.adminKey).ids, [])
        XCTAssertEqual(try waitFinished(plexus, id, key: keyA)["status"] as? String, "succeeded")
        let restoredResult = try send(plexus, "GET", jobPath(id) + "/result", key: keyA)
        XCTAssertEqual(restoredResult.status, 200, restoredResult.text)
        try assertInvisible(plexus, id, key: keyB)
        try assertInvisible(plexus, replanned, key: keyB)
        try assertInvisible(plexus, idB, key: keyA)
        try assertInvisible(plexus, id, key: plexus.adminKey)
        // A re-plan of the restored job still lands in A's tenant.
        let again = try TimetableHarness.accepted(try send(plexus, "POST", jobPath(id) + "/replan", key: keyA,
                                                           json: ["disruptions": [["room": "r3", "unavailable": [["day": 0, "period": 1]]]],
                                                                  "time_limit_seconds": 1]))
        XCTAssertEqual(try waitFinished(plexus, again, key: keyA)["status"] as? String, "succeeded")
        XCTAssertEqual(try listed(plexus, key: keyA).ids, [id, replanned, again])
        XCTAssertEqual(try listed(plexus, key: keyB).ids, [idB])
    }
}
