import Foundation
import PlexusDocCompare
import PlexusSDK
import PlexusTesting
import XCTest

/// The doccompare plugin in this process (TestHost: in-memory routes, bus and key-value, a real
/// in-memory SQLite for its version table), without the `plexus` binary.
final class DocCompareInProcessTests: XCTestCase {
    static let reader = TestCaller("reader", tenant: "acme")

    func testCompareAnswersAndPublishesInProcess() async throws {
        let host = try await TestHost.start(DocComparePlugin.self)
        let response = try await host.send(.post, "/api/v1/documents/compare", json: [
            "old": ["text": "one\ntwo\nthree\n"], "new": ["text": "one\n2\nthree\nfour\n"],
        ], caller: Self.reader)
        XCTAssertEqual(response.status, 200, response.text)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        let statistics = report["statistics"] as? [String: Any] ?? [:]
        XCTAssertEqual(statistics["deleted"] as? Int, 1, "\(report)")
        XCTAssertEqual(statistics["inserted"] as? Int, 2, "\(report)")
        XCTAssertEqual(statistics["unchanged"] as? Int, 2, "\(report)")
        XCTAssertEqual(report["identical"] as? Bool, false)
        let compared = await host.events(matching: "document.compared")
        XCTAssertEqual(compared.count, 1)
        await host.stop()
    }

    func testBadInputAndGatewayRulesInProcess() async throws {
        let host = try await TestHost.start(DocComparePlugin.self, config: ["max_input_bytes": "64"])
        let anonymous = try await host.send(.post, "/api/v1/documents/compare", json: ["old": ["text": "a"], "new": ["text": "b"]])
        XCTAssertEqual(anonymous.status, 401, anonymous.text)
        let missing = try await host.send(.post, "/api/v1/documents/compare", json: ["old": ["text": "a"]], caller: Self.reader)
        XCTAssertEqual(missing.status, 400, missing.text)
        XCTAssertTrue(missing.text.contains("missing field 'new'"), missing.text)
        let large = String(repeating: "x", count: 65)
        let tooLarge = try await host.send(.post, "/api/v1/documents/compare", json: ["old": ["text": large], "new": ["text": "b"]], caller: Self.reader)
        XCTAssertEqual(tooLarge.status, 413, tooLarge.text)
        XCTAssertTrue(tooLarge.text.contains("max_input_bytes"), tooLarge.text)
        let compared = await host.events(matching: "document.compared")
        XCTAssertTrue(compared.isEmpty, "nothing compared, nothing published")
        await host.stop()
    }
}
