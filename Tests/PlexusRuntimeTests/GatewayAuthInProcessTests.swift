import Foundation
import JWTMinting
import Logging
import PlexusAuth
import PlexusPolicy
@testable import PlexusRuntime
import XCTest

/// The gateway's JWT checks and rate-limit accounting in-process: a ``Gateway`` built from the
/// same config text as the live `GatewayTests` (which keep the wire: headers, problem+json, the
/// concurrency of real connections), driven through its stages with requests built by hand.
final class GatewayAuthInProcessTests: XCTestCase {
    static let secret = "gateway-tests-hs256-secret-0123456789abcdef"
    static let issuer = "https://id.plexus.test"
    static let audience = "plexus-api"

    /// A gateway built from `toml` as the runtime builds it from its config file, over fresh stores.
    private func gateway(_ toml: String) async throws -> Gateway {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-gateway-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plexus.toml")
        try toml.write(to: file, atomically: true, encoding: .utf8)
        let config = try RuntimeConfig(file: file)
        let store = try await APIKeyStore.open(path: directory.appendingPathComponent("gateway.sqlite").path)
        let audit = try await AuditLog.open(path: directory.appendingPathComponent("audit.sqlite").path)
        return try Gateway(settings: config.gateway, keyStore: store, audit: audit, logger: Logger(label: "test"))
    }

    private func authTable(pemFile: String) -> String {
        """
        [auth]
        jwt_hs256_secret = "\(Self.secret)"
        jwt_public_key_file = "\(pemFile)"
        jwt_public_key_alg = "RS256"
        issuer = "\(Self.issuer)"
        audience = "\(Self.audience)"

        """
    }

    private func request(_ path: String, _ headers: [(String, String)], token: UInt64 = 1) -> RequestContext {
        PipelineFixture.request("GET", path, headers: headers, token: token)
    }

    func testForgedTokensAreRefusedAndValidOnesIdentifyTheCallerInProcess() async throws {
        let rsa = try JWTMinter.RSAKey()
        let pem = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-issuer-\(UUID().uuidString.prefix(8)).pem")
        try rsa.publicKeyPEM.write(to: pem, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: pem) }
        let gateway = try await gateway(authTable(pemFile: pem.path))
        let now = Date().timeIntervalSince1970
        let (valid, forged) = try JWTMinter.forgeries(secret: Self.secret, issuer: Self.issuer, audience: Self.audience, rsa: rsa)

        // Valid tokens identify the caller exactly as verified (roles also as the sorted array ABI 1.6 hands over).
        let hs = request("/api/v1/whoami", [("Authorization", "Bearer \(valid)")])
        XCTAssertNil(gateway.authenticate.screen(hs, now: now))
        XCTAssertEqual(hs.caller?.subject, "alice")
        XCTAssertEqual(hs.caller?.tenant, "acme")
        XCTAssertEqual(hs.caller?.roleList, ["editor", "reader"])
        let validRS = try JWTMinter.rs256(JWTMinter.claims(subject: "bob", tenant: "globex", roles: ["viewer"],
                                                           extra: ["iss": Self.issuer, "aud": [Self.audience, "other"]]), key: rsa)
        let rs = request("/api/v1/whoami", [("Authorization", "Bearer \(validRS)")], token: 2)
        XCTAssertNil(gateway.authenticate.screen(rs, now: now))
        XCTAssertEqual(rs.caller?.subject, "bob")
        XCTAssertEqual(rs.caller?.tenant, "globex")
        XCTAssertEqual(rs.caller?.roleList, ["viewer"])

        // Every forgery is refused, with an invalid_token challenge, and identifies no one.
        for (index, (label, token)) in forged.enumerated() {
            let forgery = request("/api/v1/whoami", [("Authorization", "Bearer \(token)")], token: UInt64(10 + index))
            guard let refusal = gateway.authenticate.screen(forgery, now: now) else {
                XCTFail("\(label): accepted as \(forgery.caller?.subject ?? "nobody")")
                continue
            }
            XCTAssertEqual(refusal.status, 401, label)
            let challenge = refusal.headers.first { $0.0 == "WWW-Authenticate" }?.1 ?? ""
            XCTAssertTrue(challenge.hasPrefix(#"Bearer realm="plexus""#), "\(label): \(challenge)")
            XCTAssertTrue(challenge.contains(#"error="invalid_token""#), "\(label): \(challenge)")
            XCTAssertNil(forgery.caller, label)
        }
        let unknownKey = try XCTUnwrap(gateway.authenticate.screen(request("/api/v1/whoami", [("X-API-Key", "plx_not-a-real-key")], token: 90), now: now))
        XCTAssertTrue(unknownKey.headers.contains { $0.0 == "WWW-Authenticate" && $0.1.contains(#"error="invalid_token""#) }, "\(unknownKey.headers)")
        let basic = try XCTUnwrap(gateway.authenticate.screen(request("/api/v1/whoami", [("Authorization", "Basic YWRtaW46YWRtaW4=")], token: 91), now: now))
        XCTAssertTrue(basic.headers.contains { $0.0 == "WWW-Authenticate" && $0.1.contains(#"error="invalid_request""#) }, "\(basic.headers)")
        // No credentials: no caller, no refusal here (the authorise stage challenges on an authenticated route).
        let anonymous = request("/api/v1/whoami", [], token: 92)
        XCTAssertNil(gateway.authenticate.screen(anonymous, now: now))
        XCTAssertNil(anonymous.caller)
    }

    func testRateLimitAccountingInProcess() async throws {
        // A bucket of 50 that refills one token an hour: exactly 50 of 160 pass.
        let gateway = try await gateway("""
            [rate_limits.hello]
            requests = 1
            window_s = 3600
            burst = 50
            applies_to = "route:GET /api/v1/hello"
            key = "client"

            """)
        let plugins = PipelineFixture.Plugins()
        let hello = plugins.plugin("hello")
        let route = try XCTUnwrap(plugins.add("GET", "/api/v1/hello", for: hello, public: true).0)
        let other = try XCTUnwrap(plugins.add("GET", "/api/v1/hello/:name", for: hello, public: true).0)
        func call(_ route: RegisteredRoute, caller: Caller? = nil, token: UInt64, now: Double) -> (RequestContext, GatewayRefusal?) {
            let request = request(route.pattern.text, [], token: token)
            request.target = .plugin(route)
            request.caller = caller
            return (request, gateway.rateLimit.screen(request, now: now))
        }
        let start = Date().timeIntervalSince1970
        var statuses: [Int: Int] = [:]
        for index in 0..<160 {
            let (passed, refusal) = call(route, token: UInt64(index), now: start + Double(index) / 1000)
            if let refusal {
                statuses[refusal.status, default: 0] += 1
                XCTAssertGreaterThanOrEqual(refusal.headers.first { $0.0 == "Retry-After" }.flatMap { Int($0.1) } ?? 0, 1, "\(refusal.headers)")
                XCTAssertTrue(refusal.headers.contains { $0.0 == "RateLimit" } && refusal.headers.contains { $0.0 == "RateLimit-Policy" }, "\(refusal.headers)")
                XCTAssertTrue(refusal.detail.contains("'hello'"), refusal.detail)
            } else {
                statuses[200, default: 0] += 1
                XCTAssertTrue(passed.extraHeaders.contains { $0.0 == "RateLimit" } && passed.extraHeaders.contains { $0.0 == "RateLimit-Policy" })
            }
        }
        XCTAssertEqual(statuses, [200: 50, 429: 110])
        // The bucket is per client and per route: another client, or another route, still passes.
        XCTAssertNil(call(route, caller: PipelineFixture.caller("other-client"), token: 200, now: start + 1).1)
        XCTAssertNil(call(other, token: 201, now: start + 1).1)
        XCTAssertEqual(call(route, token: 202, now: start + 1).1?.status, 429)
    }
}
