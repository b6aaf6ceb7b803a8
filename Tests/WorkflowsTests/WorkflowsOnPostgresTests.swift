import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

/// The workflows plugin over the real binary with `[cluster] postgres` (issue 21): definitions,
/// instances, their history and routing rules in the plugin's PostgreSQL schema. One instance
/// runs an idempotent start, a replaced definition, a signal and a cancel; a second instance on
/// the same database, with a data directory of its own, then serves what the first stored.
final class WorkflowsOnPostgresTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"] ?? root.appendingPathComponent(".build/debug").path)

    static func start(extra: String) throws -> TestRuntime {
        let binary = binDirectory.appendingPathComponent("plexus"), plugin = binDirectory.appendingPathComponent("libPlexusWorkflows.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        return try TestRuntime(binary: binary, plugins: [plugin], extra: extra)
    }

    static func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    static func post(_ runtime: TestRuntime, _ path: String, _ body: String, key: String) throws -> TestResponse {
        try runtime.request("POST", path, headers: "Authorization: Bearer \(key)\r\nContent-Type: application/json\r\n", body: Array(body.utf8))
    }

    /// Polls an instance until `done` holds (at most 10 s).
    static func wait(_ runtime: TestRuntime, _ id: String, key: String, until done: ([String: Any]) -> Bool) throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<200 {
            last = json(try runtime.request("GET", "/api/v1/workflows/instances/\(id)", headers: "Authorization: Bearer \(key)\r\n"))
            if done(last) { return last }
            usleep(50_000)
        }
        throw TestFailure("instance \(id) never reached the expected state: \(last)")
    }

    func testInstancesDefinitionsAndRulesOnPostgresAreServedByAnotherInstance() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try Self.start(extra: extra)
        let key = try a.createAPIKey(name: "ada", tenant: "acme", roles: ["admin"])
        let gate = #"{"name": "gate", "steps": [{"id": "wait", "type": "wait_signal", "signal": "go", "output": "go"}]}"#
        XCTAssertEqual(try Self.post(a, "/api/v1/workflows/definitions", gate, key: key).status, 201)
        let first = try Self.post(a, "/api/v1/workflows/gate/start", #"{"idempotency_key": "k-1"}"#, key: key)
        let again = try Self.post(a, "/api/v1/workflows/gate/start", #"{"idempotency_key": "k-1"}"#, key: key)
        XCTAssertEqual(first.status, 201, first.text)
        XCTAssertEqual(again.status, 200, again.text)
        let id = try XCTUnwrap(Self.json(first)["id"] as? String)
        XCTAssertEqual(Self.json(again)["id"] as? String, id)
        _ = try Self.wait(a, id, key: key) { ($0["current"] as? [String]) == ["wait"] }
        // Version 2 replaces the definition while the instance waits: the instance keeps version 1.
        let replaced = try Self.post(a, "/api/v1/workflows/definitions", #"{"name": "gate", "steps": [{"id": "w2", "type": "wait_signal", "signal": "go"}]}"#, key: key)
        XCTAssertEqual(Self.json(replaced)["version"] as? Int, 2, replaced.text)
        XCTAssertEqual(try Self.post(a, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "ada"}"#, key: key).status, 202)
        let done = try Self.wait(a, id, key: key) { $0["status"] as? String == "completed" }
        XCTAssertEqual(done["version"] as? Int, 1)
        XCTAssertEqual((done["output"] as? [String: Any])?["go"] as? [String: String], ["by": "ada"])
        let cancelMe = try XCTUnwrap(Self.json(try Self.post(a, "/api/v1/workflows/gate/start", "{}", key: key))["id"] as? String)
        _ = try Self.wait(a, cancelMe, key: key) { ($0["current"] as? [String]) == ["w2"] }
        XCTAssertEqual(try Self.post(a, "/api/v1/workflows/instances/\(cancelMe)/cancel", "", key: key).status, 202)
        _ = try Self.wait(a, cancelMe, key: key) { $0["status"] as? String == "cancelled" }
        let rule = try a.request("PUT", "/api/v1/workflows/rules/batch", headers: "Authorization: Bearer \(key)\r\nContent-Type: application/json\r\n",
                                 body: Array(#"{"match": "clicks", "topic": "routed.clicks", "aggregate": {"count": 3}}"#.utf8))
        XCTAssertEqual(rule.status, 200, rule.text)
        XCTAssertEqual(a.stop(), 0)

        // A second instance, after the first stopped (its instances are over: none to resume twice).
        let b = try Self.start(extra: extra)
        defer { _ = b.stop() }
        let keyB = try b.createAPIKey(name: "ada-b", tenant: "acme", roles: ["admin"])
        let served = try Self.wait(b, id, key: keyB) { $0["status"] as? String == "completed" }
        XCTAssertEqual(served["version"] as? Int, 1)
        XCTAssertEqual((served["history"] as? [[String: Any]])?.isEmpty, false, "the history A appended: \(served)")
        XCTAssertEqual(try Self.wait(b, cancelMe, key: keyB) { _ in true }["status"] as? String, "cancelled")
        let same = try Self.post(b, "/api/v1/workflows/gate/start", #"{"idempotency_key": "k-1"}"#, key: keyB)
        XCTAssertEqual(same.status, 200, "the idempotency key A used: \(same.text)")
        XCTAssertEqual(Self.json(same)["id"] as? String, id)
        let definitions = try b.request("GET", "/api/v1/workflows/definitions", headers: "Authorization: Bearer \(keyB)\r\n")
        XCTAssertTrue(definitions.text.contains(#""version":2"#) || definitions.text.contains(#""version": 2"#), definitions.text)
        let rules = try b.request("GET", "/api/v1/workflows/rules", headers: "Authorization: Bearer \(keyB)\r\n")
        XCTAssertTrue(rules.text.contains("\"batch\""), rules.text)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_workflows.instances", url: url), ["2"])
        // Another tenant sees none of it.
        let stranger = try b.createAPIKey(name: "eve", tenant: "initech")
        XCTAssertEqual(try b.request("GET", "/api/v1/workflows/instances/\(id)", headers: "Authorization: Bearer \(stranger)\r\n").status, 404)
    }
}

/// Two plexus instances running workflows on one database: the second one's start leaves the
/// first one's running instances to it (it claims only instances whose owner stopped sending
/// heartbeats), so no instance runs twice.
final class WorkflowsOwnershipOnPostgresTests: XCTestCase {
    func testASecondInstanceLeavesTheFirstOnesRunningInstancesAlone() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try WorkflowsOnPostgresTests.start(extra: extra)
        defer { _ = a.stop() }
        let key = try a.createAPIKey(name: "ada", tenant: "acme", roles: ["admin"])
        let gate = #"{"name": "gate", "steps": [{"id": "wait", "type": "wait_signal", "signal": "go", "output": "go"}]}"#
        XCTAssertEqual(try WorkflowsOnPostgresTests.post(a, "/api/v1/workflows/definitions", gate, key: key).status, 201)
        let id = try XCTUnwrap(WorkflowsOnPostgresTests.json(try WorkflowsOnPostgresTests.post(a, "/api/v1/workflows/gate/start", "{}", key: key))["id"] as? String)
        _ = try WorkflowsOnPostgresTests.wait(a, id, key: key) { ($0["current"] as? [String]) == ["wait"] }

        let b = try WorkflowsOnPostgresTests.start(extra: extra)
        defer { _ = b.stop() }
        let keyB = try b.createAPIKey(name: "ada-b", tenant: "acme", roles: ["admin"])
        // B did not resume it: B takes no signal for it; A does, once.
        let viaB = try WorkflowsOnPostgresTests.post(b, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "b"}"#, key: keyB)
        XCTAssertEqual(viaB.status, 409, viaB.text)
        XCTAssertEqual(try WorkflowsOnPostgresTests.post(a, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "a"}"#, key: key).status, 202)
        let done = try WorkflowsOnPostgresTests.wait(a, id, key: key) { $0["status"] as? String == "completed" }
        XCTAssertEqual((done["output"] as? [String: Any])?["go"] as? [String: String], ["by": "a"])
        let owners = try cluster.execute("SELECT count(DISTINCT owner) FROM plugin_workflows.instances", url: url)
        XCTAssertEqual(owners, ["1"], "the instance kept its owner")
    }

    /// The owner stops: once its heartbeats are older than 15 s, the other instance takes its
    /// running workflow instance over and completes it on a signal.
    func testAStoppedInstancesWorkflowIsTakenOverByAnother() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n"
        let a = try WorkflowsOnPostgresTests.start(extra: extra)
        let key = try a.createAPIKey(name: "ada", tenant: "acme", roles: ["admin"])
        let gate = #"{"name": "gate", "steps": [{"id": "wait", "type": "wait_signal", "signal": "go", "output": "go"}]}"#
        XCTAssertEqual(try WorkflowsOnPostgresTests.post(a, "/api/v1/workflows/definitions", gate, key: key).status, 201)
        let id = try XCTUnwrap(WorkflowsOnPostgresTests.json(try WorkflowsOnPostgresTests.post(a, "/api/v1/workflows/gate/start", "{}", key: key))["id"] as? String)
        _ = try WorkflowsOnPostgresTests.wait(a, id, key: key) { ($0["current"] as? [String]) == ["wait"] }
        let b = try WorkflowsOnPostgresTests.start(extra: extra)
        defer { _ = b.stop() }
        let keyB = try b.createAPIKey(name: "ada-b", tenant: "acme", roles: ["admin"])
        XCTAssertEqual(a.stop(), 0)
        // B takes the signal once it has taken the instance over (at most about 17 s after A's last heartbeat).
        var status = 0
        let deadline = Date().addingTimeInterval(40)
        while status != 202, Date() < deadline {
            status = try WorkflowsOnPostgresTests.post(b, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "b"}"#, key: keyB).status
            if status != 202 { usleep(500_000) }
        }
        XCTAssertEqual(status, 202, "B never took the instance over")
        let done = try WorkflowsOnPostgresTests.wait(b, id, key: keyB) { $0["status"] as? String == "completed" }
        XCTAssertEqual((done["output"] as? [String: Any])?["go"] as? [String: String], ["by": "b"])
    }
}
