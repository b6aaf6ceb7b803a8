import Crypto
import Foundation
import XCTest
import _CryptoExtras

@testable import PlexusAuth

/// Signature verification, algorithm selection and key loading.
final class JWTVerifierTests: XCTestCase {
    /// 2026-11-22T00:00:00Z; tokens expire an hour later.
    let now: Double = 1_795_305_600
    var expiry: Double { now + 3600 }
    var directory: URL!

    override func setUpWithError() throws {
        directory = try makeTemporaryDirectory()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ text: String, to name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func claims(_ extra: [String: Any] = [:]) -> [String: Any] {
        var claims: [String: Any] = ["sub": "user-1", "exp": expiry, "iat": now - 10]
        for (key, value) in extra { claims[key] = value }
        return claims
    }

    private func hmacVerifier(_ settings: JWTSettings? = nil) throws -> JWTVerifier {
        try JWTVerifier(settings: settings ?? JWTSettings(keys: [.hmacSecret(String(decoding: TestKeys.secret, as: UTF8.self))]))
    }

    // MARK: Valid tokens

    func testValidHS256TokenMapsClaimsToIdentity() throws {
        let verifier = try hmacVerifier()
        let token = try TestSigner.token(
            alg: "HS256",
            claims: claims(["tenant": "acme", "roles": ["admin", "editor"], "scope": "read write", "iss": "https://idp"]),
            key: .hs256(TestKeys.secret))
        let identity = try verifier.verify(token, now: now)
        XCTAssertEqual(identity.subject, "user-1")
        XCTAssertEqual(identity.tenant, "acme")
        XCTAssertEqual(identity.roles, ["admin", "editor"])
        XCTAssertEqual(identity.scopes, ["read", "write"])
        XCTAssertEqual(identity.method, .jwt)
        XCTAssertEqual(identity.expiresAt, expiry)
        XCTAssertEqual(identity.issuer, "https://idp")
        XCTAssertNil(identity.keyID)
    }

    func testValidRS256TokenWithPEMFile() throws {
        let path = try write(TestKeys.rsa.publicKey.pemRepresentation, to: "rsa.pem")
        let verifier = try JWTVerifier(settings: JWTSettings(keys: [.pemFile(path, algorithm: .rs256, kid: "r1")]))
        let token = try TestSigner.token(alg: "RS256", kid: "r1", claims: claims(), key: .rs256(TestKeys.rsa))
        let identity = try verifier.verify(token, now: now)
        XCTAssertEqual(identity.subject, "user-1")
        XCTAssertEqual(identity.keyID, "r1")
        // Without a kid, the keys of the token's algorithm are tried.
        let unkeyed = try TestSigner.token(alg: "RS256", claims: claims(), key: .rs256(TestKeys.rsa))
        XCTAssertEqual(try verifier.verify(unkeyed, now: now).subject, "user-1")
    }

    func testValidES256TokenWithPEMFile() throws {
        let ec = P256.Signing.PrivateKey()
        let path = try write(ec.publicKey.pemRepresentation, to: "ec.pem")
        let verifier = try JWTVerifier(settings: JWTSettings(keys: [.pemFile(path, algorithm: .es256)]))
        let token = try TestSigner.token(alg: "ES256", claims: claims(["scp": ["a", "b"]]), key: .es256(ec))
        let identity = try verifier.verify(token, now: now)
        XCTAssertEqual(identity.scopes, ["a", "b"])
        // A DER (non-raw) signature of 70-odd bytes is not a JWS ES256 signature.
        let input = Array(token.split(separator: ".").prefix(2).joined(separator: ".").utf8)
        let der = Array(try ec.signature(for: input).derRepresentation)
        let derToken = token.split(separator: ".").prefix(2).joined(separator: ".") + "." + Base64URL.encode(der)
        assertAuthError(.badSignature) { () throws(AuthError) in try verifier.verify(derToken, now: now) }
    }

    func testRolesAsSingleStringAndNestedTenantClaim() throws {
        let settings = JWTSettings(
            keys: [.hmacSecret(String(decoding: TestKeys.secret, as: UTF8.self))], tenantClaim: "org.tenant",
            rolesClaim: "realm_access.roles")
        let verifier = try hmacVerifier(settings)
        let token = try TestSigner.token(
            alg: "HS256", claims: claims(["org": ["tenant": "t9"], "realm_access": ["roles": "auditor"]]),
            key: .hs256(TestKeys.secret))
        let identity = try verifier.verify(token, now: now)
        XCTAssertEqual(identity.tenant, "t9")
        XCTAssertEqual(identity.roles, ["auditor"])
        let badTenant = try TestSigner.token(alg: "HS256", claims: claims(["org": ["tenant": 5]]), key: .hs256(TestKeys.secret))
        assertAuthError(.invalidClaim) { () throws(AuthError) in try verifier.verify(badTenant, now: now) }
    }

    // MARK: JWKS

    func testJWKSFileSelectsKeyByKid() throws {
        let ec = P256.Signing.PrivateKey()
        let primitives = try TestKeys.rsa.publicKey.getKeyPrimitives()
        let point = Array(ec.publicKey.x963Representation)
        let jwks = """
            {"keys": [
              {"kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig",
               "n": "\(Base64URL.encode(Array(primitives.modulus)))", "e": "\(Base64URL.encode(Array(primitives.publicExponent)))"},
              {"kty": "EC", "kid": "ec-1", "crv": "P-256",
               "x": "\(Base64URL.encode(point[1..<33]))", "y": "\(Base64URL.encode(point[33..<65]))"},
              {"kty": "oct", "kid": "hmac-1", "k": "\(Base64URL.encode(TestKeys.secret))"},
              {"kty": "EC", "kid": "p384", "crv": "P-384", "x": "AA", "y": "AA"},
              {"kty": "RSA", "kid": "enc", "use": "enc", "n": "AA", "e": "AQAB"},
              {"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": "AA"}
            ]}
            """
        let path = try write(jwks, to: "jwks.json")
        let verifier = try JWTVerifier(settings: JWTSettings(keys: [.jwksFile(path)]))
        XCTAssertEqual(verifier.keys.count, 3)
        XCTAssertEqual(verifier.warnings.count, 3, "\(verifier.warnings)")

        let rsaToken = try TestSigner.token(alg: "RS256", kid: "rsa-1", claims: claims(), key: .rs256(TestKeys.rsa))
        XCTAssertEqual(try verifier.verify(rsaToken, now: now).keyID, "rsa-1")
        let ecToken = try TestSigner.token(alg: "ES256", kid: "ec-1", claims: claims(), key: .es256(ec))
        XCTAssertEqual(try verifier.verify(ecToken, now: now).keyID, "ec-1")
        let hmacToken = try TestSigner.token(alg: "HS256", kid: "hmac-1", claims: claims(), key: .hs256(TestKeys.secret))
        XCTAssertEqual(try verifier.verify(hmacToken, now: now).keyID, "hmac-1")

        let unknown = try TestSigner.token(alg: "RS256", kid: "rsa-2", claims: claims(), key: .rs256(TestKeys.rsa))
        let error = assertAuthError(.unknownKeyID) { () throws(AuthError) in try verifier.verify(unknown, now: now) }
        XCTAssertEqual(error?.description, "no key with kid 'rsa-2' is configured")

        // The kid of the RSA key with another algorithm: refused before any signature check.
        let mismatch = try TestSigner.token(alg: "ES256", kid: "rsa-1", claims: claims(), key: .es256(ec))
        let mismatchError = assertAuthError(.unsupportedAlgorithm) { () throws(AuthError) in try verifier.verify(mismatch, now: now) }
        XCTAssertEqual(mismatchError?.description, "token signed with ES256 but key 'rsa-1' is an RS256 key")

        // The right kid, signed by another key.
        let forged = try TestSigner.token(alg: "RS256", kid: "rsa-1", claims: claims(), key: .rs256(TestKeys.otherRSA))
        assertAuthError(.badSignature) { () throws(AuthError) in try verifier.verify(forged, now: now) }
    }

    func testJWKSErrorsNameTheFileAndKey() throws {
        let path = try write(#"{"keys": [{"kty": "oct", "kid": "short", "k": "c2hvcnQ"}]}"#, to: "bad.json")
        let error = assertAuthError(.configuration) { () throws(AuthError) in try JWTVerifier(settings: JWTSettings(keys: [.jwksFile(path)])) }
        XCTAssertTrue(error?.description.contains(path) ?? false, "\(String(describing: error))")
        XCTAssertTrue(error?.description.contains("kid 'short'") ?? false, "\(String(describing: error))")
        XCTAssertTrue(error?.description.contains("at least 32") ?? false, "\(String(describing: error))")

        let badRSA = try write(#"{"keys": [{"kty": "RSA", "kid": "r", "n": "AQAB", "e": "AQAB"}]}"#, to: "small.json")
        let rsaError = assertAuthError(.configuration) { () throws(AuthError) in try JWTVerifier(settings: JWTSettings(keys: [.jwksFile(badRSA)])) }
        XCTAssertTrue(rsaError?.description.contains("key #0 (kid 'r')") ?? false, "\(String(describing: rsaError))")

        let notJSON = try write("{keys:", to: "broken.json")
        assertAuthError(.configuration) { () throws(AuthError) in try JWTVerifier(settings: JWTSettings(keys: [.jwksFile(notJSON)])) }
        let empty = try write(#"{"keys": []}"#, to: "empty.json")
        assertAuthError(.configuration) { () throws(AuthError) in try JWTVerifier(settings: JWTSettings(keys: [.jwksFile(empty)])) }
    }

    // MARK: Configuration

    func testConfigurationErrors() throws {
        let short = assertAuthError(.configuration) { () throws(AuthError) in
            try JWTVerifier(settings: JWTSettings(keys: [.hmacSecret("too-short", kid: "k")]))
        }
        XCTAssertEqual(short?.description, "HS256 secret (kid 'k') is 9 bytes; at least 32 are required")

        let missing = directory.appendingPathComponent("missing.pem").path
        let missingError = assertAuthError(.configuration) { () throws(AuthError) in
            try JWTVerifier(settings: JWTSettings(keys: [.pemFile(missing, algorithm: .rs256)]))
        }
        XCTAssertTrue(missingError?.description.hasPrefix("cannot read PEM file \(missing)") ?? false, "\(String(describing: missingError))")

        let ecPath = try write(P256.Signing.PrivateKey().publicKey.pemRepresentation, to: "ec.pem")
        let wrongType = assertAuthError(.configuration) { () throws(AuthError) in
            try JWTVerifier(settings: JWTSettings(keys: [.pemFile(ecPath, algorithm: .rs256)]))
        }
        XCTAssertTrue(wrongType?.description.hasPrefix("PEM file \(ecPath): PEM is not an RSA public key") ?? false, "\(String(describing: wrongType))")

        let rsaPath = try write(TestKeys.rsa.publicKey.pemRepresentation, to: "rsa.pem")
        assertAuthError(.configuration) { () throws(AuthError) in
            try JWTVerifier(settings: JWTSettings(keys: [.pemFile(rsaPath, algorithm: .hs256)]))
        }
        let duplicate = assertAuthError(.configuration) { () throws(AuthError) in
            try JWTVerifier(settings: JWTSettings(keys: [
                .pemFile(rsaPath, algorithm: .rs256, kid: "same"), .hmacSecret(String(decoding: TestKeys.secret, as: UTF8.self), kid: "same"),
            ]))
        }
        XCTAssertEqual(duplicate?.description, "kid 'same' is used by more than one JWT key")
        assertAuthError(.configuration) { () throws(AuthError) in try JWTVerifier(settings: JWTSettings(keys: [])) }
        XCTAssertFalse(JWTSettings.KeySource.hmacSecret("super-secret-value", kid: nil).description.contains("super"))
    }

    // MARK: Algorithms

    func testAlgNoneIsRefused() throws {
        let verifier = try hmacVerifier()
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: claims()), as: UTF8.self)
        for alg in ["none", "None", "NONE"] {
            let unsigned = try TestSigner.token(header: "{\"alg\":\"\(alg)\"}", payload: payload, key: .unsigned)
            XCTAssertTrue(unsigned.hasSuffix("."))
            let error = assertAuthError(.unsupportedAlgorithm) { () throws(AuthError) in try verifier.verify(unsigned, now: now) }
            XCTAssertEqual(error?.description, "alg '\(alg)' is refused")
            let withSignature = try TestSigner.token(header: "{\"alg\":\"\(alg)\"}", payload: payload, key: .hs256(TestKeys.secret))
            assertAuthError(.unsupportedAlgorithm) { () throws(AuthError) in try verifier.verify(withSignature, now: now) }
        }
        // Without the trailing dot: two segments.
        let twoSegments = try TestSigner.token(header: #"{"alg":"none"}"#, payload: payload, key: .unsigned).dropLast()
        assertAuthError(.malformed) { () throws(AuthError) in try verifier.verify(twoSegments, now: now) }

        let other = try TestSigner.token(header: #"{"alg":"HS512"}"#, payload: payload, key: .hs256(TestKeys.secret))
        let error = assertAuthError(.unsupportedAlgorithm) { () throws(AuthError) in try verifier.verify(other, now: now) }
        XCTAssertEqual(error?.description, "alg 'HS512' is not supported (supported: HS256, RS256, ES256)")
    }

    func testAlgorithmConfusionWithRSAPublicKeyAsHMACSecretIsRefused() throws {
        let pem = TestKeys.rsa.publicKey.pemRepresentation
        let path = try write(pem, to: "rsa.pem")
        let verifier = try JWTVerifier(settings: JWTSettings(keys: [.pemFile(path, algorithm: .rs256)]))
        // The classic attack: HMAC over the token with the public key's PEM text as the secret.
        let forged = try TestSigner.token(alg: "HS256", claims: claims(), key: .hs256(Array(pem.utf8)))
        let error = assertAuthError(.unsupportedAlgorithm) { () throws(AuthError) in try verifier.verify(forged, now: now) }
        XCTAssertEqual(error?.description, "token signed with HS256 but no HS256 key is configured")
        // The same with the DER bytes.
        let der = try TestSigner.token(alg: "HS256", claims: claims(), key: .hs256(Array(TestKeys.rsa.publicKey.derRepresentation)))
        assertAuthError(.unsupportedAlgorithm) { () throws(AuthError) in try verifier.verify(der, now: now) }
        // And the other way round: an RS256 token where only an HMAC key exists.
        let hmacOnly = try hmacVerifier()
        let rsaToken = try TestSigner.token(alg: "RS256", claims: claims(), key: .rs256(TestKeys.rsa))
        let reverse = assertAuthError(.unsupportedAlgorithm) { () throws(AuthError) in try hmacOnly.verify(rsaToken, now: now) }
        XCTAssertEqual(reverse?.description, "token signed with RS256 but no RS256 key is configured")
    }

    func testWrongKeyAndTamperedPayloadFail() throws {
        let verifier = try hmacVerifier()
        let wrongSecret = try TestSigner.token(alg: "HS256", claims: claims(), key: .hs256(Array("another-secret-another-secret-xyz!".utf8)))
        let error = assertAuthError(.badSignature) { () throws(AuthError) in try verifier.verify(wrongSecret, now: now) }
        XCTAssertEqual(error?.description, "signature does not verify")

        let genuine = try TestSigner.token(alg: "HS256", claims: claims(["roles": ["user"]]), key: .hs256(TestKeys.secret))
        let parts = genuine.split(separator: ".")
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: claims(["roles": ["admin"]])), as: UTF8.self)
        let tampered = "\(parts[0]).\(Base64URL.encode(Array(payload.utf8))).\(parts[2])"
        assertAuthError(.badSignature) { () throws(AuthError) in try verifier.verify(tampered, now: now) }
        // A flipped signature bit.
        var signature = Base64URL.decode(parts[2].utf8)!
        signature[0] ^= 1
        let flipped = "\(parts[0]).\(parts[1]).\(Base64URL.encode(signature))"
        assertAuthError(.badSignature) { () throws(AuthError) in try verifier.verify(flipped, now: now) }
        // No signature on an HS256 token.
        assertAuthError(.badSignature) { () throws(AuthError) in try verifier.verify("\(parts[0]).\(parts[1]).", now: now) }

        let rsaPath = try write(TestKeys.rsa.publicKey.pemRepresentation, to: "rsa.pem")
        let rsaVerifier = try JWTVerifier(settings: JWTSettings(keys: [.pemFile(rsaPath, algorithm: .rs256)]))
        let otherRSA = try TestSigner.token(alg: "RS256", claims: claims(), key: .rs256(TestKeys.otherRSA))
        assertAuthError(.badSignature) { () throws(AuthError) in try rsaVerifier.verify(otherRSA, now: now) }
        // PSS instead of PKCS#1 v1.5 with the right key.
        let input = Array(otherRSA.split(separator: ".").prefix(2).joined(separator: ".").utf8)
        let pss = try TestKeys.rsa.signature(for: input, padding: .PSS).rawRepresentation
        let pssToken = otherRSA.split(separator: ".").prefix(2).joined(separator: ".") + "." + Base64URL.encode(Array(pss))
        assertAuthError(.badSignature) { () throws(AuthError) in try rsaVerifier.verify(pssToken, now: now) }
    }
}
