import Crypto
import _CryptoExtras
import Foundation

/// Mints compact JWS tokens for the gateway tests: HS256 over a shared secret, RS256 with a
/// fresh RSA key, and deliberately broken ones (alg none, a garbage signature, an HS256 token
/// keyed with a public key's PEM text).
public struct JWTMinter {
    /// An RSA key pair generated for one test (2048 bits, the verifier's minimum).
    public struct RSAKey {
        public let privateKey: _RSA.Signing.PrivateKey
        /// The public key as `BEGIN PUBLIC KEY` PEM, for `[auth] jwt_public_key_file`.
        public var publicKeyPEM: String { privateKey.publicKey.pemRepresentation }

        public init() throws { privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048) }
    }

    /// Unix seconds now.
    public static var now: Int { Int(Date().timeIntervalSince1970) }

    /// Standard claims: `sub`, `exp` an hour ahead, plus `extra` (which may override them).
    public static func claims(subject: String, tenant: String? = nil, roles: [String]? = nil, extra: [String: Any] = [:]) -> [String: Any] {
        var claims: [String: Any] = ["sub": subject, "iat": now, "exp": now + 3600]
        if let tenant { claims["tenant"] = tenant }
        if let roles { claims["roles"] = roles }
        for (name, value) in extra { claims[name] = value }
        return claims
    }

    /// An HS256 token over `secret` (its UTF-8 bytes).
    public static func hs256(_ claims: [String: Any], secret: String) throws -> String {
        try hs256(claims, key: Array(secret.utf8))
    }

    /// An HS256 token over raw key bytes.
    public static func hs256(_ claims: [String: Any], key: [UInt8], header: [String: Any] = ["alg": "HS256", "typ": "JWT"]) throws -> String {
        let input = try signingInput(header: header, claims: claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: key))
        return input + "." + base64URL(Data(mac))
    }

    /// An RS256 token signed with `key`.
    public static func rs256(_ claims: [String: Any], key: RSAKey, header: [String: Any] = ["alg": "RS256", "typ": "JWT"]) throws -> String {
        let input = try signingInput(header: header, claims: claims)
        let signature = try key.privateKey.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + base64URL(signature.rawRepresentation)
    }

    /// An unsigned token (`alg` none, empty signature segment), the classic forgery.
    public static func unsigned(_ claims: [String: Any], alg: String = "none") throws -> String {
        try signingInput(header: ["alg": alg, "typ": "JWT"], claims: claims) + "."
    }

    /// `header.payload`, base64url-encoded.
    public static func signingInput(header: [String: Any], claims: [String: Any]) throws -> String {
        let head = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        let body = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        return base64URL(head) + "." + base64URL(body)
    }

    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The gateway's forgery matrix, shared by the in-process and live gateway tests: tokens that
    /// each claim the admin role (or otherwise try to pass) and must all be refused with
    /// `invalid_token`, given the valid HS256 token `valid` over `secret` for `issuer` and `audience`
    /// (which an RS256 key `rsa` also verifies).
    public static func forgeries(secret: String, issuer: String, audience: String, rsa: RSAKey) throws -> (valid: String, forged: [(String, String)]) {
        let now = Self.now
        func claims(_ extra: [String: Any] = [:], roles: [String] = ["editor", "reader"]) -> [String: Any] {
            Self.claims(subject: "alice", tenant: "acme", roles: roles, extra: ["iss": issuer, "aud": audience].merging(extra) { $1 })
        }
        let valid = try hs256(claims(), secret: secret)
        let admin = claims(roles: ["admin"])
        let otherRSA = try RSAKey()
        let validParts = valid.split(separator: ".").map(String.init)
        let adminPayload = base64URL(try JSONSerialization.data(withJSONObject: admin, options: [.sortedKeys]))
        var forged: [(String, String)] = [
            ("alg none", try unsigned(admin)),
            ("alg None", try unsigned(admin, alg: "None")),
            ("alg none with a real signature", try signingInput(header: ["alg": "none", "typ": "JWT"], claims: claims()) + "." + validParts[2]),
            ("HS256 with another secret", try hs256(admin, secret: "another-secret-that-is-long-enough-0123456789")),
            ("RS256 with another key", try rs256(admin, key: otherRSA)),
            ("admin payload under a valid signature", validParts[0] + "." + adminPayload + "." + validParts[2]),
            ("signature stripped", validParts[0] + "." + validParts[1] + "."),
            ("HS512 header", try hs256(admin, key: Array(secret.utf8), header: ["alg": "HS512", "typ": "JWT"])),
            ("expired", try hs256(claims(["exp": now - 3600, "iat": now - 7200]), secret: secret)),
            ("not yet valid", try hs256(claims(["nbf": now + 3600]), secret: secret)),
            ("issued in the future", try hs256(claims(["iat": now + 3600]), secret: secret)),
            ("wrong audience", try hs256(claims(["aud": "someone-else"]), secret: secret)),
            ("wrong issuer", try hs256(claims(["iss": "https://evil.example"]), secret: secret)),
            ("RS256 wrong issuer", try rs256(claims(["iss": "https://evil.example"]), key: rsa)),
            ("not a JWT", "not-a-token"),
            ("two segments", "abc.def"),
            ("four segments", valid + ".extra"),
            ("unknown API key", "plx_0000000000000000000000000000000000000000"),
        ]
        for missing in ["aud", "exp", "sub"] {
            var incomplete = claims()
            incomplete.removeValue(forKey: missing)
            forged.append(("no \(missing)", try hs256(incomplete, secret: secret)))
        }
        return (valid, forged)
    }
}
