import Foundation
import PlexusTesting
import XCTest

/// A running plexus with the compliance plugin over the shipped packs, and keys of tenant `acme`.
class ComplianceTestCase: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDirectory = URL(fileURLWithPath: ProcessInfo.processInfo.environment["PLEXUS_BIN_DIR"]
        ?? root.appendingPathComponent(".build/debug").path)

    var runtime: TestRuntime!
    var tenantKey = ""
    var adminKey = ""

    /// TOML appended to the config (other tables): none here; `[cluster] postgres` in `ComplianceOnPostgresTests`.
    func extraConfig() throws -> String { "" }

    override func setUpWithError() throws {
        runtime = try Self.start(extra: try extraConfig())
        tenantKey = try runtime.createAPIKey(name: "reader", tenant: "acme")
        adminKey = try runtime.createAPIKey(name: "owner", tenant: "acme", roles: ["admin"])
    }

    /// A plexus with the compliance plugin over the shipped packs; `extra` is appended to its config.
    static func start(extra: String) throws -> TestRuntime {
        let binary = Self.binDirectory.appendingPathComponent("plexus")
        let plugin = Self.binDirectory.appendingPathComponent("libPlexusCompliance.so")
        for file in [binary, plugin] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        let packs = Self.root.appendingPathComponent("plugins.d/compliance").path
        return try TestRuntime(binary: binary, plugins: [plugin],
                               pluginConfigs: ["compliance": "packs_dir = \"\(packs)\"\nmax_body_bytes = 1048576\n"], extra: extra)
    }

    override func tearDown() { _ = runtime?.stop() }

    func post(_ path: String, _ body: [UInt8], type: String = "application/json", key: String? = nil) throws -> TestResponse {
        try runtime.request("POST", "/api/v1/compliance/\(path)",
                            headers: "Authorization: Bearer \(key ?? tenantKey)\r\nContent-Type: \(type)\r\n", body: body)
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] else { throw TestFailure(response.text) }
        return object
    }

}

/// The compliance plugin over the real binary: scans, redaction, packs per tenant, bad input.
final class ScanTests: ComplianceTestCase {
    func testScanFindsEntitiesWithCodePointOffsets() throws {
        let text = "Zoë's mail: zoë@example.com, born 12 March 1985, SSN 078-05-1121. Version 10.2.3.4."
        let body = try JSONSerialization.data(withJSONObject: ["text": text, "packs": ["gdpr", "us-privacy"]])
        let response = try post("scan", Array(body))
        XCTAssertEqual(response.status, 200, response.text)
        let entities = try json(response)["entities"] as? [[String: Any]] ?? []
        XCTAssertEqual(entities.map { $0["type"] as? String }, ["EMAIL", "DATE_OF_BIRTH", "US_SSN"])
        XCTAssertEqual(entities.first?["start"] as? Int, 12)
        XCTAssertEqual(entities.first?["end"] as? Int, 27)
        XCTAssertEqual(entities.first?["pack"] as? String, "gdpr@2")
    }

    func testRedactWithTypes() throws {
        let body = try JSONSerialization.data(withJSONObject: ["text": "call +44 20 7946 0958 now", "mode": "type", "packs": ["gdpr"]])
        let response = try post("redact", Array(body))
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(try json(response)["text"] as? String, "call [PHONE] now")
    }

    func testBadInputIsRefused() throws {
        XCTAssertEqual(try post("scan", [0x61, 0xFF, 0x62], type: "text/plain").status, 400)
        XCTAssertEqual(try post("scan", [0x50, 0x4B, 3, 4, 1, 2, 3], type: "application/octet-stream").status, 400)
        XCTAssertEqual(try post("scan", Array(#"{"text":"x","packs":["nope"]}"#.utf8)).status, 404)
        // A body over max_body_bytes: announced with Expect: 100-continue, refused before a byte of it is sent.
        let oversized = try TestClient(port: runtime.port)
        try oversized.send("POST /api/v1/compliance/scan HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(tenantKey)\r\nContent-Type: text/plain\r\nContent-Length: \(50 << 20)\r\nExpect: 100-continue\r\n\r\n")
        XCTAssertEqual(try oversized.readResponse().status, 413)
        let failing = #"{"id":"mine","version":1,"rules":[{"id":"pii.email","kind":"personal_data","entity":"EMAIL"}],"tests":[{"name":"expects mail","text":"none"," entities":[]},{"name":"wrong","text":"nothing","entities":["EMAIL"]}]}"#
        let put = try runtime.request("PUT", "/api/v1/compliance/packs/mine", headers: "Authorization: Bearer \(adminKey)\r\n", body: Array(failing.utf8))
        XCTAssertEqual(put.status, 422, put.text)
        XCTAssertTrue(put.text.contains("wrong"), "the refusal must name the failing case: \(put.text)")
        let syntax = try runtime.request("PUT", "/api/v1/compliance/packs/mine", headers: "Authorization: Bearer \(adminKey)\r\n", body: Array("{\"id\":".utf8))
        XCTAssertEqual(syntax.status, 400, syntax.text)
        let lookaround = #"{"id":"mine","version":1,"rules":[{"id":"f","kind":"forbidden","pattern":"(a+)+(?=b)"}],"tests":[{"name":"t","text":"c"}]}"#
        let refused = try runtime.request("PUT", "/api/v1/compliance/packs/mine", headers: "Authorization: Bearer \(adminKey)\r\n", body: Array(lookaround.utf8))
        XCTAssertEqual(refused.status, 422, refused.text)
        XCTAssertTrue(refused.text.contains("rules[0].pattern"), refused.text)
        let notAdmin = try runtime.request("PUT", "/api/v1/compliance/packs/mine", headers: "Authorization: Bearer \(tenantKey)\r\n", body: Array(failing.utf8))
        XCTAssertEqual(notAdmin.status, 403, notAdmin.text)
        XCTAssertEqual(try runtime.request("GET", "/api/v1/compliance/packs/mine", headers: "Authorization: Bearer \(tenantKey)\r\n").status, 404)
    }

    func testTenantPackIsStoredAfterItsTestsPass() throws { try tenantPackIsStoredAfterItsTestsPass() }
}

extension ComplianceTestCase {
    /// A tenant's pack in the key-value store (SQLite here, PostgreSQL in `ComplianceOnPostgresTests`).
    func tenantPackIsStoredAfterItsTestsPass() throws {
        let pack = #"{"id":"mine","version":3,"rules":[{"id":"pii.iban","kind":"personal_data","entity":"IBAN"}],"tests":[{"name":"iban","text":"IBAN DE89 3704 0044 0532 0130 00","entities":["IBAN"]}]}"#
        let put = try runtime.request("PUT", "/api/v1/compliance/packs/mine", headers: "Authorization: Bearer \(adminKey)\r\n", body: Array(pack.utf8))
        XCTAssertEqual(put.status, 201, put.text)
        let body = try JSONSerialization.data(withJSONObject: ["text": "pay to DE89370400440532013000", "packs": ["mine"]])
        let response = try post("scan", Array(body))
        XCTAssertEqual((try json(response)["packs"] as? [String]) ?? [], ["mine@3"])
    }
}

/// Versions of a document: only changed clauses are checked again; the history per tenant.
final class DocumentVersionTests: ComplianceTestCase {
    func testViolationIsRaisedInTheRuntimesAlertTiers() throws {
        let client = try TestClient(port: runtime.port)
        try client.send("GET /api/v1/events/stream?topic=system.alert HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(runtime.adminKey)\r\n\r\n")
        XCTAssertEqual(try client.readHead().status, 200)
        let text = "1. Either party may terminate on 10 days notice.\n"
        XCTAssertEqual(try post("documents/nda/versions", Array(text.utf8), type: "text/plain").status, 201)
        let alert = try SSEReader(client: client).next().json["payload"] as? [String: Any] ?? [:]
        XCTAssertEqual(alert["plugin"] as? String, "compliance")
        XCTAssertEqual(alert["name"] as? String, "compliance.violation")
        // The worst violation (a required clause missing) is high: the error tier.
        let detail = alert["detail"] as? String ?? ""
        XCTAssertEqual(alert["severity"] as? String, "error", detail)
        XCTAssertTrue(detail.contains("document 'nda' version 1") && detail.contains("worst high") && detail.contains("value.termination_notice"), detail)
    }

    func testSecondVersionRechecksOnlyTheChangedClause() throws { try secondVersionRechecksOnlyTheChangedClause() }
}

extension ComplianceTestCase {
    /// Versions in the plugin's table (SQLite here, PostgreSQL in `ComplianceOnPostgresTests`).
    func secondVersionRechecksOnlyTheChangedClause() throws {
        var clauses = (1...200).map { "\($0). The parties agree on item \($0) of the schedule.\n" }
        clauses[0] = "1. This agreement is governed by the laws of England; information is confidential; liability shall not exceed the fees.\n"
        let first = try post("documents/msa/versions", Array(clauses.joined().utf8), type: "text/plain")
        XCTAssertEqual(first.status, 201, first.text)
        XCTAssertEqual(try json(first)["clauses_checked"] as? Int, 200)
        clauses[120] = "121. Either party may terminate on 10 days notice; write to legal@example.com.\n"
        let second = try post("documents/msa/versions", Array(clauses.joined().utf8), type: "text/plain")
        XCTAssertEqual(second.status, 201, second.text)
        let record = try json(second)
        XCTAssertEqual(record["version"] as? Int, 2)
        XCTAssertEqual(record["clauses_checked"] as? Int, 1)
        let result = record["result"] as? [String: Any] ?? [:]
        let violations = (result["violations"] as? [[String: Any]] ?? []).map { $0["rule"] as? String }
        XCTAssertTrue(violations.contains("value.termination_notice"), "\(violations)")
        let history = try runtime.request("GET", "/api/v1/compliance/documents/msa", headers: "Authorization: Bearer \(tenantKey)\r\n")
        XCTAssertEqual(history.status, 200, history.text)
        XCTAssertEqual((try json(history)["versions"] as? [[String: Any]])?.count, 2)
        let other = try runtime.createAPIKey(name: "other", tenant: "globex")
        XCTAssertEqual(try runtime.request("GET", "/api/v1/compliance/documents/msa", headers: "Authorization: Bearer \(other)\r\n").status, 404)
    }
}
