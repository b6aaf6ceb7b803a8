import Foundation
import PlexusSDK
import PlexusTesting
@testable import PlexusWhiteLabel
import WhiteLabelClient
import WhiteLabelEngine
import XCTest

/// The plugin over `TestHost`: tenants, flags and the flag helper, settings, services, and
/// onboarding with real failures undone.
final class WhiteLabelInProcessTests: XCTestCase {
    /// The test methods run on the plugin actor: its in-process loop must exist first.
    override class func setUp() {
        super.setUp()
        _ = InProcessLoop.shared
    }

    static let acmeBranding = ##"{"product_name":"Acme Cloud","primary_color":"#cc0000","secondary_color":"#111111","background_color":"#ffffff","text_color":"#000000","font_family":"Inter, sans-serif","email_sender_name":"Acme","legal_links":{"terms":"https://acme.test/terms"}}"##
    static let operatorCaller = TestCaller("ops", roles: ["admin"])
    static func admin(_ tenant: String) -> TestCaller { TestCaller("\(tenant)-boss", roles: ["admin"], tenant: tenant) }
    static func user(_ tenant: String, _ name: String = "ada") -> TestCaller { TestCaller(name, tenant: tenant) }

    @PluginActor
    func send(_ host: TestHost<WhiteLabelPlugin>, _ method: HTTPMethod, _ path: String, _ json: String? = nil, as caller: TestCaller?) async throws -> TestResponse {
        try await host.send(method, path, headers: [("Content-Type", "application/json")], body: Array((json ?? "").utf8), caller: caller)
    }

    @PluginActor
    func makeHost() async throws -> TestHost<WhiteLabelPlugin> {
        let host = try await TestHost.start(WhiteLabelPlugin.self)
        for (id, domain) in [("acme", "acme.test"), ("globex", "globex.test")] {
            let response = try await send(host, .post, "/api/v1/tenants",
                                          #"{"id":"\#(id)","display_name":"\#(id.capitalized)","plan":"pro","contact":"ops@\#(domain)","domains":["\#(domain)"]}"#, as: Self.operatorCaller)
            XCTAssertEqual(response.status, 201, response.text)
        }
        return host
    }

    @PluginActor
    func testTenantsDomainsAndTheDirectory() async throws {
        let host = try await makeHost()
        XCTAssertEqual(host.tenancy.entries.map(\.tenant).sorted(), ["acme", "globex"])
        XCTAssertEqual(host.tenancy.tenant(forHost: "ACME.test:8080"), "acme")
        var response = try await send(host, .post, "/api/v1/tenants/acme/domains", #"{"domain":"globex.test"}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 409)
        XCTAssertTrue(response.text.contains("owned by tenant 'globex'"), response.text)
        response = try await send(host, .post, "/api/v1/tenants", #"{"id":"Bad Id","display_name":"x","plan":"pro","contact":"a@b.c"}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 400)
        response = try await send(host, .post, "/api/v1/tenants", #"{"id":"x"}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("is missing"), response.text)
        // A tenant's admin sees its own tenant only, and cannot change its plan or status.
        response = try await send(host, .get, "/api/v1/tenants", as: Self.admin("acme"))
        XCTAssertEqual(try JSONDecoder().decode([Tenant].self, from: Data(response.body)).map(\.id), ["acme"])
        response = try await send(host, .get, "/api/v1/tenants/globex", as: Self.admin("acme"))
        XCTAssertEqual(response.status, 404)
        response = try await send(host, .patch, "/api/v1/tenants/acme", #"{"status":"active","plan":"enterprise"}"#, as: Self.admin("acme"))
        XCTAssertEqual(response.status, 403)
        response = try await send(host, .post, "/api/v1/tenants", #"{"id":"evil","display_name":"x","plan":"pro","contact":"a@b.c"}"#, as: Self.admin("acme"))
        XCTAssertEqual(response.status, 403)
        // Suspension reaches the directory; the test host refuses the tenant's requests like the gateway.
        response = try await send(host, .patch, "/api/v1/tenants/globex", #"{"status":"suspended"}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertTrue(host.tenancy.isSuspended("globex"))
        response = try await send(host, .get, "/api/v1/flags", as: Self.user("globex"))
        XCTAssertEqual(response.status, 403)
        response = try await send(host, .delete, "/api/v1/tenants/globex", as: Self.operatorCaller)
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(host.tenancy.entries.map(\.tenant), ["acme"])
        let stored = try await host.context.storage.get("tenant/globex")
        XCTAssertNil(stored)
    }

    @PluginActor
    func testFlagsExplainServiceAndTheHelperFollowsEvents() async throws {
        let host = try await makeHost()
        let cache = try FlagCache(context: host.context)
        try await cache.load(tenant: "acme")
        XCTAssertFalse(cache.isEnabled("checkout", tenant: "acme", context: FlagContext(userId: "u1")))
        let flag = #"{"enabled":true,"strategies":[{"name":"default","constraints":[{"contextName":"plan","operator":"IN","values":["pro"]},{"contextName":"appVersion","operator":"SEMVER_GT","value":"2.0.0"}]}]}"#
        var response = try await send(host, .put, "/api/v1/flags/checkout", flag, as: Self.admin("acme"))
        XCTAssertEqual(response.status, 200, response.text)
        await host.advance()
        XCTAssertEqual(cache.updates, 2)
        XCTAssertTrue(cache.isEnabled("checkout", tenant: "acme", context: FlagContext(userId: "u1", appVersion: "2.1.0")))
        XCTAssertFalse(cache.isEnabled("checkout", tenant: "globex", context: FlagContext(userId: "u1", appVersion: "2.1.0")))
        XCTAssertEqual(host.events(matching: "flags.changed").last?.tenant, "acme")
        // The change is in the audit log: who, which tenant, which flag, which request.
        let put = host.audit.records.last { $0.action == "plugin.whitelabel.flag.put" }
        XCTAssertEqual(put?.actor, "acme-boss")
        XCTAssertEqual(put?.tenant, "acme")
        XCTAssertEqual(put?.target, "checkout")
        XCTAssertEqual(put?.outcome, .success)
        XCTAssertFalse(put?.requestID?.isEmpty ?? true)
        let context = #"{"userId":"u1","appVersion":"2.1.0"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        response = try await send(host, .get, "/api/v1/flags?context=\(context)", as: Self.user("acme"))
        XCTAssertEqual(try JSONDecoder().decode([String: FlagResult].self, from: Data(response.body))["checkout"]?.enabled, true, response.text)
        response = try await send(host, .get, "/api/v1/flags?context=\(context)", as: Self.user("globex"))
        XCTAssertEqual(response.text, "{}")
        response = try await send(host, .post, "/api/v1/flags/checkout/explain", #"{"appVersion":"1.9.0"}"#, as: Self.user("acme"))
        let explanation = try JSONDecoder().decode(FlagExplanation.self, from: Data(response.body))
        XCTAssertEqual(explanation.decidedBy, "no strategy matched")
        XCTAssertTrue(explanation.steps[0].contains("SEMVER_GT"), explanation.steps[0])
        let reply = try await host.call("whitelabel.flags.evaluate", payload: Array(#"{"tenant":"acme","flag":"checkout","context":{"appVersion":"3.0.0"}}"#.utf8))
        XCTAssertEqual(try JSONDecoder().decode([String: FlagResult].self, from: Data(reply))["checkout"]?.enabled, true)
        // Bad flags: a clear 400, nothing written.
        for (body, expected) in [
            (#"{"enabled":true,"strategies":[{"name":"gradualRollout","percentage":101}]}"#, "outside 0 to 100"),
            (#"{"enabled":true,"strategies":[{"name":"default","constraints":[{"contextName":"shoe","operator":"IN","values":["x"]}]}]}"#, "unknown context field 'shoe'"),
            (#"{"enabled":"yes"}"#, "enabled"),
        ] {
            response = try await send(host, .put, "/api/v1/flags/bad", body, as: Self.admin("acme"))
            XCTAssertEqual(response.status, 400, body)
            XCTAssertTrue(response.text.contains(expected), response.text)
        }
        response = try await send(host, .get, "/api/v1/flags/definitions", as: Self.user("acme"))
        XCTAssertEqual(try JSONDecoder().decode([FlagDefinition].self, from: Data(response.body)).map(\.name), ["checkout"])
        response = try await send(host, .put, "/api/v1/flags/x", flag, as: Self.user("acme"))
        XCTAssertEqual(response.status, 403, "a member who is not admin cannot write flags")
    }

    @PluginActor
    func testSettingsLayersSchemaHistoryAndRevert() async throws {
        let host = try await makeHost()
        var response = try await send(host, .put, "/api/v1/settings/ui.page_size/definition", #"{"schema":{"type":"integer","minimum":1,"maximum":500},"platform":20,"plans":{"pro":50}}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 200, response.text)
        response = try await send(host, .put, "/api/v1/settings/bad/definition", #"{"schema":{"type":"integer","oneOf":[]},"platform":1}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("oneOf"), response.text)
        response = try await send(host, .put, "/api/v1/settings/ui.page_size", #"{"value":100}"#, as: Self.admin("acme"))
        XCTAssertEqual(response.status, 200, response.text)
        response = try await send(host, .put, "/api/v1/settings/ui.page_size", #"{"value":"lots"}"#, as: Self.admin("acme"))
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("must be integer"), response.text)
        response = try await send(host, .put, "/api/v1/settings/ui.page_size/user", #"{"value":10}"#, as: Self.user("acme"))
        XCTAssertEqual(response.status, 200)
        response = try await send(host, .get, "/api/v1/settings/ui.page_size?explain=1", as: Self.user("acme"))
        var resolution = try JSONDecoder().decode(SettingResolution.self, from: Data(response.body))
        XCTAssertEqual(resolution.winner, .user)
        XCTAssertEqual(resolution.layers.map(\.value), [.number(20), .number(50), .number(100), .number(10)])
        response = try await send(host, .get, "/api/v1/settings/ui.page_size?explain=1", as: Self.user("globex"))
        resolution = try JSONDecoder().decode(SettingResolution.self, from: Data(response.body))
        XCTAssertEqual(resolution.winner, .plan, "globex sees none of acme's layers")
        _ = try await send(host, .put, "/api/v1/settings/ui.page_size", #"{"value":300}"#, as: Self.admin("acme"))
        response = try await send(host, .post, "/api/v1/settings/ui.page_size/revert", #"{"version":1}"#, as: Self.admin("acme"))
        XCTAssertEqual(response.status, 200, response.text)
        response = try await send(host, .get, "/api/v1/settings/ui.page_size/history", as: Self.admin("acme"))
        let history = try JSONDecoder().decode([SettingChange].self, from: Data(response.body))
        XCTAssertEqual(history.map(\.version), [1, 2, 3, 4])
        XCTAssertEqual(history.last?.revertOf, 1)
        XCTAssertEqual(history.last?.by, "acme-boss")
        response = try await send(host, .get, "/api/v1/settings/ui.page_size", as: TestCaller("bob", tenant: "acme"))
        XCTAssertEqual(response.text, #"{"key":"ui.page_size","value":100}"#)
        XCTAssertEqual(host.events(matching: "tenant.settings.changed").filter { $0.tenant == "acme" }.count, 4)
    }

    @PluginActor
    func testOnboardingUndoesEveryStepOnARealFailure() async throws {
        let host = try await makeHost()
        var response = try await send(host, .put, "/api/v1/plans/pro/defaults", #"{"flags":[{"name":"welcome","enabled":true}]}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 200, response.text)
        // The domain belongs to acme: the tenant created first is deleted again.
        response = try await send(host, .post, "/api/v1/onboarding", #"{"tenant":{"id":"initech","display_name":"Initech","plan":"pro","contact":"a@initech.test"},"domains":["initech.test","acme.test"]}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 409, response.text)
        XCTAssertTrue(response.text.contains("owned by tenant 'acme'") && response.text.contains("undone: reserve domains, create tenant"), response.text)
        XCTAssertNil(host.tenancy.tenant(forHost: "initech.test"))
        response = try await send(host, .get, "/api/v1/tenants/initech", as: Self.operatorCaller)
        XCTAssertEqual(response.status, 404)
        // A plan without defaults fails after the key was created: the key is revoked too.
        response = try await send(host, .post, "/api/v1/onboarding", #"{"tenant":{"id":"initech","display_name":"Initech","plan":"gold","contact":"a@initech.test"},"domains":["initech.test"]}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 400, response.text)
        XCTAssertTrue(response.text.contains("undone: apply plan defaults, create admin key, reserve domains, create tenant"), response.text)
        XCTAssertTrue(host.tenancy.keys.isEmpty)
        XCTAssertNil(host.tenancy.tenant(forHost: "initech.test"))
        // The real thing.
        response = try await send(host, .post, "/api/v1/onboarding", #"{"tenant":{"id":"initech","display_name":"Initech","plan":"pro","contact":"a@initech.test"},"domains":["initech.test"]}"#, as: Self.operatorCaller)
        XCTAssertEqual(response.status, 201, response.text)
        XCTAssertEqual(host.tenancy.keys.values.map(\.tenant), ["initech"])
        XCTAssertEqual(host.tenancy.tenant(forHost: "initech.test"), "initech")
        XCTAssertEqual(host.events(matching: "tenant.onboarded").map(\.tenant), ["initech"])
        response = try await send(host, .get, "/api/v1/flags/definitions", as: Self.user("initech"))
        XCTAssertTrue(response.text.contains("welcome"))
        // The step services, JSON in and out, each with its undo.
        let created = try await host.call("whitelabel.tenants.create", payload: Array(#"{"id":"hooli","display_name":"Hooli","plan":"pro","contact":"x@hooli.test"}"#.utf8))
        XCTAssertTrue(String(decoding: created, as: UTF8.self).contains("\"id\":\"hooli\""))
        _ = try await host.call("whitelabel.domains.reserve", payload: Array(#"{"tenant":"hooli","domain":"hooli.test"}"#.utf8))
        let key = try JSONDecoder().decode([String: String].self, from: Data(try await host.call("whitelabel.apikeys.create", payload: Array(#"{"tenant":"hooli"}"#.utf8))))
        _ = try await host.call("whitelabel.plans.apply", payload: Array(#"{"tenant":"hooli"}"#.utf8))
        _ = try await host.call("whitelabel.plans.reset", payload: Array(#"{"tenant":"hooli"}"#.utf8))
        _ = try await host.call("whitelabel.apikeys.revoke", payload: Array(#"{"id":"\#(key["id"]!)"}"#.utf8))
        _ = try await host.call("whitelabel.domains.release", payload: Array(#"{"tenant":"hooli","domain":"hooli.test"}"#.utf8))
        _ = try await host.call("whitelabel.tenants.delete", payload: Array(#"{"id":"hooli"}"#.utf8))
        XCTAssertNil(host.tenancy.tenant(forHost: "hooli.test"))
        XCTAssertEqual(host.tenancy.keys.count, 1)
        do {
            _ = try await host.call("whitelabel.domains.reserve", payload: Array(#"{"tenant":"initech","domain":"acme.test"}"#.utf8))
            XCTFail("a domain acme owns must be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("owned by tenant 'acme'"), "\(error)")
        }
    }

    @PluginActor
    func testBrandingByHostAndLogoChecks() async throws {
        let host = try await makeHost()
        var response = try await send(host, .put, "/api/v1/branding", WhiteLabelInProcessTests.acmeBranding, as: Self.admin("acme"))
        XCTAssertEqual(response.status, 200, response.text)
        response = try await host.get("/branding.css", headers: [("Host", "acme.test")])
        XCTAssertTrue(response.text.contains("--brand-primary: #cc0000;"), response.text)
        response = try await host.get("/branding.css", headers: [("Host", "globex.test")])
        XCTAssertFalse(response.text.contains("#cc0000"))
        response = try await host.get("/", headers: [("Host", "acme.test")])
        XCTAssertTrue(response.text.contains("Acme Cloud"))
        response = try await host.get("/", headers: [("Host", "globex.test")])
        XCTAssertTrue(response.text.contains("Globex") && !response.text.contains("Acme"), response.text)
        let script = #"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#
        response = try await host.send(.put, "/api/v1/branding/logo", body: Array(script.utf8), caller: Self.admin("acme"))
        XCTAssertEqual(response.status, 400)
        XCTAssertTrue(response.text.contains("<script>"), response.text)
        let svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="red"/></svg>"#
        response = try await host.send(.put, "/api/v1/branding/logo", body: Array(svg.utf8), caller: Self.admin("acme"))
        XCTAssertEqual(response.status, 201, response.text)
        response = try await host.get("/branding/logo", headers: [("Host", "acme.test")])
        XCTAssertEqual(response.header("Content-Type"), "image/svg+xml")
        response = try await host.get("/branding/logo", headers: [("Host", "globex.test")])
        XCTAssertEqual(response.status, 404)
        response = try await host.send(.put, "/api/v1/branding/logo", body: [UInt8](repeating: 1, count: 20 * 1024 * 1024), caller: Self.admin("acme"))
        XCTAssertEqual(response.status, 413)
    }
}
