import Foundation
import PlexusTesting
import XCTest

/// `POST /admin/reload`: a new worker generation on the admin identity's request, audited.
final class AdminReloadTests: XCTestCase {
    private func waitForLog(_ plexus: TestRuntime, _ text: String, seconds: Double = 20, file: StaticString = #filePath, line: UInt = #line) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if plexus.log.contains(text) { return }
            usleep(50_000)
        }
        XCTFail("'\(text)' not seen in the log:\n\(plexus.log)", file: file, line: line)
    }

    func testAdminReloadStartsANewGenerationAndIsAudited() throws {
        let plexus = try Repository.startPlexus()
        defer { _ = plexus.stop() }
        XCTAssertEqual(try plexus.request("POST", "/admin/reload", anonymous: true).status, 401)
        let reader = try plexus.createAPIKey(name: "reader", roles: ["reader"])
        let refused = try plexus.request("POST", "/admin/reload", headers: "Authorization: Bearer \(reader)\r\n")
        XCTAssertEqual(refused.status, 403, refused.text)
        XCTAssertTrue(refused.text.contains("admin"), refused.text)

        let accepted = try plexus.request("POST", "/admin/reload")
        XCTAssertEqual(accepted.status, 202, accepted.text)
        waitForLog(plexus, "reload complete: generation 2 serving")
        XCTAssertEqual(try plexus.get("/api/v1/hello/again").status, 200)

        let audit = try JSONSerialization.jsonObject(with: Data(try plexus.get("/admin/audit?action=admin.reload").body)) as? [String: Any]
        let records = try XCTUnwrap(audit?["records"] as? [[String: Any]])
        XCTAssertEqual(records.count, 1, "\(records)")
        XCTAssertEqual(records.first?["outcome"] as? String, "success")
        XCTAssertEqual(records.first?["actor"] as? String, "plexus-admin")
        XCTAssertNotNil(records.first?["request_id"] as? String)
        let denied = try JSONSerialization.jsonObject(with: Data(try plexus.get("/admin/audit?action=auth.denied").body)) as? [String: Any]
        XCTAssertTrue((denied?["records"] as? [[String: Any]] ?? []).contains { $0["actor"] as? String == "reader" }, "\(denied ?? [:])")
    }

    func testAdminReloadWithoutTheSupervisorSaysWhy() throws {
        let plexus = try Repository.startPlexus(extra: "[supervisor]\nenabled = false\n")
        defer { _ = plexus.stop() }
        let response = try plexus.request("POST", "/admin/reload")
        XCTAssertEqual(response.status, 409, response.text)
        XCTAssertTrue(response.text.contains("supervisor"), response.text)
    }
}
