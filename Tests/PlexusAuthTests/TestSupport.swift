import Crypto
import Foundation
import XCTest
import _CryptoExtras

@testable import PlexusAuth

/// A test-only JWS signer: builds compact tokens from raw JSON text so tests control every byte.
enum TestSigner {
    enum Key {
        case hs256([UInt8])
        case rs256(_RSA.Signing.PrivateKey)
        case es256(P256.Signing.PrivateKey)
        /// No signature at all (the third segment is empty).
        case unsigned
        /// These exact bytes as the signature.
        case raw([UInt8])
    }

    /// `base64url(header).base64url(payload).base64url(signature)`.
    static func token(header: String, payload: String, key: Key) throws -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(try sign(Array(input.utf8), key))
    }

    /// A token with a JSON header `{"alg":..., "typ":"JWT", "kid":...}` and claims encoded by JSONSerialization.
    static func token(alg: String, kid: String? = nil, claims: [String: Any], key: Key) throws -> String {
        var header = "{\"alg\":\"\(alg)\",\"typ\":\"JWT\""
        if let kid { header += ",\"kid\":\"\(kid)\"" }
        header += "}"
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys]), as: UTF8.self)
        return try token(header: header, payload: payload, key: key)
    }

    static func sign(_ input: [UInt8], _ key: Key) throws -> [UInt8] {
        switch key {
        case .hs256(let secret):
            return Array(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: secret)))
        case .rs256(let privateKey):
            return Array(try privateKey.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation)
        case .es256(let privateKey):
            return Array(try privateKey.signature(for: input).rawRepresentation)
        case .unsigned:
            return []
        case .raw(let bytes):
            return bytes
        }
    }
}

/// Keys generated once per test run (RSA generation is slow in debug builds).
enum TestKeys {
    static let rsa = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let otherRSA = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let secret = Array("0123456789abcdef0123456789abcdef-test-secret".utf8)
}

/// A fresh temporary directory, removed by `removeTemporaryDirectory`.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-auth-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Asserts that `body` throws an `AuthError` of `kind`, and returns it for further checks.
@discardableResult
func assertAuthError<T>(
    _ kind: AuthError.Kind, file: StaticString = #filePath, line: UInt = #line, _ body: () throws(AuthError) -> T
) -> AuthError? {
    do {
        let value = try body()
        XCTFail("expected \(kind), got \(value)", file: file, line: line)
        return nil
    } catch {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        return error
    }
}

/// The async form of `assertAuthError`.
@discardableResult
func assertAuthErrorAsync<T>(
    _ kind: AuthError.Kind, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws(AuthError) -> T
) async -> AuthError? {
    do {
        let value = try await body()
        XCTFail("expected \(kind), got \(value)", file: file, line: line)
        return nil
    } catch {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        return error
    }
}
