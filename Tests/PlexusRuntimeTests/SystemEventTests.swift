import Foundation
@testable import PlexusRuntime
import XCTest

/// The runtime's own events: each case names its topic and encodes its payload.
final class SystemEventTests: XCTestCase {
    private func json(_ event: SystemEvent) -> String { String(decoding: event.payload, as: UTF8.self) }

    func testTopicsAndPayloads() {
        let health = SystemEvent.pluginHealth(.init(plugin: "notes", from: "unknown", to: "failing", detail: "db/locked"))
        XCTAssertEqual(health.topic, "system.plugin.health")
        XCTAssertEqual(json(health), #"{"detail":"db/locked","from":"unknown","plugin":"notes","to":"failing"}"#)
        let failed = SystemEvent.pluginFailed(.init(plugin: "x", file: "x.so", reason: "on_init failed"))
        XCTAssertEqual(failed.topic, "system.plugin.failed")
        XCTAssertEqual(SystemEvent.pluginQuarantined(.init(plugin: "x", file: "x.so", reason: "r")).topic, "system.plugin.quarantined")
        let circuit = SystemEvent.circuit(.halfOpen, .init(plugin: "p", route: "GET /a", from: "open", to: "half_open", reason: "probe"))
        XCTAssertEqual(circuit.topic, "system.circuit.half_open")
        XCTAssertEqual(json(circuit), #"{"from":"open","plugin":"p","reason":"probe","route":"GET /a","to":"half_open"}"#)
        let recycled = SystemEvent.workerRecycled(WorkerRecycle(reason: .memoryCeiling, rssMegabytes: 300, limitMegabytes: 256, generation: 2))
        XCTAssertEqual(recycled.topic, "system.worker.recycled")
        XCTAssertEqual(json(recycled), #"{"generation":2,"limit_mb":256,"reason":"memory_ceiling","rss_mb":300}"#)
    }

    func testAnAlertThatClearedHasNoThreshold() throws {
        let raised = SystemEvent.alert(.init(measure: "rss_mb", severity: "warning", value: 512.5, threshold: 500))
        XCTAssertEqual(raised.topic, "system.alert")
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: raised.payload) as? [String: Any])
        XCTAssertEqual(object["threshold"] as? Double, 500)
        XCTAssertEqual(object["value"] as? Double, 512.5)
        let cleared = try XCTUnwrap(JSONSerialization.jsonObject(with: SystemEvent.alert(.init(measure: "rss_mb", severity: "ok", value: 10, threshold: nil)).payload) as? [String: Any])
        XCTAssertNil(cleared["threshold"])
        XCTAssertEqual(cleared["severity"] as? String, "ok")
    }
}
