import Foundation
import PlexusTesting
import XCTest

/// The cluster's quarantine with Redis as the authority (epoch, tombstones): a release is not
/// undone by an instance that was stopped meanwhile, nor missed by one whose pub/sub reconnected.
extension ClusterLiveTests {
    private func fileOf(_ node: TestRuntime) -> String {
        (try? String(contentsOf: node.workDirectory.appendingPathComponent("data/quarantine.json"), encoding: .utf8)) ?? ""
    }

    private func waitFor(_ what: String, seconds: Double = 10, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while try !condition() {
            guard Date() < deadline else { throw TestFailure("waited \(seconds) s for: \(what)") }
            usleep(50_000)
        }
    }

    func testAReleaseMadeWhileAnInstanceWasStoppedOrItsPubSubReconnectingStaysReleased() throws {
        let server = try RedisTestServer()
        let work = try workDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        let prefix = "authority:"
        let second = try instances(1, server, prefix: prefix, work: work.appendingPathComponent("b"))
        defer { for node in second { _ = node.stop() } }
        // A starts with the plugin in its own file: shared in Redis.
        let data = work.appendingPathComponent("a/instance0/data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let stale = #"{"bus-probe": {"reason": "3 crashes within 300 s", "since": "2026-01-01T00:00:00Z", "crashes": []}}"#
        try Data(stale.utf8).write(to: data.appendingPathComponent("quarantine.json"))
        var first = try instances(1, server, prefix: prefix, work: work.appendingPathComponent("a"))
        XCTAssertEqual(try server.cli("HEXISTS", prefix + "quarantine", "bus-probe"), "1")
        // A stops; B releases; A's file still names the plugin (it was not running to hear it).
        _ = first[0].stop()
        let released = try second[0].request("POST", "/admin/quarantine/bus-probe/release")
        XCTAssertEqual(released.status, 200, released.text)
        XCTAssertEqual(try server.cli("HEXISTS", prefix + "quarantine", "bus-probe"), "0")
        XCTAssertEqual(try server.cli("HEXISTS", prefix + "quarantine:released", "bus-probe"), "1", "the release leaves a tombstone")
        XCTAssertTrue(fileOf(first[0]).contains("bus-probe"))
        // A starts again: its stale entry (made before the release) is dropped, not shared again.
        first = try instances(1, server, prefix: prefix, work: work.appendingPathComponent("a"))
        defer { for node in first { _ = node.stop() } }
        XCTAssertEqual(try server.cli("HEXISTS", prefix + "quarantine", "bus-probe"), "0", "a restarted instance quarantined the released plugin again")
        XCTAssertFalse(fileOf(first[0]).contains("bus-probe"), fileOf(first[0]))
        XCTAssertEqual(try first[0].request("POST", "/api/v1/probe/upper", body: Array("x".utf8)).status, 200, first[0].log)

        // A release A's pub/sub did not hear (its announcement lost): applied when A reads the
        // snapshot after its pub/sub reconnects. The entry is in A's file, made before the release.
        let since = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-2))
        try Data(#"{"bus-probe": {"reason": "crashed again", "since": "\#(since)", "crashes": []}}"#.utf8)
            .write(to: first[0].workDirectory.appendingPathComponent("data/quarantine.json"))
        _ = try server.cli("HSET", prefix + "quarantine:released", "bus-probe", "\(Int64(Date().timeIntervalSince1970 * 1000))")
        _ = try server.cli("INCR", prefix + "quarantine:epoch")
        _ = try server.cli("CLIENT", "KILL", "TYPE", "pubsub")
        try waitFor("A's file forgets the plugin released while its pub/sub was away") { !fileOf(first[0]).contains("bus-probe") }

        // B4: a plugin neither Redis nor the releasing instance holds: 404, and nothing changes.
        try Data(#"{"only-on-a": {"reason": "local", "since": "\#(ISO8601DateFormatter().string(from: Date()))", "crashes": []}}"#.utf8)
            .write(to: first[0].workDirectory.appendingPathComponent("data/quarantine.json"))
        let epoch = try server.cli("GET", prefix + "quarantine:epoch")
        let missing = try second[0].request("POST", "/admin/quarantine/only-on-a/release")
        XCTAssertEqual(missing.status, 404, missing.text)
        XCTAssertEqual(try server.cli("GET", prefix + "quarantine:epoch"), epoch, "a 404 moved the epoch")
        usleep(300_000)
        XCTAssertTrue(fileOf(first[0]).contains("only-on-a"), "a 404 release lifted the plugin on another instance")
    }
}
