import Crypto
import _CryptoExtras
import Foundation

/// Mints compact JWS tokens for the gateway tests: HS256 over a shared secret, RS256 with a
/// fresh RSA key, and deliberately broken ones (alg none, a garbage signature, an HS256 token
/// keyed with a public key's PEM text).
struct JWTMinter {
    /// An RSA key pair generated for one test (2048 bits, the verifier's minimum).
    struct RSAKey {
        let privateKey: _RSA.Signing.PrivateKey
        /// The public key as `BEGIN PUBLIC KEY` PEM, for `[auth] jwt_public_key_file`.
        var publicKeyPEM: String { privateKey.publicKey.pemRepresentation }

        init() throws { privateKey = try _RSA.Signing.PrivateKey(keySize: .bits2048) }
    }

    /// Unix seconds now.
    static var now: Int { Int(Date().timeIntervalSince1970) }

    /// Standard claims: `sub`, `exp` an hour ahead, plus `extra` (which may override them).
    static func claims(subject: String, tenant: String? = nil, roles: [String]? = nil, extra: [String: Any] = [:]) -> [String: Any] {
        var claims: [String: Any] = ["sub": subject, "iat": now, "exp": now + 3600]
        if let tenant { claims["tenant"] = tenant }
        if let roles { claims["roles"] = roles }
        for (name, value) in extra { claims[name] = value }
        return claims
    }

    /// An HS256 token over `secret` (its UTF-8 bytes).
    static func hs256(_ claims: [String: Any], secret: String) throws -> String {
        try hs256(claims, key: Array(secret.utf8))
    }

    /// An HS256 token over raw key bytes.
    static func hs256(_ claims: [String: Any], key: [UInt8], header: [String: Any] = ["alg": "HS256", "typ": "JWT"]) throws -> String {
        let input = try signingInput(header: header, claims: claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: key))
        return input + "." + base64URL(Data(mac))
    }

    /// An RS256 token signed with `key`.
    static func rs256(_ claims: [String: Any], key: RSAKey, header: [String: Any] = ["alg": "RS256", "typ": "JWT"]) throws -> String {
        let input = try signingInput(header: header, claims: claims)
        let signature = try key.privateKey.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + base64URL(signature.rawRepresentation)
    }

    /// An unsigned token (`alg` none, empty signature segment), the classic forgery.
    static func unsigned(_ claims: [String: Any], alg: String = "none") throws -> String {
        try signingInput(header: ["alg": alg, "typ": "JWT"], claims: claims) + "."
    }

    /// `header.payload`, base64url-encoded.
    static func signingInput(header: [String: Any], claims: [String: Any]) throws -> String {
        let head = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        let body = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        return base64URL(head) + "." + base64URL(body)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
