import Foundation
import PlexusTesting
import PostgresTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Lease fencing of workflow instances on PostgreSQL (issue 21): every history commit an owner
/// makes carries its lease (`owner = me`, not expired by the server's clock); a write refused
/// for it stops the instance there (409 "lease lost" to the caller, no further effects), and an
/// owner cut off from the database past its lease stops by itself before another instance can
/// claim it, so each workflow instance runs to completion once.
final class WorkflowsLeasesOnPostgresTests: XCTestCase {
    typealias W = WorkflowsOnPostgresTests
    static let gate = #"{"name": "gate", "steps": [{"id": "wait", "type": "wait_signal", "signal": "go", "output": "go"}]}"#

    func count(_ cluster: PostgresTestCluster, _ url: String, _ id: String, kind: String) throws -> Int {
        Int(try cluster.execute("SELECT count(*) FROM plugin_workflows.history WHERE instance = '\(id)' AND entry LIKE '%\"kind\":\"\(kind)\"%'", url: url).first ?? "") ?? -1
    }

    /// Another plexus instance holds the lease now (its owner written in the row, the lease
    /// fresh): the old owner's late write (a signal's entry) is refused by the database, the
    /// caller gets 409 naming the lost lease, and the instance stops running there. Once that
    /// lease expires, the old owner claims it again at a heartbeat and completes it, once.
    func testAWriteWithoutTheLeaseIsRefusedAndTheInstanceStopsThere() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let a = try W.start(extra: "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n")
        defer { _ = a.stop() }
        let key = try a.createAPIKey(name: "ada", tenant: "acme", roles: ["admin"])
        XCTAssertEqual(try W.post(a, "/api/v1/workflows/definitions", Self.gate, key: key).status, 201)
        let id = try XCTUnwrap(W.json(try W.post(a, "/api/v1/workflows/gate/start", "{}", key: key))["id"] as? String)
        _ = try W.wait(a, id, key: key) { ($0["current"] as? [String]) == ["wait"] }
        // The step is current before its `wait.started` entry is stored: the count is taken once it is.
        for _ in 0..<100 where try count(cluster, url, id, kind: "wait.started") == 0 { usleep(50_000) }
        let entries = try cluster.execute("SELECT count(*) FROM plugin_workflows.history WHERE instance = '\(id)'", url: url)

        // Another instance claimed it (as if the server's clock had jumped past the lease).
        _ = try cluster.execute("UPDATE plugin_workflows.instances SET owner = 'another-instance' WHERE id = '\(id)'", url: url)
        let late = try W.post(a, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "late"}"#, key: key)
        XCTAssertEqual(late.status, 409, late.text)
        XCTAssertTrue(late.text.contains("lost its lease"), late.text)
        XCTAssertEqual(try cluster.execute("SELECT count(*) FROM plugin_workflows.history WHERE instance = '\(id)'", url: url), entries,
                       "the refused entry is not in the history")
        let again = try W.post(a, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "again"}"#, key: key)
        XCTAssertEqual(again.status, 409, "the instance no longer runs here: \(again.text)")
        XCTAssertTrue(a.log.contains("lease lost"), "logged")

        // The other owner is gone (its lease expired): A claims it again and completes it once.
        _ = try cluster.execute("UPDATE plugin_workflows.instances SET heartbeat = heartbeat - 60000 WHERE id = '\(id)'", url: url)
        var status = 0
        let deadline = Date().addingTimeInterval(20)
        while status != 202, Date() < deadline {
            status = try W.post(a, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "a"}"#, key: key).status
            if status != 202 { usleep(300_000) }
        }
        XCTAssertEqual(status, 202, "A never claimed the expired lease")
        let done = try W.wait(a, id, key: key) { $0["status"] as? String == "completed" }
        XCTAssertEqual((done["output"] as? [String: Any])?["go"] as? [String: String], ["by": "a"])
        XCTAssertEqual(try count(cluster, url, id, kind: "signal.received"), 1)
        XCTAssertEqual(try count(cluster, url, id, kind: "completed"), 1)
    }

    /// The owner is cut off (its process frozen with SIGSTOP past the 15 s lease, no heartbeats):
    /// the other instance takes the workflow over and completes it. When the old owner wakes up it
    /// has already stopped running it (its lease was not renewed for 12 s): a signal through it
    /// gets 409, nothing more is written, and the instance completed once.
    func testAnOwnerCutOffPastItsLeaseStopsAndTheOtherCompletesTheInstanceOnce() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        // Unsupervised: SIGSTOP then freezes the process that holds the lease (a supervised
        // master would leave its worker running).
        let extra = "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n[supervisor]\nenabled = false\n"
        let a = try W.start(extra: extra)
        var frozen = false
        defer {
            if frozen { kill(a.process.processIdentifier, SIGCONT) }
            _ = a.stop()
        }
        let key = try a.createAPIKey(name: "ada", tenant: "acme", roles: ["admin"])
        XCTAssertEqual(try W.post(a, "/api/v1/workflows/definitions", Self.gate, key: key).status, 201)
        let id = try XCTUnwrap(W.json(try W.post(a, "/api/v1/workflows/gate/start", "{}", key: key))["id"] as? String)
        _ = try W.wait(a, id, key: key) { ($0["current"] as? [String]) == ["wait"] }
        let b = try W.start(extra: extra)
        defer { _ = b.stop() }
        let keyB = try b.createAPIKey(name: "ada-b", tenant: "acme", roles: ["admin"])
        let ownerA = try cluster.execute("SELECT owner FROM plugin_workflows.instances WHERE id = '\(id)'", url: url)

        XCTAssertEqual(kill(a.process.processIdentifier, SIGSTOP), 0)
        frozen = true
        var status = 0
        let deadline = Date().addingTimeInterval(40)
        while status != 202, Date() < deadline {
            status = try W.post(b, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "b"}"#, key: keyB).status
            if status != 202 { usleep(500_000) }
        }
        XCTAssertEqual(status, 202, "B never took the instance over")
        _ = try W.wait(b, id, key: keyB) { $0["status"] as? String == "completed" }
        XCTAssertNotEqual(try cluster.execute("SELECT owner FROM plugin_workflows.instances WHERE id = '\(id)'", url: url), ownerA)

        XCTAssertEqual(kill(a.process.processIdentifier, SIGCONT), 0)
        frozen = false
        let late = try W.post(a, "/api/v1/workflows/instances/\(id)/signal/go", #"{"by": "a"}"#, key: key)
        XCTAssertEqual(late.status, 409, "A still ran the instance after losing its lease: \(late.text)")
        usleep(2_500_000)   // A's next heartbeat
        XCTAssertEqual(try count(cluster, url, id, kind: "signal.received"), 1)
        XCTAssertEqual(try count(cluster, url, id, kind: "completed"), 1)
        XCTAssertEqual(try W.wait(a, id, key: key) { _ in true }["status"] as? String, "completed")
        XCTAssertTrue(a.log.contains("lease lost"), "A logged that it stopped the instance")
    }

    /// Starts a `gate` instance on `a` (an admin key of tenant acme) and, once it waits for its
    /// signal, makes PostgreSQL refuse every history insert with `disk_full` (SQLSTATE 53100)
    /// until the test drops the trigger `test_refuse`. Returns the key and the instance id.
    private func startGateWithHistoryRefused(_ a: TestRuntime, cluster: PostgresTestCluster, url: String) throws -> (key: String, id: String) {
        let key = try a.createAPIKey(name: "ada", tenant: "acme", roles: ["admin"])
        XCTAssertEqual(try W.post(a, "/api/v1/workflows/definitions", Self.gate, key: key).status, 201)
        let id = try XCTUnwrap(W.json(try W.post(a, "/api/v1/workflows/gate/start", "{}", key: key))["id"] as? String)
        _ = try W.wait(a, id, key: key) { ($0["current"] as? [String]) == ["wait"] }
        _ = try cluster.execute("""
            CREATE FUNCTION plugin_workflows.test_refuse() RETURNS trigger LANGUAGE plpgsql AS
            $$ BEGIN RAISE EXCEPTION 'test: the disk is full' USING ERRCODE = '53100'; END $$;
            CREATE TRIGGER test_refuse BEFORE INSERT ON plugin_workflows.history FOR EACH ROW EXECUTE FUNCTION plugin_workflows.test_refuse();
            """, url: url)
        return (key, id)
    }

    /// A history commit that keeps failing for another reason than the lease (here the database
    /// refuses every history row with `disk_full`, while heartbeats still renew the lease): the
    /// signal's caller is not kept waiting with the commit's retries; after the deadline (10 s) it
    /// gets 503 naming storage and the cause, with `Retry-After`. The entry stays queued and is
    /// stored, once, when storage takes writes again.
    func testASignalWhoseEntryStorageKeepsRefusingIsAnswered503AfterItsDeadline() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let a = try W.start(extra: "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n")
        defer { _ = a.stop() }
        let (key, id) = try startGateWithHistoryRefused(a, cluster: cluster, url: url)

        // Read with a 40 s socket timeout: without a deadline of its own the request would still wait.
        let client = try TestClient(port: a.port, timeoutSeconds: 40)
        let body = #"{"by": "ada"}"#
        try client.send("POST /api/v1/workflows/instances/\(id)/signal/go HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(key)\r\n"
                        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        let answer = try client.readResponse()
        XCTAssertEqual(answer.status, 503, answer.text)
        XCTAssertEqual(answer.header("Retry-After"), "5", answer.text)
        XCTAssertTrue(answer.text.contains("storage did not confirm"), answer.text)
        XCTAssertTrue(answer.text.contains("the disk is full"), "the cause is named: \(answer.text)")
        XCTAssertEqual(try count(cluster, url, id, kind: "signal.received"), 0)

        // Storage takes writes again: the queued entry is stored once and the instance completes.
        _ = try cluster.execute("DROP TRIGGER test_refuse ON plugin_workflows.history", url: url)
        let done = try W.wait(a, id, key: key) { $0["status"] as? String == "completed" }
        XCTAssertEqual((done["output"] as? [String: Any])?["go"] as? [String: String], ["by": "ada"])
        XCTAssertEqual(try count(cluster, url, id, kind: "signal.received"), 1)
    }

    /// A POST read with a 40 s socket timeout (a 503 comes after the 10 s durable deadline).
    func slowPost(_ runtime: TestRuntime, _ path: String, _ body: String, key: String, extra: String = "") throws -> TestResponse {
        let client = try TestClient(port: runtime.port, timeoutSeconds: 40)
        try client.send("POST \(path) HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(key)\r\n\(extra)"
                        + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        return try client.readResponse()
    }

    /// A client retries after its 503 (storage refusing history rows): a signal sent again with
    /// the same `Idempotency-Key` and a cancel sent again find the first entries, still queued, and
    /// are answered as the first were (503 again) instead of queueing second ones. Once storage
    /// takes writes, each is stored once; the keyed signal repeated after the end is still 202.
    func testASignalOrCancelRetriedAfterIts503IsStoredOnce() throws {
        let cluster = try PostgresTestCluster.get()
        let url = try cluster.newDatabaseURL()
        let a = try W.start(extra: "[cluster]\npostgres = \"\(url)\"\npostgres_pool_size = 2\n")
        defer { _ = a.stop() }
        let (key, id) = try startGateWithHistoryRefused(a, cluster: cluster, url: url)

        let signal = "/api/v1/workflows/instances/\(id)/signal/note", keyed = "Idempotency-Key: note-1\r\n"
        for attempt in 1...2 {
            let answer = try slowPost(a, signal, #"{"n": 1}"#, key: key, extra: keyed)
            XCTAssertEqual(answer.status, 503, "signal attempt \(attempt): \(answer.text)")
        }
        for attempt in 1...2 {
            let answer = try slowPost(a, "/api/v1/workflows/instances/\(id)/cancel", "", key: key)
            XCTAssertEqual(answer.status, 503, "cancel attempt \(attempt): \(answer.text)")
        }
        XCTAssertEqual(try count(cluster, url, id, kind: "signal.received"), 0)

        _ = try cluster.execute("DROP TRIGGER test_refuse ON plugin_workflows.history", url: url)
        _ = try W.wait(a, id, key: key) { $0["status"] as? String == "cancelled" }
        XCTAssertEqual(try count(cluster, url, id, kind: "signal.received"), 1, "the keyed signal is stored once")
        XCTAssertEqual(try count(cluster, url, id, kind: "cancel.requested"), 1, "the cancel is stored once")
        let late = try slowPost(a, signal, #"{"n": 1}"#, key: key, extra: keyed)
        XCTAssertEqual(late.status, 202, "a repeat after the end is answered as the first: \(late.text)")
        XCTAssertEqual(try count(cluster, url, id, kind: "signal.received"), 1)
    }
}
