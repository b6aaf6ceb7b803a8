import Crypto
import Foundation
import XCTest

@testable import PlexusAuth

/// Claim checks, strict parsing, size limit and the cache.
final class JWTClaimsTests: XCTestCase {
    /// 2026-11-22T00:00:00Z.
    let now: Double = 1_795_305_600
    let secret = String(decoding: TestKeys.secret, as: UTF8.self)

    private func verifier(
        issuer: String? = nil, audiences: [String] = [], requireExp: Bool = true, maxTokenBytes: Int = 8192,
        cacheCapacity: Int = 10_000
    ) throws(AuthError) -> JWTVerifier {
        try JWTVerifier(
            settings: JWTSettings(
                keys: [.hmacSecret(secret)], issuer: issuer, audiences: audiences, requireExp: requireExp,
                maxTokenBytes: maxTokenBytes, cacheCapacity: cacheCapacity))
    }

    private func token(_ claims: [String: Any]) throws -> String {
        try TestSigner.token(alg: "HS256", claims: claims, key: .hs256(TestKeys.secret))
    }

    private func token(header: String = #"{"alg":"HS256","typ":"JWT"}"#, payload: String) throws -> String {
        try TestSigner.token(header: header, payload: payload, key: .hs256(TestKeys.secret))
    }

    // MARK: Time

    func testExpiredTokenIsRefusedWithTheTime() throws {
        let verifier = try verifier()
        let expiry: Double = 1_795_309_200  // 2026-11-22T01:00:00Z
        let token = try token(["sub": "u", "exp": expiry])
        XCTAssertNoThrow(try verifier.verify(token, now: expiry - 1))
        XCTAssertNoThrow(try verifier.verify(token, now: expiry + 29), "within the 30 s leeway")
        let error = assertAuthError(.expired) { () throws(AuthError) in try verifier.verify(token, now: expiry + 30) }
        XCTAssertEqual(error?.description, "token expired at 2026-11-22T01:00:00Z")
        XCTAssertEqual(error?.code, "expired")
        XCTAssertEqual(
            error?.wwwAuthenticate(realm: "plexus"),
            #"Bearer realm="plexus", error="invalid_token", error_description="token expired at 2026-11-22T01:00:00Z""#)
    }

    func testNotBeforeAndIssuedInTheFuture() throws {
        let verifier = try verifier()
        let early = try token(["sub": "u", "exp": now + 7200, "nbf": now + 3600])
        let error = assertAuthError(.notYetValid) { () throws(AuthError) in try verifier.verify(early, now: now) }
        XCTAssertEqual(error?.description, "token is not valid before 2026-11-22T01:00:00Z")
        XCTAssertNoThrow(try verifier.verify(early, now: now + 3600 - 20), "within the leeway")

        let future = try token(["sub": "u", "exp": now + 7200, "iat": now + 600])
        assertAuthError(.notYetValid) { () throws(AuthError) in try verifier.verify(future, now: now) }
        XCTAssertNoThrow(try verifier.verify(try token(["sub": "u", "exp": now + 7200, "iat": now + 10]), now: now))
    }

    func testExpIsRequiredUnlessConfigured() throws {
        let noExp = try token(["sub": "u"])
        let error = assertAuthError(.missingClaim) { () throws(AuthError) in try verifier().verify(noExp, now: now) }
        XCTAssertEqual(error?.description, "token has no \"exp\" claim")
        XCTAssertNil(try verifier(requireExp: false).verify(noExp, now: now).expiresAt)
        let stringExp = try token(["sub": "u", "exp": "tomorrow"])
        assertAuthError(.invalidClaim) { () throws(AuthError) in try verifier().verify(stringExp, now: now) }
    }

    // MARK: Issuer, audience, subject

    func testIssuer() throws {
        let verifier = try verifier(issuer: "https://idp.example")
        XCTAssertNoThrow(try verifier.verify(try token(["sub": "u", "exp": now + 60, "iss": "https://idp.example"]), now: now))
        let wrong = try token(["sub": "u", "exp": now + 60, "iss": "https://evil.example"])
        let error = assertAuthError(.wrongIssuer) { () throws(AuthError) in try verifier.verify(wrong, now: now) }
        XCTAssertEqual(error?.description, "issuer 'https://evil.example' is not accepted (expected 'https://idp.example')")
        let missing = try token(["sub": "u", "exp": now + 60])
        assertAuthError(.missingClaim) { () throws(AuthError) in try verifier.verify(missing, now: now) }
    }

    func testAudienceAsStringOrArray() throws {
        let verifier = try verifier(audiences: ["api", "admin-api"])
        XCTAssertNoThrow(try verifier.verify(try token(["sub": "u", "exp": now + 60, "aud": "api"]), now: now))
        XCTAssertNoThrow(try verifier.verify(try token(["sub": "u", "exp": now + 60, "aud": ["other", "admin-api"]]), now: now))
        let wrong = try token(["sub": "u", "exp": now + 60, "aud": "x"])
        let error = assertAuthError(.wrongAudience) { () throws(AuthError) in try verifier.verify(wrong, now: now) }
        XCTAssertEqual(error?.description, "audience 'x' is not accepted")
        let wrongList = try token(["sub": "u", "exp": now + 60, "aud": ["x", "y"]])
        let listError = assertAuthError(.wrongAudience) { () throws(AuthError) in try verifier.verify(wrongList, now: now) }
        XCTAssertEqual(listError?.description, "audiences 'x', 'y' are not accepted")
        assertAuthError(.missingClaim) { () throws(AuthError) in try verifier.verify(try! token(["sub": "u", "exp": now + 60]), now: now) }
        assertAuthError(.invalidClaim) { () throws(AuthError) in try verifier.verify(try! token(["sub": "u", "exp": now + 60, "aud": 7]), now: now) }
    }

    func testMissingSubject() throws {
        let verifier = try verifier()
        let error = assertAuthError(.missingClaim) { () throws(AuthError) in try verifier.verify(try! token(["exp": now + 60]), now: now) }
        XCTAssertEqual(error?.description, "token has no \"sub\" claim")
        assertAuthError(.missingClaim) { () throws(AuthError) in try verifier.verify(try! token(["sub": "", "exp": now + 60]), now: now) }
        assertAuthError(.invalidClaim) { () throws(AuthError) in try verifier.verify(try! token(["sub": 42, "exp": now + 60]), now: now) }
    }

    // MARK: Malformed tokens

    func testMalformedSegmentsAndBase64() throws {
        let verifier = try verifier()
        let good = try token(["sub": "u", "exp": now + 60])
        let parts = good.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let cases: [String] = [
            "",
            "abc",
            "\(parts[0]).\(parts[1])",
            "\(good).extra",
            ".\(parts[1]).\(parts[2])",
            "\(parts[0])..\(parts[2])",
            "\(parts[0])=.\(parts[1]).\(parts[2])",  // padding
            "\(parts[0]).\(parts[1]).\(parts[2])=",
            "\(parts[0].replacingOccurrences(of: "e", with: "+")).\(parts[1]).\(parts[2])",
            "\(parts[0]).\(parts[1]).\(parts[2].dropLast())!",
            "\(parts[0]) .\(parts[1]).\(parts[2])",
            "\(parts[0]).\(parts[1]).\(parts[2])\u{00e9}",
        ]
        for text in cases {
            let error = assertAuthError(.malformed, { () throws(AuthError) in try verifier.verify(text, now: now) })
            XCTAssertNotNil(error, text)
        }
        let segments = assertAuthError(.malformed) { () throws(AuthError) in try verifier.verify("a.b", now: now) }
        XCTAssertEqual(segments?.description, "malformed token: expected three dot-separated segments, found 2")
    }

    func testMalformedJSONAndHeaders() throws {
        let verifier = try verifier()
        let payload = #"{"sub":"u","exp":\#(Int(now) + 60)}"#
        XCTAssertNoThrow(try verifier.verify(try token(payload: payload), now: now))
        XCTAssertNoThrow(try verifier.verify(try token(header: #"{"alg":"HS256","typ":"jwt"}"#, payload: payload), now: now))
        XCTAssertNoThrow(try verifier.verify(try token(header: #"{"alg":"HS256"}"#, payload: payload), now: now))
        let bad: [(String, String)] = [
            (#"{"alg":"HS256","typ":"JOSE+JSON"}"#, payload),
            (#"{"alg":"HS256","crit":["exp"],"exp":1}"#, payload),
            (#"{"alg":"HS256","alg":"none"}"#, payload),  // duplicate member
            (#"{"typ":"JWT"}"#, payload),
            (#"["HS256"]"#, payload),
            (#"{"alg":"HS256","kid":7}"#, payload),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","sub":"admin","exp":\#(Int(now) + 60)}"#),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","exp":1e999}"#),
            (#"{"alg":"HS256"}"#, #"{"sub":"u","exp":\#(Int(now) + 60)} x"#),
            (#"{"alg":"HS256"}"#, "[1,2]"),
            (#"{"alg":"HS256"}"#, "not json"),
        ]
        for (header, body) in bad {
            let text = try TestSigner.token(header: header, payload: body, key: .hs256(TestKeys.secret))
            let error = assertAuthError(.malformed, { () throws(AuthError) in try verifier.verify(text, now: now) })
            XCTAssertNotNil(error, "\(header) \(body)")
        }
    }

    func testOversizeTokenIsRefusedBeforeParsing() throws {
        let verifier = try verifier(maxTokenBytes: 1024)
        let big = try token(["sub": "u", "exp": now + 60, "pad": String(repeating: "x", count: 2000)])
        let error = assertAuthError(.malformed) { () throws(AuthError) in try verifier.verify(big, now: now) }
        XCTAssertTrue(error?.description.hasSuffix("is more than the limit of 1024") ?? false, "\(String(describing: error))")
        let huge = String(repeating: "a", count: 100_000)
        assertAuthError(.malformed) { () throws(AuthError) in try verifier.verify(huge, now: now) }
    }

    // MARK: Cache

    func testCacheHitStillChecksExpiry() throws {
        let verifier = try verifier()
        let token = try token(["sub": "u", "exp": now + 100])
        XCTAssertEqual(try verifier.verify(token, now: now).subject, "u")
        XCTAssertEqual(verifier.cachedTokenCount, 1)
        XCTAssertEqual(try verifier.verify(token, now: now + 50).subject, "u")
        XCTAssertEqual(verifier.cachedTokenCount, 1)
        assertAuthError(.expired) { () throws(AuthError) in try verifier.verify(token, now: now + 200) }
        // A cached token used before its nbf (a clock behind the first use) is refused too.
        let delayed = try self.token(["sub": "u", "exp": now + 1000, "nbf": now + 100])
        XCTAssertNoThrow(try verifier.verify(delayed, now: now + 100))
        assertAuthError(.notYetValid) { () throws(AuthError) in try verifier.verify(delayed, now: now) }
    }

    func testFailuresAreNotCachedAndTheCacheIsBounded() throws {
        let verifier = try verifier(cacheCapacity: 8)
        let bad = try TestSigner.token(alg: "HS256", claims: ["sub": "u", "exp": now + 60], key: .hs256(Array(repeating: 7, count: 32)))
        for _ in 0..<3 { assertAuthError(.badSignature) { () throws(AuthError) in try verifier.verify(bad, now: now) } }
        XCTAssertEqual(verifier.cachedTokenCount, 0)
        for index in 0..<50 {
            XCTAssertNoThrow(try verifier.verify(try token(["sub": "u\(index)", "exp": now + 60]), now: now))
            XCTAssertLessThanOrEqual(verifier.cachedTokenCount, 8)
        }
        // A substring of a longer buffer hits the same entry.
        let token = try token(["sub": "sub", "exp": now + 60])
        _ = try verifier.verify(token, now: now)
        let header = "Bearer \(token)"
        XCTAssertEqual(try verifier.verify(BearerToken.token(fromAuthorization: header)!, now: now).subject, "sub")
        let disabled = try self.verifier(cacheCapacity: 0)
        _ = try disabled.verify(token, now: now)
        XCTAssertEqual(disabled.cachedTokenCount, 0)
    }

    func testConcurrentVerification() throws {
        let verifier = try verifier(cacheCapacity: 16)
        let now = self.now
        let tokens = try (0..<32).map { try token(["sub": "u\($0)", "exp": now + 60]) }
        DispatchQueue.concurrentPerform(iterations: 400) { index in
            let token = tokens[index % tokens.count]
            XCTAssertEqual(try? verifier.verify(token, now: now).subject, "u\(index % tokens.count)")
        }
    }

    // MARK: Helpers

    func testWWWAuthenticateCannotBeInjected() {
        let error = AuthError(.wrongAudience, "audience 'a\"b\\c\r\nX: y' is not accepted")
        XCTAssertEqual(
            error.wwwAuthenticate(),
            #"Bearer error="invalid_token", error_description="audience 'a?b?c??X: y' is not accepted""#)
        XCTAssertTrue(error.isCredentialError)
        XCTAssertFalse(AuthError(.configuration, "x").isCredentialError)
    }

    func testBearerTokenParsing() {
        XCTAssertEqual(BearerToken.token(fromAuthorization: "Bearer abc.def.ghi"), "abc.def.ghi")
        XCTAssertEqual(BearerToken.token(fromAuthorization: "bearer   abc "), "abc")
        XCTAssertNil(BearerToken.token(fromAuthorization: "Basic dXNlcjpwYXNz"))
        XCTAssertNil(BearerToken.token(fromAuthorization: "Bearer "))
        XCTAssertNil(BearerToken.token(fromAuthorization: "Bearerabc"))
        XCTAssertNil(BearerToken.token(fromAuthorization: ""))
    }
}
