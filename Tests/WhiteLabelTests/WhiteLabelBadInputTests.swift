import Foundation
import PlexusSDK
import PlexusTesting
@testable import PlexusWhiteLabel
import WhiteLabelEngine
import XCTest

/// Hostile input on the white-label routes: each a clear 4xx naming the problem, nothing written.
final class WhiteLabelBadInputTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        _ = InProcessLoop.shared
    }

    static let operatorCaller = TestCaller("ops", roles: ["admin"])
    static let acmeAdmin = TestCaller("acme-boss", roles: ["admin"], tenant: "acme")
    static let acmeUser = TestCaller("ada", tenant: "acme")

    @PluginActor
    func send(_ host: TestHost<WhiteLabelPlugin>, _ method: HTTPMethod, _ path: String, _ body: String = "", as caller: TestCaller?) async throws -> TestResponse {
        try await host.send(method, path, headers: [("Content-Type", "application/json")], body: Array(body.utf8), caller: caller)
    }

    @PluginActor
    func makeHost() async throws -> TestHost<WhiteLabelPlugin> {
        let host = try await TestHost.start(WhiteLabelPlugin.self)
        let response = try await send(host, .post, "/api/v1/tenants", #"{"id":"acme","display_name":"Acme","plan":"pro","contact":"ops@acme.test","domains":["acme.test"]}"#,
                                      as: Self.operatorCaller)
        XCTAssertEqual(response.status, 201, response.text)
        return host
    }

    static func nested(_ depth: Int, _ inner: String = "1") -> String { String(repeating: "[", count: depth) + inner + String(repeating: "]", count: depth) }

    @PluginActor
    func testHugeAndDeepContexts() async throws {
        let host = try await makeHost()
        func flags(_ context: String) async throws -> TestResponse {
            try await send(host, .get, "/api/v1/flags?context=\(context.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", as: Self.acmeUser)
        }
        var response = try await flags(#"{"userId":""# + String(repeating: "x", count: 20_000) + #""}"#)
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("larger than 16 KiB"), response.text)
        for (context, problem) in [(Self.nested(5000), "not a JSON object"), (#"{"properties":{"a":"# + Self.nested(5000) + "}}", "'properties.a' must be a string"),
                                   (#"{"userId":{"a":{"b":{}}}}"#, "'userId' must be a string")] {
            response = try await flags(context)
            XCTAssertEqual(response.status, 400, context.prefix(40) + "")
            XCTAssertTrue(response.text.contains(problem), response.text)
        }
        response = try await send(host, .post, "/api/v1/flags/none/explain", Self.nested(5000), as: Self.acmeUser)
        XCTAssertEqual(response.status, 404, "an unknown flag is named before the body is read")
        // Escapes cut short, and a context that is not UTF-8.
        response = try await send(host, .get, "/api/v1/flags?context=%7B%22userId%22%3A%22a%", as: Self.acmeUser)
        XCTAssertEqual(response.status, 400)
        response = try await send(host, .get, "/api/v1/flags?context=%7B%22userId%22%3A%22%FF%22%7D", as: Self.acmeUser)
        XCTAssertEqual(response.status, 400)
    }

    @PluginActor
    func testDeepJSONBodiesAreRefused() async throws {
        let host = try await makeHost()
        // A variant payload 100 deep (the decoder takes it; the flag refuses it), then 100,000 deep (the decoder refuses it).
        for depth in [100, 100_000] {
            let body = #"{"enabled":true,"variants":[{"name":"a","weight":1,"payload":"# + Self.nested(depth) + "}]}"
            let response = try await send(host, .put, "/api/v1/flags/deep", body, as: Self.acmeAdmin)
            XCTAssertEqual(response.status, depth == 100_000 && body.utf8.count > 256 * 1024 ? 413 : 400, "payload \(depth) deep: \(response.text.prefix(200))")
        }
        var response = try await send(host, .put, "/api/v1/flags/deep", #"{"enabled":true,"variants":[{"name":"a","weight":1,"payload":"# + Self.nested(32) + "}]}", as: Self.acmeAdmin)
        XCTAssertEqual(response.status, 200, "32 levels are allowed: \(response.text)")
        response = try await send(host, .put, "/api/v1/flags/deeper", #"{"enabled":true,"variants":[{"name":"a","weight":1,"payload":"# + Self.nested(33) + "}]}", as: Self.acmeAdmin)
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("deeper than 32 levels"), response.text)
        // A setting value nested past 32 levels, though its schema takes any array.
        response = try await send(host, .put, "/api/v1/settings/layout/definition", #"{"schema":{"type":"array"},"platform":[]}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 200, response.text)
        response = try await send(host, .put, "/api/v1/settings/layout", #"{"value":"# + Self.nested(40) + "}", as: Self.acmeAdmin)
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("deeper than 32 levels"), response.text)
        response = try await send(host, .put, "/api/v1/settings/layout", #"{"value":"# + Self.nested(30_000) + "}", as: Self.acmeAdmin)
        XCTAssertEqual(response.status, 400, response.text.prefix(200) + "")
        response = try await send(host, .get, "/api/v1/settings/layout/history", as: Self.acmeAdmin)
        XCTAssertEqual(response.text, "[]", "nothing written")
        let stored = try await host.context.storage.tenant("acme").get("flag/deeper")
        XCTAssertNil(stored, "nothing written")
    }

    @PluginActor
    func testUnicodeAndMalformedDomains() async throws {
        let host = try await makeHost()
        for domain in ["bücher.example", "ACME2.test", "xn--bcher-kva.example:443", "a..b", "-a.test", String(repeating: "a", count: 64) + ".test", "ｆｕｌｌ.test"] {
            let response = try await send(host, .post, "/api/v1/tenants/acme/domains", #"{"domain":"\#(domain)"}"#, as: Self.operatorCaller)
            XCTAssertEqual(response.status, 400, domain)
            if domain.utf8.contains(where: { $0 >= 0x80 }) { XCTAssertTrue(response.text.contains("punycode"), response.text) }
        }
        let response = try await send(host, .post, "/api/v1/tenants/acme/domains", #"{"domain":"xn--bcher-kva.example"}"#, as: Self.operatorCaller)
        XCTAssertTrue((200..<300).contains(response.status), response.text)
        XCTAssertEqual(host.tenancy.tenant(forHost: "xn--bcher-kva.example"), "acme")
    }

    /// A tenant holds at most 1000 flags: each change publishes the whole set, so a 100k-flag
    /// tenant would make every write cost 100k definitions.
    @PluginActor
    func testAFlagCountLimitPerTenant() async throws {
        let host = try await makeHost()
        func plan(_ name: String, _ count: Int) async throws {
            let flags = (0..<count).map { #"{"name":"\#(name)-\#($0)","enabled":true}"# }.joined(separator: ",")
            let response = try await send(host, .put, "/api/v1/plans/\(name)/defaults", #"{"flags":[\#(flags)]}"#, as: Self.operatorCaller)
            XCTAssertEqual(response.status, 200, response.text)
        }
        try await plan("big", WhiteLabelPlugin.maxFlagsPerTenant)
        try await plan("over", 1)
        _ = try await host.call("whitelabel.plans.apply", payload: Array(#"{"tenant":"acme","plan":"big"}"#.utf8))
        var response = try await send(host, .put, "/api/v1/flags/one-more", #"{"enabled":true}"#, as: Self.acmeAdmin)
        XCTAssertEqual(response.status, 409)
        XCTAssertTrue(response.text.contains("at most \(WhiteLabelPlugin.maxFlagsPerTenant) flags"), response.text)
        do {
            _ = try await host.call("whitelabel.plans.apply", payload: Array(#"{"tenant":"acme","plan":"over"}"#.utf8))
            XCTFail("a plan past the limit was applied")
        } catch {}
        // Replacing an existing flag is no new flag; after a delete there is room again.
        response = try await send(host, .put, "/api/v1/flags/big-7", #"{"enabled":false}"#, as: Self.acmeAdmin)
        XCTAssertEqual(response.status, 200, response.text)
        response = try await send(host, .delete, "/api/v1/flags/big-8", as: Self.acmeAdmin)
        XCTAssertEqual(response.status, 204)
        response = try await send(host, .put, "/api/v1/flags/one-more", #"{"enabled":true}"#, as: Self.acmeAdmin)
        XCTAssertEqual(response.status, 200, response.text)
        response = try await send(host, .get, "/api/v1/flags", as: Self.acmeUser)
        XCTAssertEqual(try JSONDecoder().decode([String: FlagResult].self, from: Data(response.body)).count, WhiteLabelPlugin.maxFlagsPerTenant)
    }
}
