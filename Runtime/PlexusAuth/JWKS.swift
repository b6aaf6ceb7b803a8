import Crypto
import _CryptoExtras

/// Reading an RFC 7517 JSON Web Key Set into verification keys.
///
/// Supported: `kty` `RSA` (`n`, `e`) as RS256, `EC` with `crv` `P-256` (`x`, `y`) as ES256, and
/// `oct` (`k`, at least 32 bytes) as HS256. A key's optional `alg` must then be that algorithm.
/// Keys with `use` other than `sig`, or of another type, curve or algorithm, are skipped and
/// reported in `skipped` (an identity provider's set often holds keys this gateway does not use).
/// A supported key with bad material is an error naming the key; so is a set with no usable key.
public enum JWKS {
    /// Parses a JWKS document. `source` names it in messages (e.g. the file path).
    public static func keys(
        fromJSON bytes: [UInt8], source: String
    ) throws(AuthError) -> (keys: [VerificationKey], skipped: [String]) {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw AuthError(.configuration, "\(source) is not valid JSON: \(error)")
        }
        guard let entries = document.object?["keys"]?.array else {
            throw AuthError(.configuration, "\(source) is not a JWK set: expected an object with a \"keys\" array")
        }
        var keys: [VerificationKey] = []
        var skipped: [String] = []
        for (index, entry) in entries.enumerated() {
            guard let members = entry.object else {
                throw AuthError(.configuration, "\(source): key #\(index) is not an object")
            }
            let kid = members["kid"]?.string
            let name = "\(source): key #\(index)\(VerificationKey.kidSuffix(kid))"
            if let kidValue = members["kid"], kidValue.string == nil {
                throw AuthError(.configuration, "\(name): \"kid\" must be a string")
            }
            if let use = members["use"], use.string != "sig" {
                skipped.append("\(name): \"use\" is not \"sig\"")
                continue
            }
            if let key = try key(from: members, kid: kid, name: name, skipped: &skipped) {
                keys.append(key)
            }
        }
        guard !keys.isEmpty else {
            throw AuthError(
                .configuration,
                "\(source) holds no usable key (RSA, EC P-256 or oct)" + (skipped.isEmpty ? "" : ": " + skipped.joined(separator: "; ")))
        }
        return (keys, skipped)
    }

    private static func key(
        from members: [String: JSONValue], kid: String?, name: String, skipped: inout [String]
    ) throws(AuthError) -> VerificationKey? {
        let algorithm: JWTAlgorithm
        switch members["kty"]?.string {
        case "RSA": algorithm = .rs256
        case "EC": algorithm = .es256
        case "oct": algorithm = .hs256
        case let other?:
            skipped.append("\(name): key type \(AuthError.quoted(other)) is not supported")
            return nil
        case nil:
            throw AuthError(.configuration, "\(name): \"kty\" is missing")
        }
        if let alg = members["alg"] {
            guard let text = alg.string else { throw AuthError(.configuration, "\(name): \"alg\" must be a string") }
            guard text == algorithm.rawValue else {
                skipped.append("\(name): alg \(AuthError.quoted(text)) is not supported for this key type")
                return nil
            }
        }
        func bytes(_ member: String) throws(AuthError) -> [UInt8] {
            guard let text = members[member]?.string else {
                throw AuthError(.configuration, "\(name): \"\(member)\" is missing or not a string")
            }
            guard let decoded = Base64URL.decode(text.utf8), !decoded.isEmpty else {
                throw AuthError(.configuration, "\(name): \"\(member)\" is not unpadded base64url")
            }
            return decoded
        }
        switch algorithm {
        case .hs256:
            let secret = try bytes("k")
            guard secret.count >= VerificationKey.minimumSecretBytes else {
                throw AuthError(
                    .configuration,
                    "\(name): \"k\" is \(secret.count) bytes; at least \(VerificationKey.minimumSecretBytes) are required for HS256")
            }
            return try VerificationKey.hmac(secret: secret, kid: kid)
        case .rs256:
            let n = try bytes("n")
            let e = try bytes("e")
            let rsaKey: _RSA.Signing.PublicKey
            do {
                rsaKey = try _RSA.Signing.PublicKey(n: n, e: e)
            } catch {
                throw AuthError(.configuration, "\(name): \"n\"/\"e\" do not form an RSA public key (\(error))")
            }
            do {
                return try VerificationKey.rsa(rsaKey, kid: kid)
            } catch {
                throw AuthError(.configuration, "\(name): \(error.message)")
            }
        case .es256:
            guard let curve = members["crv"]?.string else { throw AuthError(.configuration, "\(name): \"crv\" is missing") }
            guard curve == "P-256" else {
                skipped.append("\(name): curve \(AuthError.quoted(curve)) is not supported")
                return nil
            }
            let x = try bytes("x")
            let y = try bytes("y")
            guard x.count == 32, y.count == 32 else {
                throw AuthError(.configuration, "\(name): P-256 \"x\" and \"y\" must be 32 bytes each")
            }
            do {
                return VerificationKey.p256(try P256.Signing.PublicKey(x963Representation: [0x04] + x + y), kid: kid)
            } catch {
                throw AuthError(.configuration, "\(name): \"x\"/\"y\" are not a point on P-256")
            }
        }
    }
}
