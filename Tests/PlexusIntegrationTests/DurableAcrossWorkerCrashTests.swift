import Foundation
import PlexusTesting
import XCTest

/// At-least-once across a *worker* crash: a plugin segfaults the supervised worker while clients
/// publish durable events; every publish that was acknowledged (202) is delivered to the durable
/// consumer group by the worker the master starts in its place.
final class DurableAcrossWorkerCrashTests: XCTestCase {
    func testAcknowledgedDurableEventsAreDeliveredAfterTheWorkerCrashes() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-crash-bus-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let ackLog = work.appendingPathComponent("acked.txt").path
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusFixtureBusProbe.so"], cFixtures: ["crash-segv"],
                                                pluginConfigs: ["bus-probe": "ack_log = \"\(ackLog)\"\n"], workDirectory: work)
        defer { _ = plexus.stop() }
        let lock = NSLock()
        var published: [String] = []
        let port = plexus.port, auth = plexus.authorized("")
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for n in 0..<150 {
                if worker == 0 && n == 75 {
                    _ = try? TestClient.get("/api/v1/c/segv", port: port, headers: auth)
                }
                guard let response = try? TestClient.request("POST", "/api/v1/events", port: port, headers: auth,
                                                             body: Array(#"{"topic":"orders.created","payload":{"n":\#(n)},"durable":true}"#.utf8)),
                      response.status == 202,
                      let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                      let id = object["id"] as? String else { continue }
                lock.withLock { published.append(id) }
            }
        }
        XCTAssertTrue(plexus.log.contains("crashed in plugin 'crash-segv'"), "the worker did not crash:\n\(plexus.log)")
        XCTAssertGreaterThan(published.count, 0)
        var delivered: [String] = []
        let deadline = Date().addingTimeInterval(30)
        repeat {
            usleep(200_000)
            delivered = ((try? String(contentsOfFile: ackLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        } while !Set(published).isSubset(of: delivered) && Date() < deadline
        let missing = Set(published).subtracting(delivered)
        XCTAssertEqual(missing.count, 0, "\(missing.count) of \(published.count) acknowledged publishes were never delivered")
        print("worker crash: \(published.count) acknowledged publishes, \(delivered.count) deliveries, \(delivered.count - Set(delivered).count) duplicates")
    }
}
