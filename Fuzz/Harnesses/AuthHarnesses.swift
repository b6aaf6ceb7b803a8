import Crypto
import Foundation
import PlexusAuth

/// Bearer credentials: JWTs (raw, and signed with the harness's key so the header and the
/// claims are reached), JWK sets, API keys and the `Authorization` header.
enum AuthHarnesses {
    static let all: [Harness] = [
        Harness(name: "jwt", summary: "byte 0 even: a raw token; odd: header JSON, 0x00, claims JSON, signed HS256 with the harness key", run: jwt),
        Harness(name: "jwks", summary: "a JWK set document (JWKS.keys)", run: jwks),
        Harness(name: "api-key", summary: "an Authorization value: bearer scheme, API-key shape", run: apiKey),
    ]

    static let secret = Array("plexus-fuzz-hs256-secret-of-32-bytes!!".utf8)
    nonisolated(unsafe) static let verifier: JWTVerifier = {
        // No cache: every input goes through the whole verification.
        let settings = JWTSettings(keys: [.hmacSecret(String(decoding: secret, as: UTF8.self))], issuer: "https://issuer.example",
                                   audiences: ["plexus"], cacheCapacity: 0)
        return try! JWTVerifier(settings: settings)
    }()
    /// 2026-12-07, so `exp` and `nbf` near it are reachable.
    static let now = 1_796_601_600.0

    static func jwt(_ input: UnsafeRawBufferPointer) {
        guard let mode = input.first else { return }
        let rest = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        if mode & 1 == 0 {
            _ = try? verifier.verify(rest.text, now: now)
            return
        }
        let parts = rest.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let header = Array(parts[0]), claims = parts.count > 1 ? Array(parts[1]) : []
        let signingInput = base64URL(header) + "." + base64URL(claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: secret))
        _ = try? verifier.verify(signingInput + "." + base64URL(Array(mac)), now: now)
    }

    static func jwks(_ input: UnsafeRawBufferPointer) {
        _ = try? JWKS.keys(fromJSON: input.bytes, source: "fuzz.jwks")
    }

    static func apiKey(_ input: UnsafeRawBufferPointer) {
        let value = input.text
        if let token = BearerToken.token(fromAuthorization: value) {
            _ = APIKeyFormat.matches(token)
        }
        _ = APIKeyFormat.matches(Substring(value))
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
