import Foundation
import PlexusCompliance
import PlexusSDK
import PlexusTesting
import XCTest

/// The compliance plugin in this process (TestHost), over the packs shipped in `plugins.d/compliance`.
final class ComplianceInProcessTests: XCTestCase {
    static let packs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("plugins.d/compliance").path
    static let reader = TestCaller("reader", tenant: "acme")

    func testScanFindsEntitiesInProcess() async throws {
        let host = try await TestHost.start(CompliancePlugin.self, config: ["packs_dir": Self.packs])
        let text = "Zoë's mail: zoë@example.com, born 12 March 1985, SSN 078-05-1121. Version 10.2.3.4."
        let response = try await host.send(.post, "/api/v1/compliance/scan", json: ["text": text, "packs": "gdpr,us-privacy"] as [String: String],
                                           caller: Self.reader)
        // The packs are a list in the API; a string is bad input and names the field.
        XCTAssertEqual(response.status, 400, response.text)
        XCTAssertTrue(response.text.contains("field 'packs'"), response.text)
        let body = try JSONSerialization.data(withJSONObject: ["text": text, "packs": ["gdpr", "us-privacy"]])
        let scanned = try await host.execute(TestRequest(.post, "/api/v1/compliance/scan", headers: [("Content-Type", "application/json")],
                                                         body: Array(body), caller: Self.reader))
        XCTAssertEqual(scanned.status, 200, scanned.text)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(scanned.body)) as? [String: Any])
        let entities = object["entities"] as? [[String: Any]] ?? []
        XCTAssertEqual(entities.map { $0["type"] as? String }, ["EMAIL", "DATE_OF_BIRTH", "US_SSN"])
        XCTAssertEqual(entities.first?["start"] as? Int, 12)
        XCTAssertEqual(entities.first?["pack"] as? String, "gdpr@2")
        let checked = await host.events(matching: "compliance.checked")
        XCTAssertFalse(checked.isEmpty)
        await host.stop()
    }

    func testRedactAndAnonymousCallerInProcess() async throws {
        let host = try await TestHost.start(CompliancePlugin.self, config: ["packs_dir": Self.packs])
        let body = try JSONSerialization.data(withJSONObject: ["text": "call +44 20 7946 0958 now", "mode": "type", "packs": ["gdpr"]])
        let redacted = try await host.execute(TestRequest(.post, "/api/v1/compliance/redact", headers: [("Content-Type", "application/json")],
                                                          body: Array(body), caller: Self.reader))
        XCTAssertEqual(redacted.status, 200, redacted.text)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(redacted.body)) as? [String: Any])
        XCTAssertEqual(object["text"] as? String, "call [PHONE] now")
        let anonymous = try await host.execute(TestRequest(.post, "/api/v1/compliance/redact", headers: [("Content-Type", "application/json")],
                                                           body: Array(body)))
        XCTAssertEqual(anonymous.status, 401, anonymous.text)
        await host.stop()
    }
}
