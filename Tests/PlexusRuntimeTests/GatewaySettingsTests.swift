@testable import PlexusRuntime
import XCTest

/// The gateway's tables in the runtime's config file.
final class GatewaySettingsTests: XCTestCase {
    private func config(_ text: String) throws -> RuntimeConfig {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString).toml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        return try RuntimeConfig(file: url)
    }

    private func refusal(_ text: String) -> String {
        do {
            _ = try config(text)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testEveryTableIsRead() throws {
        let settings = try config("""
        [auth]
        jwt_hs256_secret = "0123456789abcdef0123456789abcdef"
        jwt_public_key_file = "keys/issuer.pem"
        jwt_public_key_alg = "ES256"
        issuer = "https://id.example"
        audience = "plexus, api"
        leeway_s = 5
        tenant_claim = "org"
        admin_role = "operator"
        [tenants.hosts]
        "Docs.Acme.Example" = "acme"
        [rate_limits.api]
        requests = 10
        window_s = 60
        burst = 20
        applies_to = "route:get /api/v1/hello"
        key = "ip"
        [resilience]
        timeout_ms = 1500
        breaker_min_requests = 4
        [resilience.plugins.hello]
        max_concurrent = 3
        [cors]
        allowed_origins = "https://app.example, https://admin.example"
        allow_credentials = true
        [security]
        hsts = true
        [audit]
        retention_days = 30
        """).gateway
        XCTAssertEqual(settings.auth.hs256Secret, "0123456789abcdef0123456789abcdef")
        XCTAssertTrue(settings.auth.publicKeyFile?.hasSuffix("/keys/issuer.pem") ?? false)
        XCTAssertEqual(settings.auth.publicKeyAlgorithm, "ES256")
        XCTAssertEqual(settings.auth.audiences, ["plexus", "api"])
        XCTAssertEqual(settings.auth.leewaySeconds, 5)
        XCTAssertEqual(settings.auth.tenantClaim, "org")
        XCTAssertEqual(settings.auth.adminRole, "operator")
        XCTAssertEqual(settings.tenantHosts, ["docs.acme.example": "acme"])
        let limit = try XCTUnwrap(settings.rateLimits.first)
        XCTAssertEqual(limit.name, "api")
        XCTAssertEqual(limit.requests, 10)
        XCTAssertEqual(limit.windowSeconds, 60)
        XCTAssertEqual(limit.burst, 20)
        XCTAssertEqual(limit.scope, .route(method: "GET", pattern: "/api/v1/hello"))
        XCTAssertTrue(limit.byIP)
        XCTAssertEqual(settings.resilience.timeoutMilliseconds, 1500)
        XCTAssertEqual(settings.resilience(for: "hello").maxConcurrent, 3)
        XCTAssertEqual(settings.resilience(for: "hello").breakerMinimumRequests, 4, "a plugin's table starts from the defaults")
        XCTAssertEqual(settings.resilience(for: "other").maxConcurrent, 1024)
        XCTAssertTrue(settings.cors.allows("https://admin.example"))
        XCTAssertFalse(settings.cors.allows("https://evil.example"))
        XCTAssertTrue(settings.hsts)
        XCTAssertEqual(settings.auditRetentionDays, 30)
    }

    func testBadValuesNameTheKey() {
        XCTAssertTrue(refusal("[auth]\njwt_public_key_alg = \"HS512\"\n").contains("auth.jwt_public_key_alg"))
        XCTAssertTrue(refusal("[auth]\nsecret = \"x\"\n").contains("auth.secret"))
        XCTAssertTrue(refusal("[rate_limits.a]\nrequests = 0\n").contains("rate_limits.a.requests"))
        XCTAssertTrue(refusal("[rate_limits.a]\nrequests = 5\napplies_to = \"everything\"\n").contains("applies_to"))
        XCTAssertTrue(refusal("[rate_limits.a]\nrequests = 5\nkey = \"cookie\"\n").contains("rate_limits.a.key"))
        XCTAssertTrue(refusal("[resilience]\nbreaker_failure_ratio = 2\n").contains("breaker_failure_ratio"))
        XCTAssertTrue(refusal("[resilience.plugins.hello]\nretries = 3\n").contains("resilience.plugins.hello.retries"))
        XCTAssertTrue(refusal("[cors]\nallowed_origins = \"*\"\nallow_credentials = true\n").contains("allow_credentials"))
    }
}
