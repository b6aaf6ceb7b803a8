import PlexusAuth
import PlexusPolicy
@testable import PlexusRuntime
import XCTest

/// The stages that judge a request on its head (CORS, authenticate, tenant, authorise, rate
/// limit), each driven in-process with a context built by hand.
final class PipelineHeadStageTests: XCTestCase {
    private typealias Fixture = PipelineFixture

    func testCORSAddsItsHeadersForAnAllowedOriginOnly() {
        var settings = GatewaySettings.CORS()
        settings.allowedOrigins = ["https://app.example"]
        settings.allowCredentials = true
        let stage = CORSStage(settings: settings)
        let allowed = Fixture.request("GET", "/docs", headers: [("Origin", "https://app.example")])
        XCTAssertNil(stage.screen(allowed, now: 0))
        XCTAssertEqual(allowed.extraHeaders.first { $0.0 == "Access-Control-Allow-Origin" }?.1, "https://app.example")
        XCTAssertTrue(allowed.extraHeaders.contains { $0 == ("Access-Control-Allow-Credentials", "true") })
        let foreign = Fixture.request("GET", "/docs", headers: [("Origin", "https://evil.example")])
        XCTAssertNil(stage.screen(foreign, now: 0), "CORS never refuses an actual request")
        XCTAssertTrue(foreign.extraHeaders.isEmpty)
    }

    func testCORSPreflightNamesTheAllowedMethodsOrRefusesAForeignOrigin() throws {
        var settings = GatewaySettings.CORS()
        settings.allowedOrigins = ["https://app.example"]
        let stage = CORSStage(settings: settings)
        let preflight = Fixture.request("OPTIONS", "/docs", headers: [("Origin", "https://app.example"), ("Access-Control-Request-Method", "PUT")])
        let answer = try XCTUnwrap(stage.preflight(preflight, allowedMethods: ["GET", "PUT"]))
        XCTAssertEqual(answer.status, 204)
        XCTAssertTrue(answer.headers.contains { $0 == ("Access-Control-Allow-Methods", "GET, PUT") })
        let foreign = Fixture.request("OPTIONS", "/docs", headers: [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "PUT")])
        XCTAssertEqual(stage.preflight(foreign, allowedMethods: ["GET"])?.status, 403)
        XCTAssertNil(stage.preflight(Fixture.request("OPTIONS", "/docs"), allowedMethods: ["GET"]), "no Origin: not a preflight")
    }

    func testAuthenticateIdentifiesAnAPIKeyAndRefusesABadOneAndAnotherScheme() async throws {
        let (trail, log) = try await Fixture.auditTrail()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try await APIKeyStore.open(path: directory.appendingPathComponent("gateway.sqlite").path)
        let (_, plaintext) = try await store.create(name: "ci", tenant: "acme", roles: ["deployer"])
        let keys = APIKeyDirectory(store: store)
        _ = try await keys.refresh()
        let stage = AuthenticateStage(verifier: nil, keys: keys, tickets: StreamTickets(), audit: trail, logger: .init(label: "test"))

        let good = Fixture.request("GET", "/x", headers: [("X-API-Key", "  \(plaintext) ")])
        XCTAssertNil(stage.screen(good, now: 1_000))
        XCTAssertEqual(good.caller?.tenant, "acme")
        XCTAssertEqual(good.caller?.roles, ["deployer"])

        let anonymous = Fixture.request("GET", "/x")
        XCTAssertNil(stage.screen(anonymous, now: 1_000))
        XCTAssertNil(anonymous.caller)

        let forged = Fixture.request("GET", "/x", headers: [("Authorization", "Bearer plx_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")])
        let refusal = try XCTUnwrap(stage.screen(forged, now: 1_000))
        XCTAssertEqual(refusal.status, 401)
        XCTAssertTrue(refusal.headers.contains { $0.0 == "WWW-Authenticate" && $0.1.contains("invalid_token") }, "\(refusal.headers)")
        XCTAssertNil(forged.caller)

        let basic = Fixture.request("GET", "/x", headers: [("Authorization", "Basic dXNlcjpwYXNz")])
        let schemeRefusal = try XCTUnwrap(stage.screen(basic, now: 1_000))
        XCTAssertEqual(schemeRefusal.status, 401)
        XCTAssertTrue(schemeRefusal.detail.contains("Bearer scheme"), schemeRefusal.detail)

        let jwt = Fixture.request("GET", "/x", headers: [("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln")])
        XCTAssertTrue(try XCTUnwrap(stage.screen(jwt, now: 1_000)).detail.contains("no JWT keys"), "a JWT with no keys configured is refused, naming why")

        try await log.flush()
        let audited = try await log.query().records
        XCTAssertEqual(audited.filter { $0.action == .authFailure }.count, 3)
        XCTAssertTrue(audited.allSatisfy { $0.actor == "ip:203.0.113.7" })
    }

    func testAStreamTicketAuthenticatesOnceOnAStreamPath() async throws {
        let (trail, _) = try await Fixture.auditTrail()
        let tickets = StreamTickets()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keys = APIKeyDirectory(store: try await APIKeyStore.open(path: directory.appendingPathComponent("gateway.sqlite").path))
        let stage = AuthenticateStage(verifier: nil, keys: keys, tickets: tickets, audit: trail, logger: .init(label: "test"))
        let issued = try XCTUnwrap(tickets.issue(for: Fixture.caller("alice", tenant: "acme"), now: 1_000))
        let first = Fixture.request("GET", "/api/v1/events/stream?ticket=\(issued.ticket)")
        XCTAssertNil(stage.screen(first, now: 1_001))
        XCTAssertEqual(first.caller?.subject, "alice")
        let again = Fixture.request("GET", "/api/v1/events/stream?ticket=\(issued.ticket)")
        XCTAssertEqual(stage.screen(again, now: 1_002)?.status, 401, "a ticket is single-use")
    }

    func testTenantComesFromTheCallerAndAHostOfAnotherTenantIsRefused() async throws {
        let (trail, _) = try await Fixture.auditTrail()
        let stage = TenantStage(tenantHosts: ["docs.acme.example": "acme", "docs.beta.example": "beta"], audit: trail)

        let anonymous = Fixture.request("GET", "/x", headers: [("Host", "Docs.Acme.Example:8443")])
        XCTAssertNil(stage.screen(anonymous, now: 0))
        XCTAssertEqual(anonymous.tenant, "acme", "an anonymous request takes the host's tenant")

        let member = Fixture.request("GET", "/x", headers: [("Host", "docs.acme.example")])
        member.caller = Fixture.caller("alice", tenant: "acme")
        XCTAssertNil(stage.screen(member, now: 0))
        XCTAssertEqual(member.tenant, "acme")

        let stranger = Fixture.request("GET", "/x", headers: [("Host", "docs.beta.example")])
        stranger.caller = Fixture.caller("alice", tenant: "acme")
        let refusal = try XCTUnwrap(stage.screen(stranger, now: 0))
        XCTAssertEqual(refusal.status, 403)
        XCTAssertTrue(refusal.detail.contains("'acme'") && refusal.detail.contains("'beta'"), refusal.detail)

        let global = Fixture.request("GET", "/x", headers: [("Host", "docs.beta.example")])
        global.caller = Fixture.caller("root")
        XCTAssertNil(stage.screen(global, now: 0))
        XCTAssertNil(global.tenant, "a mapped host lends no tenant to a caller without one")
    }

    func testAuthoriseChecksBuiltinAccessLevels() async throws {
        let (trail, _) = try await Fixture.auditTrail()
        let stage = AuthoriseStage(adminRole: "admin", audit: trail)
        let admin = Fixture.builtin("GET", "/admin/plugins", access: .admin)
        let tenantAdmin = Fixture.builtin("GET", "/admin/api-keys", access: .tenantAdmin)

        let anonymous = Fixture.request("GET", "/admin/plugins")
        anonymous.target = .builtin(admin)
        XCTAssertEqual(stage.screen(anonymous, now: 0)?.status, 401)

        let acmeAdmin = Fixture.request("GET", "/admin/plugins")
        acmeAdmin.target = .builtin(admin)
        acmeAdmin.caller = Fixture.caller("ann", tenant: "acme", roles: ["admin"])
        let refusal = try XCTUnwrap(stage.screen(acmeAdmin, now: 0))
        XCTAssertEqual(refusal.status, 403)
        XCTAssertTrue(refusal.detail.contains("spans every tenant"), refusal.detail)

        let keys = Fixture.request("GET", "/admin/api-keys")
        keys.target = .builtin(tenantAdmin)
        keys.caller = acmeAdmin.caller
        XCTAssertNil(stage.screen(keys, now: 0), "a tenant's admin may manage its tenant's keys")

        let user = Fixture.request("GET", "/admin/api-keys")
        user.target = .builtin(tenantAdmin)
        user.caller = Fixture.caller("bob", roles: ["editor"])
        XCTAssertEqual(stage.screen(user, now: 0)?.status, 403)
    }

    func testAuthoriseChecksAPluginRoutesRolesAndTenant() async throws {
        let (trail, _) = try await Fixture.auditTrail()
        let stage = AuthoriseStage(adminRole: "admin", audit: trail)
        let plugins = PipelineFixture.Plugins()
        let docs = plugins.plugin("docs")
        let route = try XCTUnwrap(plugins.add("GET", "/t/:tenant/docs", for: docs, roles: "editor,viewer", tenantRequired: true).0)

        let viewer = Fixture.request("GET", "/t/acme/docs")
        viewer.target = .plugin(route)
        viewer.parameters = [("tenant", "acme")]
        viewer.caller = Fixture.caller("v", tenant: "acme", roles: ["viewer"])
        XCTAssertNil(stage.screen(viewer, now: 0))

        let otherTenant = Fixture.request("GET", "/t/beta/docs")
        otherTenant.target = .plugin(route)
        otherTenant.parameters = [("tenant", "beta")]
        otherTenant.caller = viewer.caller
        XCTAssertEqual(stage.screen(otherTenant, now: 0)?.status, 403)

        let noRole = Fixture.request("GET", "/t/acme/docs")
        noRole.target = .plugin(route)
        noRole.parameters = [("tenant", "acme")]
        noRole.caller = Fixture.caller("x", tenant: "acme", roles: ["billing"])
        let refusal = try XCTUnwrap(stage.screen(noRole, now: 0))
        XCTAssertTrue(refusal.detail.contains("editor, viewer"), refusal.detail)

        let anonymous = Fixture.request("GET", "/t/acme/docs")
        anonymous.target = .plugin(route)
        XCTAssertEqual(stage.screen(anonymous, now: 0)?.status, 401)
    }

    func testRateLimitRefusesOnceTheBucketIsEmptyAndKeysByClient() throws {
        let policy = GatewaySettings.RateLimit(name: "api", requests: 2, windowSeconds: 60, burst: 2, scope: .all, byIP: false)
        let stage = try RateLimitStage(policies: [policy])
        for _ in 0..<2 {
            let request = Fixture.request("GET", "/x")
            XCTAssertNil(stage.screen(request, now: 1_000))
            XCTAssertTrue(request.extraHeaders.contains { $0.0 == "RateLimit" }, "the tightest policy's state goes into the answer")
        }
        let third = try XCTUnwrap(stage.screen(Fixture.request("GET", "/x"), now: 1_000))
        XCTAssertEqual(third.status, 429)
        XCTAssertTrue(third.detail.contains("'api'"), third.detail)
        let keyed = Fixture.request("GET", "/x")
        keyed.caller = Fixture.caller("alice")
        XCTAssertNil(stage.screen(keyed, now: 1_000), "a verified caller has its own bucket, not its IP's")
    }
}
