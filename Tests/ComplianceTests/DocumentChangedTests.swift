import Foundation
import PlexusTesting
import XCTest

/// The durable subscription to `document.changed`, with the real document comparison plugin
/// loaded beside the compliance plugin: a version stored there shows up here.
final class DocumentChangedTests: XCTestCase {
    func testStoredVersionReachesCompliance() throws {
        let bin = ComplianceTestCase.binDirectory
        let plugins = ["libPlexusCompliance.so", "libPlexusDocCompare.so"].map { bin.appendingPathComponent($0) }
        for file in plugins + [bin.appendingPathComponent("plexus")] where !FileManager.default.fileExists(atPath: file.path) {
            throw TestFailure("no \(file.path): run `swift build` first (or set PLEXUS_BIN_DIR)")
        }
        let packs = ComplianceTestCase.root.appendingPathComponent("plugins.d/compliance").path
        let runtime = try TestRuntime(binary: bin.appendingPathComponent("plexus"), plugins: plugins,
                                      pluginConfigs: ["compliance": "packs_dir = \"\(packs)\"\n"])
        defer { _ = runtime.stop() }
        let key = try runtime.createAPIKey(name: "writer", tenant: "acme")
        let auth = "Authorization: Bearer \(key)\r\n"
        let stored = try runtime.request("POST", "/api/v1/documents/acme/nda/versions", headers: auth + "Content-Type: text/plain\r\n",
                                         body: Array("1. Contact anna@example.com.\n".utf8))
        XCTAssertEqual(stored.status, 201, stored.text)
        var seen: TestResponse? = nil
        for _ in 0..<50 {
            let answer = try runtime.request("GET", "/api/v1/compliance/documents/nda", headers: auth)
            if answer.status == 200 { seen = answer; break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        guard let seen else { return XCTFail("document.changed never reached the compliance plugin:\n\(runtime.log.suffix(3000))") }
        let object = try JSONSerialization.jsonObject(with: Data(seen.body)) as? [String: Any] ?? [:]
        let versions = object["versions"] as? [[String: Any]] ?? []
        XCTAssertEqual(versions.first?["version"] as? Int, 1)
        // The text came from the comparison plugin's `doccompare.version` service and was checked.
        XCTAssertEqual(versions.first?["status"] as? String, "checked", "\(versions)")
        XCTAssertTrue(seen.text.contains("\"EMAIL\""), "the stored version's e-mail address is found: \(seen.text)")
    }
}
