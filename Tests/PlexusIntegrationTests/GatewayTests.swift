import Foundation
import JWTMinting
import PlexusTesting
import XCTest

/// The API gateway against the real binary over real HTTP: a security matrix (forged tokens,
/// tenant isolation, role escalation, revocation, audit), rate-limit accounting under concurrent
/// load, circuit breakers, timeouts, bulkheads, CORS and security headers.
final class GatewayTests: XCTestCase {
    static let secret = "gateway-tests-hs256-secret-0123456789abcdef"
    static let issuer = "https://id.plexus.test"
    static let audience = "plexus-api"

    // MARK: Helpers

    /// `[auth]` with the HS256 secret (and optionally an RS256 public key, an issuer and audience).
    private func authTable(hs256: Bool = true, rs256PEMFile: String? = nil, issuerAndAudience: Bool = false) -> String {
        var lines = ["[auth]"]
        if hs256 { lines.append("jwt_hs256_secret = \"\(Self.secret)\"") }
        if let rs256PEMFile {
            lines.append("jwt_public_key_file = \"\(rs256PEMFile)\"")
            lines.append("jwt_public_key_alg = \"RS256\"")
        }
        if issuerAndAudience {
            lines.append("issuer = \"\(Self.issuer)\"")
            lines.append("audience = \"\(Self.audience)\"")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A directory removed when the test ends.
    private func scratchDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-gateway-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory
    }

    /// One request on a fresh connection with exactly the given `Host` and credential (nil: none).
    private func send(_ plexus: TestRuntime, _ method: String, _ path: String, host: String = "test", bearer: String? = nil,
                      headers: String = "", body: [UInt8] = []) throws -> TestResponse {
        let client = try TestClient(port: plexus.port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        if let bearer { head += "Authorization: Bearer \(bearer)\r\n" }
        head += headers
        if !body.isEmpty || !["GET", "HEAD", "OPTIONS"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        try client.send(head + "Connection: close\r\n\r\n")
        if !body.isEmpty { try client.send(body) }
        return try client.readResponse(headOnly: method == "HEAD")
    }

    private func json(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    private func isProblem(_ response: TestResponse) -> Bool {
        response.header("Content-Type")?.hasPrefix("application/problem+json") ?? false
    }

    /// 401 problem+json with the RFC 6750 challenge; `error` nil: no credentials were sent.
    private func assertUnauthenticated(_ response: TestResponse, error: String?, _ label: String,
                                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 401, "\(label): \(response.text)", file: file, line: line)
        XCTAssertTrue(isProblem(response), "\(label): not problem+json", file: file, line: line)
        let challenge = response.header("WWW-Authenticate") ?? ""
        XCTAssertTrue(challenge.hasPrefix(#"Bearer realm="plexus""#), "\(label): challenge '\(challenge)'", file: file, line: line)
        if let error {
            XCTAssertTrue(challenge.contains(#"error="\#(error)""#), "\(label): challenge '\(challenge)'", file: file, line: line)
            XCTAssertTrue(challenge.contains("error_description="), "\(label): challenge '\(challenge)'", file: file, line: line)
        } else {
            XCTAssertFalse(challenge.contains("error="), "\(label): challenge '\(challenge)'", file: file, line: line)
        }
    }

    private func assertForbidden(_ response: TestResponse, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 403, "\(label): \(response.text)", file: file, line: line)
        XCTAssertTrue(isProblem(response), "\(label): not problem+json", file: file, line: line)
    }

    /// Creates an API key through the admin API; returns the key's id and plaintext.
    private func createKey(_ plexus: TestRuntime, name: String, tenant: String? = nil, roles: [String] = []) throws -> (id: String, key: String) {
        var object: [String: Any] = ["name": name, "roles": roles]
        if let tenant { object["tenant"] = tenant }
        let response = try send(plexus, "POST", "/admin/api-keys", bearer: plexus.adminKey, headers: "Content-Type: application/json\r\n",
                                body: Array(try JSONSerialization.data(withJSONObject: object)))
        XCTAssertEqual(response.status, 201, response.text)
        let created = json(response)
        guard let id = created["id"] as? String, let key = created["key"] as? String else { throw TestFailure("no key in \(response.text)") }
        return (id, key)
    }

    private func auditRecords(_ plexus: TestRuntime, _ query: String) throws -> [[String: Any]] {
        let response = try send(plexus, "GET", "/admin/audit?\(query)", bearer: plexus.adminKey)
        XCTAssertEqual(response.status, 200, response.text)
        return json(response)["records"] as? [[String: Any]] ?? []
    }

    // MARK: Identity: forged and valid tokens

    func testForgedTokensAreRefusedAndValidOnesIdentifyTheCaller() throws {
        let scratch = try scratchDirectory()
        let rsa = try JWTMinter.RSAKey()
        let pemFile = scratch.appendingPathComponent("issuer.pem")
        try rsa.publicKeyPEM.write(to: pemFile, atomically: true, encoding: .utf8)
        let plexus = try Repository.startPlexus(cFixtures: [],
                                                extra: authTable(rs256PEMFile: pemFile.path, issuerAndAudience: true))
        let now = JWTMinter.now
        func claims(_ extra: [String: Any] = [:], roles: [String] = ["editor", "reader"]) -> [String: Any] {
            JWTMinter.claims(subject: "alice", tenant: "acme", roles: roles, extra: ["iss": Self.issuer, "aud": Self.audience].merging(extra) { $1 })
        }

        // Valid tokens: the caller reaches the plugin exactly as verified.
        let validHS = try JWTMinter.hs256(claims(), secret: Self.secret)
        let whoHS = try send(plexus, "GET", "/api/v1/whoami", bearer: validHS)
        XCTAssertEqual(whoHS.status, 200, whoHS.text)
        XCTAssertEqual(json(whoHS)["subject"] as? String, "alice")
        XCTAssertEqual(json(whoHS)["tenant"] as? String, "acme")
        XCTAssertEqual(json(whoHS)["roles"] as? [String], ["editor", "reader"])
        let validRS = try JWTMinter.rs256(JWTMinter.claims(subject: "bob", tenant: "globex", roles: ["viewer"],
                                                           extra: ["iss": Self.issuer, "aud": [Self.audience, "other"]]), key: rsa)
        let whoRS = try send(plexus, "GET", "/api/v1/whoami", bearer: validRS)
        XCTAssertEqual(whoRS.status, 200, whoRS.text)
        XCTAssertEqual(json(whoRS)["subject"] as? String, "bob")
        XCTAssertEqual(json(whoRS)["tenant"] as? String, "globex")
        XCTAssertEqual(json(whoRS)["roles"] as? [String], ["viewer"])

        // Forgeries and invalid tokens, each claiming the admin role (the same list runs in-process
        // in GatewayAuthInProcessTests).
        let forged = try JWTMinter.forgeries(secret: Self.secret, issuer: Self.issuer, audience: Self.audience, rsa: rsa).forged
        for (label, token) in forged {
            // Refused on an authenticated route, on a public one (credentials are still verified),
            // and on an admin endpoint.
            for path in ["/api/v1/whoami", "/api/v1/hello", "/admin/plugins"] {
                assertUnauthenticated(try send(plexus, "GET", path, bearer: token), error: "invalid_token", "\(label) on \(path)")
            }
        }
        assertUnauthenticated(try send(plexus, "GET", "/api/v1/whoami", headers: "X-API-Key: plx_not-a-real-key\r\n"),
                              error: "invalid_token", "unknown key in X-API-Key")
        assertUnauthenticated(try send(plexus, "GET", "/api/v1/whoami", headers: "Authorization: Basic YWRtaW46YWRtaW4=\r\n"),
                              error: "invalid_request", "Basic scheme")

        // No credentials: public routes answer, others challenge without an error code.
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/hello").status, 200)
        assertUnauthenticated(try send(plexus, "GET", "/api/v1/whoami"), error: nil, "anonymous whoami")
        assertUnauthenticated(try send(plexus, "POST", "/api/v1/echo", body: Array("x".utf8)), error: nil, "anonymous echo")
    }

    func testHMACKeyedWithThePublicKeyIsRefusedWhenOnlyRS256IsConfigured() throws {
        let scratch = try scratchDirectory()
        let rsa = try JWTMinter.RSAKey()
        let pemFile = scratch.appendingPathComponent("issuer.pem")
        try rsa.publicKeyPEM.write(to: pemFile, atomically: true, encoding: .utf8)
        let plexus = try Repository.startPlexus(cFixtures: [], extra: authTable(hs256: false, rs256PEMFile: pemFile.path))
        let admin = JWTMinter.claims(subject: "mallory", tenant: "acme", roles: ["admin"])

        let valid = try send(plexus, "GET", "/api/v1/whoami", bearer: try JWTMinter.rs256(JWTMinter.claims(subject: "bob", roles: ["viewer"]), key: rsa))
        XCTAssertEqual(valid.status, 200, valid.text)
        XCTAssertEqual(json(valid)["subject"] as? String, "bob")

        // The classic algorithm confusion: an HS256 token whose secret is the RSA public key (as the
        // PEM text the runtime read, with or without its final newline, and as DER).
        let pem = rsa.publicKeyPEM
        let der = Array(rsa.privateKey.publicKey.derRepresentation)
        let confused: [(String, String)] = [
            ("HS256 keyed with the PEM", try JWTMinter.hs256(admin, secret: pem)),
            ("HS256 keyed with the PEM and a newline", try JWTMinter.hs256(admin, secret: pem + "\n")),
            ("HS256 keyed with the PEM, trimmed", try JWTMinter.hs256(admin, secret: pem.trimmingCharacters(in: .whitespacesAndNewlines))),
            ("HS256 keyed with the DER", try JWTMinter.hs256(admin, key: der)),
            ("HS256 keyed with the PEM, RS256 header", try JWTMinter.hs256(admin, key: Array(pem.utf8), header: ["alg": "RS256", "typ": "JWT"])),
            ("alg none", try JWTMinter.unsigned(admin)),
        ]
        for (label, token) in confused {
            for path in ["/api/v1/whoami", "/api/v1/hello", "/admin/plugins"] {
                assertUnauthenticated(try send(plexus, "GET", path, bearer: token), error: "invalid_token", "\(label) on \(path)")
            }
        }
    }

    func testConfiguredClaimsGiveTenantRolesAndTheAdminRole() throws {
        let plexus = try Repository.startPlexus(cFixtures: [], extra: authTable() + """
            tenant_claim = "org.id"
            roles_claim = "realm_access.roles"
            admin_role = "platform-admin"

            """)
        let platformAdmin = try JWTMinter.hs256(JWTMinter.claims(subject: "olga", extra: ["org": ["id": "acme"],
                                                                                     "realm_access": ["roles": ["platform-admin", "viewer"]]]),
                                           secret: Self.secret)
        let who = try send(plexus, "GET", "/api/v1/whoami", bearer: platformAdmin)
        XCTAssertEqual(who.status, 200, who.text)
        XCTAssertEqual(json(who)["tenant"] as? String, "acme")
        XCTAssertEqual(json(who)["roles"] as? [String], ["platform-admin", "viewer"])
        // An admin of tenant acme is no installation admin: what spans every tenant stays closed to it.
        XCTAssertEqual(try send(plexus, "GET", "/admin/plugins", bearer: platformAdmin).status, 403)
        let installationAdmin = try JWTMinter.hs256(JWTMinter.claims(subject: "ivan", extra: ["realm_access": ["roles": ["platform-admin"]]]),
                                                    secret: Self.secret)
        XCTAssertEqual(try send(plexus, "GET", "/admin/plugins", bearer: installationAdmin).status, 200)
        XCTAssertEqual(try send(plexus, "GET", "/admin/plugins", bearer: plexus.adminKey).status, 200, "the admin key carries the configured role")
        // The default claim names mean nothing now: a top-level "roles": ["admin"] is no admin.
        let pretender = try JWTMinter.hs256(JWTMinter.claims(subject: "eve", tenant: "globex", roles: ["admin", "platform-admin"]), secret: Self.secret)
        let pretenderWho = json(try send(plexus, "GET", "/api/v1/whoami", bearer: pretender))
        XCTAssertEqual(pretenderWho["roles"] as? [String], [])
        XCTAssertTrue(pretenderWho["tenant"] == nil || pretenderWho["tenant"] is NSNull, "\(pretenderWho)")
        assertForbidden(try send(plexus, "GET", "/admin/plugins", bearer: pretender), "top-level roles claim")
    }

    func testPluginConfigPutsTheGreetingBehindTheGateway() throws {
        let plexus = try Repository.startPlexus(cFixtures: [], pluginConfigs: ["hello": "access = \"authenticated\"\n"], extra: authTable())
        assertUnauthenticated(try send(plexus, "GET", "/api/v1/hello"), error: nil, "anonymous greeting")
        let token = try JWTMinter.hs256(JWTMinter.claims(subject: "alice"), secret: Self.secret)
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/hello", bearer: token).text, "hello\n")
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/hello/world").status, 200, "the other greeting stays public")
    }

    // MARK: Tenants

    func testTenantScopedRoutesOnlyServeTheCallersTenant() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusHello.so", "libPlexusDocCompare.so"], cFixtures: [],
                                                extra: authTable())
        let acmeJWT = try JWTMinter.hs256(JWTMinter.claims(subject: "alice", tenant: "acme", roles: ["editor"]), secret: Self.secret)
        let acmeKey = try createKey(plexus, name: "acme-app", tenant: "acme").key
        let globexKey = try createKey(plexus, name: "globex-app", tenant: "globex").key
        let noTenantKey = try createKey(plexus, name: "no-tenant", roles: ["editor"]).key
        let text = "Content-Type: text/plain\r\n"

        // Tenant B's document, stored by tenant B.
        for version in 1...2 {
            let stored = try send(plexus, "POST", "/api/v1/documents/globex/contract/versions", bearer: globexKey, headers: text,
                                  body: Array("GLOBEX-SECRET clause \(version)\n".utf8))
            XCTAssertEqual(stored.status, 201, stored.text)
        }

        struct Attempt { let method: String, suffix: String, body: [UInt8] }
        let attempts = [
            Attempt(method: "POST", suffix: "contract/versions", body: Array("acme text\n".utf8)),
            Attempt(method: "GET", suffix: "contract/versions", body: []),
            Attempt(method: "GET", suffix: "contract/versions/1", body: []),
            Attempt(method: "GET", suffix: "contract/compare?from=1&to=2", body: []),
        ]
        // Tenant A with every kind of credential against tenant B's paths: refused, every time.
        let acmeCredentials: [(String, String)] = [
            ("JWT", "Authorization: Bearer \(acmeJWT)\r\n"),
            ("API key (Bearer)", "Authorization: Bearer \(acmeKey)\r\n"),
            ("API key (X-API-Key)", "X-API-Key: \(acmeKey)\r\n"),
        ]
        var successes = 0
        for (label, credential) in acmeCredentials {
            for attempt in attempts {
                for headers in ["", "X-Tenant: globex\r\n", "X-Tenant-Id: globex\r\n"] {
                    let response = try send(plexus, attempt.method, "/api/v1/documents/globex/\(attempt.suffix)",
                                            headers: credential + text + headers, body: attempt.body)
                    if (200..<300).contains(response.status) { successes += 1 }
                    assertForbidden(response, "\(label) \(attempt.method) globex/\(attempt.suffix) \(headers)")
                    XCTAssertFalse(response.text.contains("GLOBEX-SECRET"), "tenant B's text leaked")
                }
            }
        }
        // Spellings of the other tenant that must not reach its data either.
        for path in ["/api/v1/documents/GLOBEX/contract/versions", "/api/v1/documents/globex/contract/versions/",
                     "/api/v1/documents/acme/../globex/contract/versions", "/api/v1/documents/globex/contract/versions?tenant=acme",
                     "/api/v1/documents/%67lobex/contract/versions", "/api/v1/documents/globex%00/contract/versions"] {
            let response = try send(plexus, "GET", path, bearer: acmeJWT)
            if (200..<300).contains(response.status) { successes += 1 }
            XCTAssertFalse((200..<300).contains(response.status), "\(path): \(response.status) \(response.text)")
            XCTAssertFalse(response.text.contains("GLOBEX-SECRET"), "tenant B's text leaked via \(path)")
        }
        // A caller without a tenant cannot name one, neither in the path nor in a header.
        for attempt in attempts {
            for tenant in ["globex", "acme"] {
                let response = try send(plexus, attempt.method, "/api/v1/documents/\(tenant)/\(attempt.suffix)", bearer: noTenantKey,
                                        headers: text + "X-Tenant: \(tenant)\r\nX-Tenant-Id: \(tenant)\r\n", body: attempt.body)
                if (200..<300).contains(response.status) { successes += 1 }
                assertForbidden(response, "tenantless \(attempt.method) \(tenant)/\(attempt.suffix)")
            }
        }
        XCTAssertEqual(successes, 0, "cross-tenant requests that succeeded")

        // Tenant A on its own paths: every route works, with each credential.
        for (label, credential) in acmeCredentials {
            let stored = try send(plexus, "POST", "/api/v1/documents/acme/contract/versions", headers: credential + text,
                                  body: Array("acme text by \(label)\n".utf8))
            XCTAssertEqual(stored.status, 201, "\(label): \(stored.text)")
        }
        for (label, credential) in acmeCredentials {
            for attempt in attempts.dropFirst() {
                let response = try send(plexus, "GET", "/api/v1/documents/acme/\(attempt.suffix)", headers: credential)
                XCTAssertEqual(response.status, 200, "\(label) GET acme/\(attempt.suffix): \(response.text)")
                XCTAssertFalse(response.text.contains("GLOBEX-SECRET"))
            }
        }
        let history = json(try send(plexus, "GET", "/api/v1/documents/acme/contract/versions", bearer: acmeKey))
        XCTAssertEqual((history["versions"] as? [Any])?.count, 3, "\(history)")

        // Client headers never set the tenant.
        for headers in ["X-Tenant: globex\r\n", "X-Tenant-Id: globex\r\n", "X-Plexus-Tenant: globex\r\n", "Tenant: globex\r\n"] {
            let anonymousTenant = json(try send(plexus, "GET", "/api/v1/whoami", bearer: noTenantKey, headers: headers))
            XCTAssertEqual(anonymousTenant["subject"] as? String, "no-tenant")
            XCTAssertTrue(anonymousTenant["tenant"] == nil || anonymousTenant["tenant"] is NSNull, "\(headers): \(anonymousTenant)")
            let acme = json(try send(plexus, "GET", "/api/v1/whoami", bearer: acmeJWT, headers: headers))
            XCTAssertEqual(acme["tenant"] as? String, "acme", "\(headers): \(acme)")
        }
    }

    func testHostMapGivesTheTenantAndRefusesAMismatchingCaller() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusHello.so", "libPlexusDocCompare.so"], cFixtures: ["flaky"],
                                                extra: authTable() + "[tenants.hosts]\n\"docs.globex.test\" = \"globex\"\n")
        // An anonymous caller on a public route gets the host's tenant, never a header's.
        for host in ["docs.globex.test", "docs.globex.test:8080", "DOCS.Globex.Test"] {
            let response = try send(plexus, "GET", "/api/v1/flaky/tenant", host: host)
            XCTAssertEqual(response.status, 200, "\(host): \(response.text)")
            XCTAssertEqual(response.text, "tenant=globex\n", host)
        }
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/flaky/tenant").text, "tenant=\n")
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/flaky/tenant", headers: "X-Tenant: globex\r\nX-Tenant-Id: globex\r\n").text, "tenant=\n")
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/flaky/tenant", host: "other.test", headers: "X-Forwarded-Host: docs.globex.test\r\n").text,
                       "tenant=\n", "X-Forwarded-Host must not select a tenant")

        // A caller of another tenant on the mapped host: refused, on public and authenticated routes.
        let acmeJWT = try JWTMinter.hs256(JWTMinter.claims(subject: "alice", tenant: "acme"), secret: Self.secret)
        let acmeKey = try createKey(plexus, name: "acme-app", tenant: "acme").key
        for credential in [acmeJWT, acmeKey] {
            for path in ["/api/v1/flaky/tenant", "/api/v1/hello", "/api/v1/whoami", "/api/v1/documents/acme/contract/versions"] {
                assertForbidden(try send(plexus, "GET", path, host: "docs.globex.test", bearer: credential), "acme on the globex host: \(path)")
            }
        }
        // The host's own tenant is let through; a tenantless caller does not take the host's tenant.
        let globexJWT = try JWTMinter.hs256(JWTMinter.claims(subject: "gina", tenant: "globex"), secret: Self.secret)
        let globex = try send(plexus, "GET", "/api/v1/whoami", host: "docs.globex.test", bearer: globexJWT)
        XCTAssertEqual(globex.status, 200, globex.text)
        XCTAssertEqual(json(globex)["tenant"] as? String, "globex")
        let noTenantKey = try createKey(plexus, name: "no-tenant").key
        let noTenantJWT = try JWTMinter.hs256(JWTMinter.claims(subject: "nemo"), secret: Self.secret)
        for credential in [noTenantKey, noTenantJWT] {
            let mapped = try send(plexus, "GET", "/api/v1/whoami", host: "docs.globex.test", bearer: credential)
            XCTAssertEqual(mapped.status, 200, mapped.text)
            XCTAssertNil(json(mapped)["tenant"] as? String, "a tenantless caller must not take the host's tenant: \(mapped.text)")
            XCTAssertEqual(try send(plexus, "GET", "/api/v1/flaky/tenant", host: "docs.globex.test", bearer: credential).text, "tenant=\n")
        }
        // The host's tenant does not unlock tenant-scoped data: those routes need the caller's own tenant.
        assertForbidden(try send(plexus, "GET", "/api/v1/documents/globex/contract/versions", host: "docs.globex.test", bearer: noTenantKey),
                        "tenantless key on the globex host")
        assertUnauthenticated(try send(plexus, "GET", "/api/v1/documents/globex/contract/versions", host: "docs.globex.test"),
                              error: nil, "anonymous on the globex host")
    }

    /// Every plugin route that keys data by the request's tenant, not only the tenant-scoped
    /// document routes: a tenantless caller on a mapped host must not reach the host's tenant's
    /// timetable jobs (list, read, cancel).
    func testHostMapLendsNoTenantToATenantlessCallerOnAnyRoute() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusHello.so", "libPlexusTimetable.so"], cFixtures: [],
                                                extra: authTable() + "[tenants.hosts]\n\"jobs.acme.test\" = \"acme\"\n")
        let acmeKey = try createKey(plexus, name: "acme-planner", tenant: "acme").key
        let instance = "Name: T\nCourses: 1\nRooms: 1\nDays: 1\nPeriods_per_day: 2\nCurricula: 1\nConstraints: 0\n\n"
            + "COURSES:\nA t 1 1 10\n\nROOMS:\nr 10\n\nCURRICULA:\nq 1 A\n\nUNAVAILABILITY_CONSTRAINTS:\nEND.\n"
        let body = Array(try JSONSerialization.data(withJSONObject: ["format": "itc2007", "instance": instance, "time_limit_seconds": 30]))
        let submitted = try send(plexus, "POST", "/api/v1/timetable/jobs", host: "jobs.acme.test", bearer: acmeKey,
                                 headers: "Content-Type: application/json\r\n", body: body)
        XCTAssertEqual(submitted.status, 202, submitted.text)
        let id = try XCTUnwrap(json(submitted)["id"] as? String, submitted.text)
        let acmeList = try send(plexus, "GET", "/api/v1/timetable/jobs", host: "jobs.acme.test", bearer: acmeKey)
        XCTAssertTrue(acmeList.text.contains(id), acmeList.text)

        let noTenantKey = try createKey(plexus, name: "tenantless").key
        let noTenantJWT = try JWTMinter.hs256(JWTMinter.claims(subject: "mallory"), secret: Self.secret)
        for (label, credential) in [("tenantless key", noTenantKey), ("tenantless JWT", noTenantJWT)] {
            let list = try send(plexus, "GET", "/api/v1/timetable/jobs", host: "jobs.acme.test", bearer: credential)
            XCTAssertEqual(list.status, 200, "\(label): \(list.text)")
            XCTAssertFalse(list.text.contains(id), "\(label) listed acme's job through the Host: \(list.text)")
            XCTAssertEqual(try send(plexus, "GET", "/api/v1/timetable/jobs/\(id)", host: "jobs.acme.test", bearer: credential).status, 404, label)
            XCTAssertEqual(try send(plexus, "POST", "/api/v1/timetable/jobs/\(id)/cancel", host: "jobs.acme.test", bearer: credential).status, 404, label)
            XCTAssertEqual(try send(plexus, "DELETE", "/api/v1/timetable/jobs/\(id)", host: "jobs.acme.test", bearer: credential).status, 404, label)
        }
        // Anonymous callers get 401 on the job routes, with or without the mapped host.
        assertUnauthenticated(try send(plexus, "GET", "/api/v1/timetable/jobs", host: "jobs.acme.test"), error: nil, "anonymous on the acme host")
        // acme's job was not cancelled by any of the attempts.
        let status = json(try send(plexus, "GET", "/api/v1/timetable/jobs/\(id)", host: "jobs.acme.test", bearer: acmeKey))
        XCTAssertNotEqual(status["status"] as? String, "cancelled", "\(status)")
    }

    // MARK: Roles, admin API, revocation, audit

    func testAdminEndpointsNeedTheAdminRoleAndAreAudited() throws {
        let plexus = try Repository.startPlexus(cFixtures: [], extra: authTable())
        let adminEndpoints: [(String, String, [UInt8])] = [
            ("GET", "/admin/plugins", []),
            ("GET", "/admin/audit", []),
            ("GET", "/admin/audit?action=auth.&limit=10", []),
            ("GET", "/admin/api-keys", []),
            ("POST", "/admin/api-keys", Array(#"{"name": "escalated", "roles": ["admin"]}"#.utf8)),
            ("DELETE", "/admin/api-keys/plexus-admin", []),
            ("POST", "/admin/reload", []),
            ("GET", "/api/v1/events/deadletters?group=g", []),
            ("POST", "/api/v1/events/deadletters/redrive", Array(#"{"group": "g"}"#.utf8)),
        ]
        let jsonType = "Content-Type: application/json\r\n"

        // Without credentials: 401 with the challenge.
        for (method, path, body) in adminEndpoints {
            assertUnauthenticated(try send(plexus, method, path, headers: jsonType, body: body), error: nil, "anonymous \(method) \(path)")
        }
        // Authenticated callers without the admin role: 403, whatever else they claim.
        let reader = try createKey(plexus, name: "reader", tenant: "acme", roles: ["reader", "editor"])
        let notAdmin: [(String, String)] = [
            ("key with other roles", reader.key),
            ("JWT with other roles", try JWTMinter.hs256(JWTMinter.claims(subject: "eve", tenant: "acme", roles: ["reader", "editor"]), secret: Self.secret)),
            ("JWT with role Admin", try JWTMinter.hs256(JWTMinter.claims(subject: "eve", roles: ["Admin"]), secret: Self.secret)),
            ("JWT with role 'admin '", try JWTMinter.hs256(JWTMinter.claims(subject: "eve", roles: ["admin "]), secret: Self.secret)),
            ("JWT with admin in other claims", try JWTMinter.hs256(JWTMinter.claims(subject: "eve", roles: ["reader"],
                                                                                    extra: ["role": "admin", "scope": "admin", "groups": ["admin"], "admin": true]),
                                                                  secret: Self.secret)),
            ("JWT whose subject is the admin key's name", try JWTMinter.hs256(JWTMinter.claims(subject: "plexus-admin"), secret: Self.secret)),
        ]
        for (label, credential) in notAdmin {
            for (method, path, body) in adminEndpoints {
                assertForbidden(try send(plexus, method, path, bearer: credential, headers: jsonType, body: body), "\(label): \(method) \(path)")
            }
        }
        // Nothing was created or revoked by the attempts; the admin key still works.
        let keys = try send(plexus, "GET", "/admin/api-keys", bearer: plexus.adminKey)
        XCTAssertEqual(keys.status, 200, keys.text)
        let listed = (try JSONSerialization.jsonObject(with: Data(keys.body)) as? [[String: Any]]) ?? []
        XCTAssertFalse(listed.contains { $0["name"] as? String == "escalated" }, keys.text)
        XCTAssertNil(listed.first { $0["name"] as? String == "plexus-admin" }?["revoked_at"], keys.text)
        XCTAssertEqual(try send(plexus, "GET", "/admin/plugins", bearer: plexus.adminKey).status, 200)
        XCTAssertEqual(try send(plexus, "GET", "/admin/audit", bearer: plexus.adminKey).status, 200)
        // A JWT that really carries the admin role is an admin.
        let adminJWT = try JWTMinter.hs256(JWTMinter.claims(subject: "root", roles: ["admin"]), secret: Self.secret)
        XCTAssertEqual(try send(plexus, "GET", "/admin/plugins", bearer: adminJWT).status, 200)

        // Revocation takes effect at once.
        let temporary = try createKey(plexus, name: "temporary", tenant: "acme")
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/whoami", bearer: temporary.key).status, 200)
        XCTAssertEqual(try send(plexus, "DELETE", "/admin/api-keys/\(temporary.id)", bearer: plexus.adminKey).status, 204)
        let revoked = try send(plexus, "GET", "/api/v1/whoami", bearer: temporary.key)
        assertUnauthenticated(revoked, error: "invalid_token", "revoked key")
        assertUnauthenticated(try send(plexus, "GET", "/api/v1/hello", headers: "X-API-Key: \(temporary.key)\r\n"),
                              error: "invalid_token", "revoked key in X-API-Key on a public route")
        XCTAssertEqual(try send(plexus, "DELETE", "/admin/api-keys/\(temporary.id)", bearer: plexus.adminKey).status, 409)

        // The audit log holds the failures and denials with their request ids, and the admin actions.
        let denied = try send(plexus, "GET", "/admin/plugins", bearer: reader.key)
        let revokedID = try XCTUnwrap(revoked.header("X-Request-Id"))
        let deniedID = try XCTUnwrap(denied.header("X-Request-Id"))
        let auth = try auditRecords(plexus, "action=auth.&limit=1000")
        let failure = auth.first { $0["request_id"] as? String == revokedID }
        XCTAssertEqual(failure?["action"] as? String, "auth.failure", "\(failure ?? [:])")
        XCTAssertEqual(failure?["outcome"] as? String, "failure")
        XCTAssertEqual(failure?["target"] as? String, "GET /api/v1/whoami")
        let denial = auth.first { $0["request_id"] as? String == deniedID }
        XCTAssertEqual(denial?["action"] as? String, "auth.denied", "\(denial ?? [:])")
        XCTAssertEqual(denial?["outcome"] as? String, "denied")
        XCTAssertEqual(denial?["actor_kind"] as? String, "api_key")
        XCTAssertEqual(denial?["tenant"] as? String, "acme")
        XCTAssertGreaterThanOrEqual(auth.filter { $0["action"] as? String == "auth.failure" }.count, adminEndpoints.count + 2)
        for record in auth where ["auth.failure", "auth.denied"].contains(record["action"] as? String) {
            XCTAssertFalse((record["request_id"] as? String ?? "").isEmpty, "audit record without request id: \(record)")
        }
        let created = auth.first { $0["action"] as? String == "auth.apikey.create" && $0["target"] as? String == temporary.id }
        XCTAssertEqual(created?["outcome"] as? String, "success", "\(auth.filter { ($0["action"] as? String ?? "").hasPrefix("auth.apikey") })")
        XCTAssertEqual(created?["actor_kind"] as? String, "api_key")
        let revocations = auth.filter { $0["action"] as? String == "auth.apikey.revoke" && $0["target"] as? String == temporary.id }
        XCTAssertEqual(Set(revocations.compactMap { $0["outcome"] as? String }), ["success", "failure"], "\(revocations)")
        // Exact action filter and paging.
        let onlyCreates = try auditRecords(plexus, "action=auth.apikey.create&limit=2")
        XCTAssertEqual(onlyCreates.count, 2)
        XCTAssertTrue(onlyCreates.allSatisfy { $0["action"] as? String == "auth.apikey.create" })
    }

    /// A tenant's admin key cannot reach beyond its tenant and roles through the key API: it
    /// cannot mint a global or foreign key, sees only its tenant's keys, and revokes only those.
    /// A keep-alive connection that keeps presenting an API key is not trusted on the key's bytes
    /// alone (the key is not hashed again, but checked against the current keys on every request):
    /// a revocation counts at once on that connection too, and another key sent on it is that
    /// other key's caller.
    func testARevokedKeyIsRefusedAtOnceOnTheConnectionThatKeepsSendingIt() throws {
        let plexus = try Repository.startPlexus(cFixtures: [], extra: authTable())
        let first = try createKey(plexus, name: "first", tenant: "acme", roles: ["reader"])
        let second = try createKey(plexus, name: "second", tenant: "globex")
        let client = try TestClient(port: plexus.port)
        func whoami(_ key: String) throws -> TestResponse {
            try client.send("GET /api/v1/whoami HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer \(key)\r\n\r\n")
            return try client.readResponse()
        }
        for round in 0..<3 {
            let answer = try whoami(first.key)
            XCTAssertEqual(answer.status, 200, "round \(round): \(answer.text)")
            XCTAssertEqual(json(answer)["subject"] as? String, "first", answer.text)
            XCTAssertEqual(json(answer)["tenant"] as? String, "acme", answer.text)
            XCTAssertEqual(json(answer)["roles"] as? [String], ["reader"], answer.text)
        }
        let other = try whoami(second.key)
        XCTAssertEqual(other.status, 200, other.text)
        XCTAssertEqual(json(other)["subject"] as? String, "second", other.text)
        XCTAssertEqual(json(other)["tenant"] as? String, "globex", other.text)
        XCTAssertEqual(json(try whoami(first.key))["subject"] as? String, "first")
        XCTAssertEqual(json(try whoami(first.key))["subject"] as? String, "first")

        XCTAssertEqual(try send(plexus, "DELETE", "/admin/api-keys/\(first.id)", bearer: plexus.adminKey).status, 204)
        assertUnauthenticated(try whoami(first.key), error: "invalid_token", "the revoked key again on the connection that used it")
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/whoami", bearer: second.key).status, 200, "the other key still works")
    }

    func testATenantAdminManagesOnlyItsTenantsKeys() throws {
        let plexus = try Repository.startPlexus(cFixtures: [], extra: authTable())
        let acmeAdmin = try createKey(plexus, name: "acme-admin", tenant: "acme", roles: ["admin", "editor"])
        let betaKey = try createKey(plexus, name: "beta-reader", tenant: "beta", roles: ["reader"])
        let jsonType = "Content-Type: application/json\r\n"
        func create(_ object: [String: Any]) throws -> TestResponse {
            try send(plexus, "POST", "/admin/api-keys", bearer: acmeAdmin.key, headers: jsonType,
                     body: Array(try JSONSerialization.data(withJSONObject: object)))
        }
        // No tenant named: the new key is acme's, not a global one, and it cannot read beta's events.
        let minted = try create(["name": "minted", "roles": ["admin"]])
        XCTAssertEqual(minted.status, 201, minted.text)
        XCTAssertEqual(json(minted)["tenant"] as? String, "acme", minted.text)
        let mintedKey = try XCTUnwrap(json(minted)["key"] as? String)
        let published = try send(plexus, "POST", "/api/v1/events", bearer: betaKey.key, headers: jsonType,
                                 body: Array(#"{"topic": "beta.secret", "payload_text": "beta only", "durable": true}"#.utf8))
        XCTAssertEqual(published.status, 202, published.text)
        let betaSeen = try send(plexus, "GET", "/api/v1/events?topic=beta.%23", bearer: plexus.adminKey)
        XCTAssertTrue(betaSeen.text.contains("beta.secret"), betaSeen.text)
        let mintedSees = try send(plexus, "GET", "/api/v1/events?topic=beta.%23", bearer: mintedKey)
        XCTAssertEqual(mintedSees.status, 200, mintedSees.text)
        XCTAssertFalse(mintedSees.text.contains("beta.secret"), "a key minted by acme's admin reads beta's events: \(mintedSees.text)")
        // Another tenant, or roles and scopes it lacks: 403, nothing created.
        assertForbidden(try create(["name": "foreign", "tenant": "beta", "roles": ["admin"]]), "key of another tenant")
        assertForbidden(try create(["name": "escalated", "roles": ["admin", "superuser"]]), "role the admin lacks")
        assertForbidden(try create(["name": "scoped", "scopes": ["everything"]]), "scope the admin lacks")
        // The list shows acme's keys only.
        let listed = (try JSONSerialization.jsonObject(with: Data(try send(plexus, "GET", "/admin/api-keys", bearer: acmeAdmin.key).body)) as? [[String: Any]]) ?? []
        XCTAssertEqual(Set(listed.compactMap { $0["name"] as? String }), ["acme-admin", "minted"], "\(listed)")
        // Revoking beta's key or the installation's admin key: 404, and both keep working.
        XCTAssertEqual(try send(plexus, "DELETE", "/admin/api-keys/\(betaKey.id)", bearer: acmeAdmin.key).status, 404)
        XCTAssertEqual(try send(plexus, "DELETE", "/admin/api-keys/plexus-admin", bearer: acmeAdmin.key).status, 404)
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/whoami", bearer: betaKey.key).status, 200)
        XCTAssertEqual(try send(plexus, "GET", "/admin/api-keys", bearer: plexus.adminKey).status, 200)
        // Its own tenant's key: revoked.
        XCTAssertEqual(try send(plexus, "DELETE", "/admin/api-keys/minted", bearer: acmeAdmin.key).status, 204)
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/whoami", bearer: mintedKey).status, 401)
        // Its audit view holds its tenant's records only (its refused attempts among them).
        let audit = try send(plexus, "GET", "/admin/audit?limit=1000", bearer: acmeAdmin.key)
        XCTAssertEqual(audit.status, 200, audit.text)
        let records = json(audit)["records"] as? [[String: Any]] ?? []
        XCTAssertTrue(records.contains { $0["action"] as? String == "auth.apikey.create" && $0["outcome"] as? String == "denied" }, "\(records)")
        XCTAssertTrue(records.allSatisfy { $0["tenant"] as? String == "acme" }, "\(records)")
        // What spans every tenant (plugins, reload, dead letters, metrics) is the installation's admin's alone.
        for (method, path) in [("GET", "/admin/plugins"), ("POST", "/admin/reload"), ("GET", "/api/v1/events/deadletters"),
                               ("POST", "/api/v1/events/deadletters/redrive"), ("GET", "/metrics"), ("GET", "/health/plugins")] {
            let refused = try send(plexus, method, path, bearer: acmeAdmin.key)
            XCTAssertEqual(refused.status, 403, "\(method) \(path) by a tenant's admin: \(refused.text)")
        }
        XCTAssertEqual(try send(plexus, "GET", "/admin/plugins", bearer: plexus.adminKey).status, 200)
        // The installation's admin still sees every key.
        let all = (try JSONSerialization.jsonObject(with: Data(try send(plexus, "GET", "/admin/api-keys", bearer: plexus.adminKey).body)) as? [[String: Any]]) ?? []
        XCTAssertTrue(Set(all.compactMap { $0["name"] as? String }).isSuperset(of: ["plexus-admin", "acme-admin", "beta-reader", "minted"]), "\(all)")
    }

    // MARK: Rate limits

    func testRateLimitAccountingUnderConcurrentLoad() throws {
        // A bucket of 50 that refills one token an hour: during the run (seconds) refill is below
        // 0.01 token, so exactly 50 requests pass whatever the interleaving.
        let plexus = try Repository.startPlexus(cFixtures: [], extra: authTable() + """
            [rate_limits.hello]
            requests = 1
            window_s = 3600
            burst = 50
            applies_to = "route:GET /api/v1/hello"
            key = "client"

            """)
        let threads = 8, perThread = 20
        let lock = NSLock()
        var statuses: [Int: Int] = [:]
        var problems: [String] = []
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            do {
                var client = try TestClient(port: plexus.port)
                for _ in 0..<perThread {
                    try client.send("GET /api/v1/hello HTTP/1.1\r\nHost: t\r\n\r\n")
                    let response = try client.readResponse()
                    var problem: String?
                    if response.status == 200 {
                        if response.header("RateLimit") == nil || response.header("RateLimit-Policy") == nil { problem = "200 without RateLimit headers" }
                    } else if response.status == 429 {
                        if (response.header("Retry-After").flatMap(Int.init) ?? 0) < 1 { problem = "429 without a Retry-After: \(response.headers)" }
                        if response.header("RateLimit") == nil || response.header("RateLimit-Policy") == nil { problem = "429 without RateLimit headers" }
                        if !(response.header("Content-Type")?.hasPrefix("application/problem+json") ?? false) { problem = "429 not problem+json" }
                    }
                    lock.withLock {
                        statuses[response.status, default: 0] += 1
                        if let problem { problems.append(problem) }
                    }
                    if response.header("Connection")?.lowercased() == "close" { client = try TestClient(port: plexus.port) }
                }
            } catch {
                lock.withLock { problems.append("\(error)") }
            }
        }
        XCTAssertEqual(problems, [])
        XCTAssertEqual(statuses[200], 50, "\(statuses)")
        XCTAssertEqual(statuses[429], threads * perThread - 50, "\(statuses)")
        XCTAssertEqual(statuses.values.reduce(0, +), threads * perThread)

        // The bucket is per client and per route: another client, or another route, still passes.
        let key = try createKey(plexus, name: "other-client").key
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/hello", bearer: key).status, 200)
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/hello/world").status, 200)
        let refused = try send(plexus, "GET", "/api/v1/hello")
        XCTAssertEqual(refused.status, 429)
        XCTAssertNotNil(refused.header("Retry-After"))
    }

    // MARK: Resilience

    /// Opens `GET /api/v1/events/stream?topic=…` as the admin and returns the reader.
    private func circuitEvents(_ plexus: TestRuntime) throws -> SSEReader {
        let client = try TestClient(port: plexus.port, timeoutSeconds: 5)
        try client.send("GET /api/v1/events/stream?topic=system.circuit.%23 HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(plexus.adminKey)\r\n\r\n")
        let head = try client.readHead()
        XCTAssertEqual(head.status, 200)
        return SSEReader(client: client)
    }

    private func circuitGauge(_ plexus: TestRuntime, route: String) throws -> [String: Double] {
        let text = try send(plexus, "GET", "/metrics", bearer: plexus.adminKey).text
        var states: [String: Double] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("plexus_circuit_state{") && line.contains(#"plugin="flaky""#)
            && line.contains(#"route="\#(route)""#) {
            guard let range = line.range(of: #"state="([a-z_]+)""#, options: .regularExpression) else { continue }
            let state = line[range].dropFirst(7).dropLast()
            states[String(state)] = Double(line.split(separator: " ").last ?? "")
        }
        return states
    }

    func testCircuitBreakerOpensProbesAndCloses() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: [], cFixtures: ["flaky"], extra: """
            [resilience.plugins.flaky]
            breaker_min_requests = 4
            breaker_failure_ratio = 0.5
            breaker_window_s = 30
            breaker_open_s = 1
            breaker_probes = 1

            """)
        let route = "GET /api/v1/flaky/status/:code"
        let events = try circuitEvents(plexus)

        // Failures reach the plugin until the window holds enough of them, then the circuit opens.
        for _ in 0..<4 {
            let failed = try send(plexus, "GET", "/api/v1/flaky/status/500")
            XCTAssertEqual(failed.status, 500)
            XCTAssertEqual(failed.text, "status 500\n", "answered by the plugin")
        }
        let refused = try send(plexus, "GET", "/api/v1/flaky/status/200")
        XCTAssertEqual(refused.status, 503, refused.text)
        XCTAssertTrue(isProblem(refused), "answered by the gateway, not the plugin: \(refused.text)")
        XCTAssertGreaterThanOrEqual(refused.header("Retry-After").flatMap(Int.init) ?? 0, 1)
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/flaky/ok").status, 200, "other routes keep their own circuit")
        let opened = try events.next()
        XCTAssertEqual(opened.event, "system.circuit.open")
        let openPayload = opened.json["payload"] as? [String: Any]
        XCTAssertEqual(openPayload?["plugin"] as? String, "flaky")
        XCTAssertEqual(openPayload?["route"] as? String, route)
        XCTAssertEqual(openPayload?["from"] as? String, "closed")
        XCTAssertEqual(try circuitGauge(plexus, route: route), ["closed": 0, "open": 1, "half_open": 0])

        // After breaker_open_s, one probe is let through; a failing probe reopens the circuit.
        usleep(1_200_000)
        let failedProbe = try send(plexus, "GET", "/api/v1/flaky/status/502")
        XCTAssertEqual(failedProbe.status, 502)
        XCTAssertEqual(failedProbe.text, "status 502\n", "the probe reached the plugin")
        XCTAssertEqual(try events.next().event, "system.circuit.half_open")
        XCTAssertEqual(try events.next().event, "system.circuit.open")
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/flaky/status/200").status, 503)

        // A successful probe closes it.
        usleep(1_200_000)
        let probe = try send(plexus, "GET", "/api/v1/flaky/status/200")
        XCTAssertEqual(probe.status, 200, probe.text)
        XCTAssertEqual(probe.text, "status 200\n")
        XCTAssertEqual(try events.next().event, "system.circuit.half_open")
        let closed = try events.next()
        XCTAssertEqual(closed.event, "system.circuit.closed")
        XCTAssertEqual((closed.json["payload"] as? [String: Any])?["from"] as? String, "half_open")
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/flaky/status/200").status, 200)
        XCTAssertEqual(try circuitGauge(plexus, route: route), ["closed": 1, "open": 0, "half_open": 0])

        // Circuit changes are audited.
        let audited = try auditRecords(plexus, "action=circuit.&limit=100").compactMap { $0["action"] as? String }
        XCTAssertEqual(audited.filter { $0 == "circuit.open" }.count, 2, "\(audited)")
        XCTAssertEqual(audited.filter { $0 == "circuit.close" }.count, 1, "\(audited)")
    }

    func testSlowPluginAnswersTimeOutWith504() throws {
        let plexus = try Repository.startPlexus(cFixtures: [], extra: "[resilience]\ntimeout_ms = 300\n")
        let slow = try send(plexus, "GET", "/api/v1/hello/delay/3000")
        XCTAssertEqual(slow.status, 504, slow.text)
        XCTAssertTrue(isProblem(slow), slow.text)
        let quick = try send(plexus, "GET", "/api/v1/hello/delay/0")
        XCTAssertEqual(quick.status, 200, quick.text)
        // The late answer of the timed-out request is dropped; the runtime keeps serving.
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/hello/x").status, 200)
    }

    func testBulkheadRefusesRequestsBeyondMaxConcurrent() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusHello.so"], cFixtures: ["flaky"], extra: """
            [resilience.plugins.flaky]
            max_concurrent = 2
            timeout_ms = 3000

            """)
        // Four stalls at once: two take the plugin's slots (and time out), two are refused at once.
        let stalls = try (0..<4).map { _ -> TestClient in
            let client = try TestClient(port: plexus.port)
            try client.send("GET /api/v1/flaky/stall HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            return client
        }
        usleep(300_000)
        let whileFull = try send(plexus, "GET", "/api/v1/flaky/ok")
        XCTAssertEqual(whileFull.status, 503, "the bulkhead is per plugin: \(whileFull.text)")
        XCTAssertNotNil(whileFull.header("Retry-After"))
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/hello/x").status, 200, "other plugins are not affected")
        var statuses: [Int: Int] = [:]
        for client in stalls {
            let response = try client.readResponse()
            statuses[response.status, default: 0] += 1
            if response.status == 503 { XCTAssertNotNil(response.header("Retry-After")) }
        }
        XCTAssertEqual(statuses, [503: 2, 504: 2])
        XCTAssertEqual(try send(plexus, "GET", "/api/v1/flaky/ok").status, 200, "the timed-out requests gave their slots back")
    }

    // MARK: CORS, security headers, OpenAPI

    func testCORSPreflightAndSecurityHeaders() throws {
        let plexus = try Repository.startPlexus(cFixtures: [], extra: authTable() + "[cors]\nallowed_origins = \"https://app.example\"\n")
        // A preflight needs no credentials, even for an authenticated route.
        let preflight = try send(plexus, "OPTIONS", "/api/v1/whoami", headers: """
            Origin: https://app.example\r
            Access-Control-Request-Method: GET\r
            Access-Control-Request-Headers: authorization\r

            """)
        XCTAssertEqual(preflight.status, 204, preflight.text)
        XCTAssertEqual(preflight.header("Access-Control-Allow-Origin"), "https://app.example")
        XCTAssertTrue(preflight.header("Access-Control-Allow-Methods")?.contains("GET") ?? false, "\(preflight.headers)")
        XCTAssertTrue(preflight.header("Access-Control-Allow-Headers")?.lowercased().contains("authorization") ?? false, "\(preflight.headers)")
        XCTAssertNotNil(preflight.header("Access-Control-Max-Age"))
        XCTAssertTrue(preflight.header("Vary")?.contains("Origin") ?? false)
        let postPreflight = try send(plexus, "OPTIONS", "/api/v1/echo", headers: "Origin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n")
        XCTAssertEqual(postPreflight.status, 204)
        XCTAssertTrue(postPreflight.header("Access-Control-Allow-Methods")?.contains("POST") ?? false, "\(postPreflight.headers)")

        let foreign = try send(plexus, "OPTIONS", "/api/v1/whoami", headers: "Origin: https://evil.example\r\nAccess-Control-Request-Method: GET\r\n")
        XCTAssertNotEqual(foreign.status, 204)
        XCTAssertNil(foreign.header("Access-Control-Allow-Origin"))

        // Simple requests: the allowed origin may read the answer (errors included), others not.
        let allowed = try send(plexus, "GET", "/api/v1/hello", headers: "Origin: https://app.example\r\n")
        XCTAssertEqual(allowed.status, 200)
        XCTAssertEqual(allowed.header("Access-Control-Allow-Origin"), "https://app.example")
        let allowedError = try send(plexus, "GET", "/api/v1/whoami", headers: "Origin: https://app.example\r\n")
        XCTAssertEqual(allowedError.status, 401)
        XCTAssertEqual(allowedError.header("Access-Control-Allow-Origin"), "https://app.example")
        XCTAssertTrue(allowedError.header("Access-Control-Expose-Headers")?.contains("WWW-Authenticate") ?? false)
        let other = try send(plexus, "GET", "/api/v1/hello", headers: "Origin: https://evil.example\r\n")
        XCTAssertEqual(other.status, 200)
        XCTAssertNil(other.header("Access-Control-Allow-Origin"))

        // Security headers on every kind of answer.
        let answers: [(String, TestResponse)] = [
            ("plugin 200", allowed), ("preflight 204", preflight), ("401", allowedError),
            ("404", try send(plexus, "GET", "/nowhere")),
            ("405", try send(plexus, "DELETE", "/api/v1/hello")),
            ("403", try send(plexus, "GET", "/admin/plugins", bearer: try JWTMinter.hs256(JWTMinter.claims(subject: "eve"), secret: Self.secret))),
            ("metrics", try send(plexus, "GET", "/metrics")),
            ("openapi", try send(plexus, "GET", "/openapi.json")),
            ("admin 200", try send(plexus, "GET", "/admin/plugins", bearer: plexus.adminKey)),
            ("400", try send(plexus, "GET", "/api/v1/hello/delay/abc")),
        ]
        for (label, response) in answers {
            XCTAssertEqual(response.header("X-Content-Type-Options"), "nosniff", label)
            XCTAssertEqual(response.header("X-Frame-Options"), "DENY", label)
            XCTAssertNotNil(response.header("Content-Security-Policy"), label)
            XCTAssertNotNil(response.header("Referrer-Policy"), label)
        }
    }

    func testOpenAPIDocumentIsPublicAndDescribesTheRoutes() throws {
        let plexus = try Repository.startPlexus(swiftPlugins: ["libPlexusHello.so", "libPlexusDocCompare.so"], cFixtures: [])
        let response = try send(plexus, "GET", "/openapi.json")
        XCTAssertEqual(response.status, 200)
        let document = json(response)
        XCTAssertTrue((document["openapi"] as? String)?.hasPrefix("3.1") ?? false, "\(document["openapi"] ?? "none")")
        let paths = document["paths"] as? [String: Any] ?? [:]
        for path in ["/api/v1/hello", "/api/v1/whoami", "/api/v1/documents/{tenant}/{document}/versions"] {
            XCTAssertNotNil(paths[path], "\(path) missing from \(paths.keys.sorted())")
        }
    }
}
