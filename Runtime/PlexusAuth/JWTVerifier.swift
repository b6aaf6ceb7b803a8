import Foundation

/// Verifies compact JWS bearer tokens (JWTs) against configured keys and maps them to an `Identity`.
///
/// `verify` is synchronous, never does I/O and is safe to call from any thread (event loops call
/// it per request). A token seen before costs a hash and a dictionary lookup; its `exp`, `nbf`
/// and `iat` are still checked against `now` on every call.
///
/// Verification order: size, three segments, header (strict base64url JSON, `typ`, no `crit`),
/// `alg` against the keys (never `none`; the algorithm belongs to the key, so an RSA or EC key is
/// never used as an HMAC secret), signature, then the claims: `exp` (required unless configured
/// otherwise), `nbf`, `iat`, `iss`, `aud`, `sub`, tenant, roles, scopes.
///
/// Key selection: a header `kid` selects the key with that kid, which must be of the token's
/// algorithm. A kid no key has is refused (`.unknownKeyID`) unless keys of that algorithm
/// without any kid are configured, which are then tried (a kid is a hint; kid-less keys accept
/// any). Without a `kid`, every key of the token's algorithm is tried.
public final class JWTVerifier: Sendable {
    /// The settings this verifier was built from.
    public let settings: JWTSettings
    /// Every key accepted, from the settings' sources and then the additional keys.
    public let keys: [VerificationKey]
    /// Notes from loading: JWKS keys skipped because their type, curve, algorithm or use is not
    /// supported. Log them at startup.
    public let warnings: [String]

    private let keysByID: [String: VerificationKey]
    private let keysByAlgorithm: [JWTAlgorithm: [VerificationKey]]
    private let keylessByAlgorithm: [JWTAlgorithm: [VerificationKey]]
    private let acceptedAudiences: Set<String>
    private let acceptedTypes: Set<String>
    private let cache: TokenCache

    /// Loads the keys of `settings.keys` (reading PEM and JWKS files now) plus `additionalKeys`.
    ///
    /// Throws `.configuration` naming the file or key at fault: an unreadable file, a PEM that
    /// is not a public key of the declared algorithm, an HMAC secret under 32 bytes, an RSA key
    /// under 2048 bits, a kid used twice, no key at all, or an unusable limit.
    public init(settings: JWTSettings, additionalKeys: [VerificationKey] = []) throws(AuthError) {
        guard settings.leeway.isFinite, settings.leeway >= 0 else {
            throw AuthError(.configuration, "JWT leeway must be zero or more seconds, not \(settings.leeway)")
        }
        guard settings.maxTokenBytes > 0 else {
            throw AuthError(.configuration, "the JWT size limit must be positive, not \(settings.maxTokenBytes)")
        }
        var keys: [VerificationKey] = []
        var warnings: [String] = []
        for source in settings.keys {
            let (loaded, skipped) = try Self.load(source)
            keys += loaded
            warnings += skipped
        }
        keys += additionalKeys
        guard !keys.isEmpty else { throw AuthError(.configuration, "no JWT verification key is configured") }

        var byID: [String: VerificationKey] = [:]
        var byAlgorithm: [JWTAlgorithm: [VerificationKey]] = [:]
        var keyless: [JWTAlgorithm: [VerificationKey]] = [:]
        for key in keys {
            byAlgorithm[key.algorithm, default: []].append(key)
            guard let kid = key.kid else {
                keyless[key.algorithm, default: []].append(key)
                continue
            }
            if byID.updateValue(key, forKey: kid) != nil {
                throw AuthError(.configuration, "kid \(AuthError.quoted(kid)) is used by more than one JWT key")
            }
        }
        self.settings = settings
        self.keys = keys
        self.warnings = warnings
        self.keysByID = byID
        self.keysByAlgorithm = byAlgorithm
        self.keylessByAlgorithm = keyless
        self.acceptedAudiences = Set(settings.audiences)
        self.acceptedTypes = Set(settings.acceptedTypes.map(JWTHeader.normalizedType))
        self.cache = TokenCache(capacity: settings.cacheCapacity)
    }

    /// Verifies `token` (the text after `Bearer `) at `now` (unix seconds) and returns who it names.
    public func verify(_ token: Substring, now: Double) throws(AuthError) -> Identity {
        let size = token.utf8.count
        guard size <= settings.maxTokenBytes else {
            throw AuthError(.malformed, "malformed token: \(size) bytes is more than the limit of \(settings.maxTokenBytes)")
        }
        let key = TokenCache.key(token)
        if let hit = cache.lookup(token, key: key) {
            try hit.times.check(now: now, leeway: settings.leeway)
            return hit.identity
        }
        let (identity, times) = try verifyUncached(token, now: now)
        cache.insert(TokenCache.Entry(token: String(token), identity: identity, times: times), key: key, now: now, leeway: settings.leeway)
        return identity
    }

    /// Verifies `token` at `now`; see `verify(_:now:)` for a `Substring`.
    public func verify(_ token: String, now: Double) throws(AuthError) -> Identity {
        try verify(token[...], now: now)
    }

    /// How many verified tokens the cache holds.
    public var cachedTokenCount: Int { cache.count }

    /// Forgets every cached token (they verify again on their next use).
    public func clearCache() { cache.removeAll() }

    // MARK: Verification

    private func verifyUncached(_ token: Substring, now: Double) throws(AuthError) -> (Identity, TokenTimes) {
        let bytes = Array(token.utf8)
        var dots = 0
        var first = 0
        var second = 0
        for index in bytes.indices where bytes[index] == UInt8(ascii: ".") {
            dots += 1
            if dots == 1 { first = index } else if dots == 2 { second = index }
        }
        guard dots == 2 else {
            throw AuthError(.malformed, "malformed token: expected three dot-separated segments, found \(dots + 1)")
        }
        guard first > 0, second > first + 1 else {
            throw AuthError(.malformed, "malformed token: the header or payload segment is empty")
        }
        let header = try JWTHeader(segment: bytes[..<first], acceptedTypes: acceptedTypes)
        let algorithm = try algorithm(of: header)
        let candidates = try candidates(for: header, algorithm: algorithm)

        let signatureSegment = bytes[(second + 1)...]
        guard !signatureSegment.isEmpty else { throw AuthError(.badSignature, "token has no signature") }
        guard let signature = Base64URL.decode(signatureSegment) else {
            throw AuthError(.malformed, "malformed token: the signature is not unpadded base64url")
        }
        let input = bytes[..<second]
        guard let verifying = candidates.first(where: { $0.isValidSignature(signature, for: input) }) else {
            throw AuthError(.badSignature, "signature does not verify")
        }

        let claims = try JWTClaims(segment: bytes[(first + 1)..<second])
        let times = try claims.times(requireExp: settings.requireExp)
        try times.check(now: now, leeway: settings.leeway)
        let identity = try claims.identity(
            settings: settings, acceptedAudiences: acceptedAudiences, keyID: verifying.kid ?? header.kid, times: times)
        return (identity, times)
    }

    private func algorithm(of header: JWTHeader) throws(AuthError) -> JWTAlgorithm {
        if let algorithm = JWTAlgorithm(rawValue: header.alg) { return algorithm }
        if header.alg.lowercased() == "none" {
            throw AuthError(.unsupportedAlgorithm, "alg \(AuthError.quoted(header.alg)) is refused")
        }
        throw AuthError(
            .unsupportedAlgorithm,
            "alg \(AuthError.quoted(header.alg)) is not supported (supported: HS256, RS256, ES256)")
    }

    private func candidates(for header: JWTHeader, algorithm: JWTAlgorithm) throws(AuthError) -> [VerificationKey] {
        if let kid = header.kid {
            if let key = keysByID[kid] {
                guard key.algorithm == algorithm else {
                    throw AuthError(
                        .unsupportedAlgorithm,
                        "token signed with \(algorithm) but key \(AuthError.quoted(kid)) is an \(key.algorithm) key")
                }
                return [key]
            }
            guard let keyless = keylessByAlgorithm[algorithm] else {
                throw AuthError(.unknownKeyID, "no key with kid \(AuthError.quoted(kid)) is configured")
            }
            return keyless
        }
        guard let keys = keysByAlgorithm[algorithm] else {
            throw AuthError(.unsupportedAlgorithm, "token signed with \(algorithm) but no \(algorithm) key is configured")
        }
        return keys
    }

    // MARK: Loading keys

    private static func load(_ source: JWTSettings.KeySource) throws(AuthError) -> ([VerificationKey], [String]) {
        switch source {
        case .hmacSecret(let secret, let kid):
            return ([try VerificationKey.hmac(secret: secret, kid: kid)], [])
        case .pemFile(let path, let algorithm, let kid):
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw AuthError(.configuration, "cannot read PEM file \(path): \(error.localizedDescription)")
            }
            do {
                return ([try VerificationKey.pem(text, algorithm: algorithm, kid: kid)], [])
            } catch {
                throw AuthError(.configuration, "PEM file \(path): \(error.message)")
            }
        case .jwksFile(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw AuthError(.configuration, "cannot read JWKS file \(path)")
            }
            return try JWKS.keys(fromJSON: Array(data), source: "JWKS file \(path)")
        }
    }
}
