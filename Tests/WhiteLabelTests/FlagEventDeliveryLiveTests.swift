import Foundation
import PlexusTesting
import XCTest

/// `flags.changed` over the runtime's event stream: a tenant's subscriber sees its own tenant's
/// flag changes and never another's; the installation admin (no tenant) sees every tenant's.
final class FlagEventDeliveryLiveTests: XCTestCase {
    /// An SSE subscription to `flags.changed` with `key`, its response head already checked.
    private func subscribe(_ runtime: TestRuntime, key: String) throws -> SSEReader {
        let client = try TestClient(port: runtime.port)
        try client.send("GET /api/v1/events/stream?topic=flags.changed HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(key)\r\n\r\n")
        let head = try client.readHead()
        guard head.status == 200 else { throw TestFailure("subscribing: \(head.status) \(head.text)") }
        return SSEReader(client: client)
    }

    /// The tenant and flag names a `flags.changed` frame carries.
    private func change(_ frame: SSEReader.Frame) -> (tenant: String?, flags: [String]) {
        let payload = frame.json["payload"] as? [String: Any] ?? [:]
        let flags = (payload["flags"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }.sorted()
        return (payload["tenant"] as? String, flags)
    }

    func testEachTenantSeesOnlyItsOwnFlagChanges() throws {
        let runtime = try WhiteLabelLiveTests.runtime()
        let admin = runtime.adminKey
        XCTAssertEqual(try WhiteLabelLiveTests.call(runtime, "PUT", "/api/v1/plans/pro/defaults", key: admin, json: #"{"flags":[]}"#).status, 200)
        let a = try WhiteLabelLiveTests.onboard(runtime, "acme", domain: "acme.test")
        let b = try WhiteLabelLiveTests.onboard(runtime, "globex", domain: "globex.test")
        let seenByA = try subscribe(runtime, key: a), seenByB = try subscribe(runtime, key: b), seenByAdmin = try subscribe(runtime, key: admin)
        usleep(100_000)
        // Interleaved changes: B, A, B. Each stream must skip exactly the other tenant's.
        for (host, key, flag) in [("globex.test", b, "b-one"), ("acme.test", a, "a-one"), ("globex.test", b, "b-two")] {
            let response = try WhiteLabelLiveTests.call(runtime, "PUT", "/api/v1/flags/\(flag)", host: host, key: key, json: #"{"enabled":true}"#)
            XCTAssertEqual(response.status, 200, "\(flag): \(response.text)")
        }
        // A tenant's event carries its whole flag set, so a leak would show the other tenant's flag names.
        let firstOfA = change(try seenByA.next())
        XCTAssertEqual(firstOfA.tenant, "acme")
        XCTAssertEqual(firstOfA.flags, ["a-one"])
        let ofB = [change(try seenByB.next()), change(try seenByB.next())]
        XCTAssertEqual(ofB.map(\.tenant), ["globex", "globex"])
        XCTAssertEqual(ofB.map(\.flags), [["b-one"], ["b-one", "b-two"]])
        let ofAdmin = try (0..<3).map { _ in change(try seenByAdmin.next()) }
        XCTAssertEqual(ofAdmin.map(\.tenant), ["globex", "acme", "globex"])
        // One more change of A's: A's next frame is it (not B's second change, which came before).
        XCTAssertEqual(try WhiteLabelLiveTests.call(runtime, "DELETE", "/api/v1/flags/a-one", host: "acme.test", key: a).status, 204)
        let secondOfA = change(try seenByA.next())
        XCTAssertEqual(secondOfA.tenant, "acme")
        XCTAssertEqual(secondOfA.flags, [])
        // Every change is in the runtime's audit log (ABI 1.8), as plugin.whitelabel.<action>;
        // a tenant's admin reads its own tenant's records only.
        let all = try WhiteLabelLiveTests.call(runtime, "GET", "/admin/audit?action=plugin.whitelabel.&limit=100", key: admin)
        XCTAssertEqual(all.status, 200, all.text)
        let records = (try JSONSerialization.jsonObject(with: Data(all.body)) as? [String: Any])?["records"] as? [[String: Any]] ?? []
        let flagChanges = records.filter { ($0["action"] as? String)?.hasPrefix("plugin.whitelabel.flag.") == true }
        XCTAssertEqual(flagChanges.map { "\($0["action"] ?? "") \($0["tenant"] ?? "") \($0["target"] ?? "")" }, [
            "plugin.whitelabel.flag.delete acme a-one", "plugin.whitelabel.flag.put globex b-two",
            "plugin.whitelabel.flag.put acme a-one", "plugin.whitelabel.flag.put globex b-one",
        ], "newest first")
        XCTAssertTrue(flagChanges.allSatisfy { $0["actor_kind"] as? String == "plugin" && !($0["request_id"] as? String ?? "").isEmpty }, "\(flagChanges)")
        let seenByTenant = try WhiteLabelLiveTests.call(runtime, "GET", "/admin/audit?action=plugin.whitelabel.&limit=100", key: a)
        XCTAssertEqual(seenByTenant.status, 200, seenByTenant.text)
        XCTAssertFalse(seenByTenant.text.contains("globex"), seenByTenant.text)
        XCTAssertTrue(seenByTenant.text.contains("a-one"), seenByTenant.text)
    }
}
