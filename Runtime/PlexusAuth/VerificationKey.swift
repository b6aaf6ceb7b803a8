import Crypto
import _CryptoExtras

/// One key a `JWTVerifier` accepts signatures from, bound to one algorithm and an optional `kid`.
///
/// Build keys with the factory methods; each refuses material unfit for its algorithm (short HMAC
/// secrets, RSA keys under 2048 bits, a PEM of the wrong type) with a `.configuration` error.
/// An RSA or EC key can never act as an HMAC secret: the algorithm travels with the key.
public struct VerificationKey: Sendable {
    /// The smallest HMAC secret accepted, in bytes (RFC 7518 section 3.2: at least the hash size).
    public static let minimumSecretBytes = 32
    /// The smallest RSA modulus accepted, in bits.
    public static let minimumRSABits = 2048

    /// `@unchecked`: swift-crypto 3.12 does not mark `SymmetricKey` and `P256.Signing.PublicKey`
    /// `Sendable`, but both are immutable after creation and verification only reads them.
    enum Material: @unchecked Sendable {
        case hmac(SymmetricKey)
        case rsa(_RSA.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
    }

    /// The only algorithm this key verifies.
    public let algorithm: JWTAlgorithm
    /// The key id a token's header `kid` selects this key by; nil if it has none.
    public let kid: String?
    let material: Material

    private init(algorithm: JWTAlgorithm, kid: String?, material: Material) {
        self.algorithm = algorithm
        self.kid = kid
        self.material = material
    }

    /// An HS256 key from a shared secret's bytes; refuses fewer than 32 bytes.
    public static func hmac(secret: [UInt8], kid: String? = nil) throws(AuthError) -> VerificationKey {
        guard secret.count >= minimumSecretBytes else {
            throw AuthError(
                .configuration,
                "HS256 secret\(kidSuffix(kid)) is \(secret.count) bytes; at least \(minimumSecretBytes) are required")
        }
        return VerificationKey(algorithm: .hs256, kid: kid, material: .hmac(SymmetricKey(data: secret)))
    }

    /// An HS256 key from a shared secret's UTF-8 bytes; refuses fewer than 32 bytes.
    public static func hmac(secret: String, kid: String? = nil) throws(AuthError) -> VerificationKey {
        try hmac(secret: Array(secret.utf8), kid: kid)
    }

    /// An RS256 or ES256 key from a PEM public key (`BEGIN PUBLIC KEY`; for RS256 also
    /// `BEGIN RSA PUBLIC KEY`). Refuses HS256 (a PEM is never an HMAC secret).
    public static func pem(_ text: String, algorithm: JWTAlgorithm, kid: String? = nil) throws(AuthError) -> VerificationKey {
        switch algorithm {
        case .hs256:
            throw AuthError(.configuration, "a PEM key\(kidSuffix(kid)) cannot be used for HS256; configure a shared secret")
        case .rs256:
            do {
                return try rsa(_RSA.Signing.PublicKey(pemRepresentation: text), kid: kid)
            } catch let error as AuthError {
                throw error
            } catch {
                throw AuthError(
                    .configuration,
                    "PEM\(kidSuffix(kid)) is not an RSA public key of at least \(minimumRSABits) bits (\(error))")
            }
        case .es256:
            do {
                return p256(try P256.Signing.PublicKey(pemRepresentation: text), kid: kid)
            } catch {
                throw AuthError(.configuration, "PEM\(kidSuffix(kid)) is not a P-256 public key (\(error))")
            }
        }
    }

    /// An RS256 key from an RSA public key; refuses keys under 2048 bits.
    public static func rsa(_ key: _RSA.Signing.PublicKey, kid: String? = nil) throws(AuthError) -> VerificationKey {
        guard key.keySizeInBits >= minimumRSABits else {
            throw AuthError(
                .configuration,
                "RSA key\(kidSuffix(kid)) has \(key.keySizeInBits) bits; at least \(minimumRSABits) are required")
        }
        return VerificationKey(algorithm: .rs256, kid: kid, material: .rsa(key))
    }

    /// An ES256 key from a P-256 public key.
    public static func p256(_ key: P256.Signing.PublicKey, kid: String? = nil) -> VerificationKey {
        VerificationKey(algorithm: .es256, kid: kid, material: .p256(key))
    }

    /// Whether `signature` is this key's signature over `input` (the JWS signing input).
    func isValidSignature(_ signature: [UInt8], for input: ArraySlice<UInt8>) -> Bool {
        switch material {
        case .hmac(let key):
            return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: input, using: key)
        case .rsa(let key):
            return key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: input, padding: .insecurePKCS1v1_5)
        case .p256(let key):
            guard signature.count == 64,
                let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(ecdsa, for: input)
        }
    }

    static func kidSuffix(_ kid: String?) -> String {
        kid.map { " (kid \(AuthError.quoted($0)))" } ?? ""
    }
}

extension VerificationKey: CustomStringConvertible {
    /// `RS256 key (kid 'k1')`; never shows key material.
    public var description: String { "\(algorithm) key\(Self.kidSuffix(kid))" }
}
