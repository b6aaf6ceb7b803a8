/// The time claims of a verified token, checked on every use (also on cache hits).
struct TokenTimes: Sendable {
    /// `exp`, unix seconds.
    let expiresAt: Double?
    /// `nbf`, unix seconds.
    let notBefore: Double?
    /// `iat`, unix seconds.
    let issuedAt: Double?

    /// Refuses an expired token, one not yet valid, or one issued in the future (beyond `leeway`).
    func check(now: Double, leeway: Double) throws(AuthError) {
        if let expiresAt, now - leeway >= expiresAt {
            throw AuthError(.expired, "token expired at \(Timestamp.rfc3339(expiresAt))")
        }
        if let notBefore, now + leeway < notBefore {
            throw AuthError(.notYetValid, "token is not valid before \(Timestamp.rfc3339(notBefore))")
        }
        if let issuedAt, now + leeway < issuedAt {
            throw AuthError(.notYetValid, "token was issued in the future (iat \(Timestamp.rfc3339(issuedAt)))")
        }
    }
}

/// Checks a verified payload against the settings and maps it to an `Identity`.
struct JWTClaims {
    let members: [String: JSONValue]

    /// Decodes the payload segment (base64url JSON object).
    init(segment: ArraySlice<UInt8>) throws(AuthError) {
        guard let json = Base64URL.decode(segment) else {
            throw AuthError(.malformed, "malformed token: the payload is not unpadded base64url")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(json)
        } catch {
            throw AuthError(.malformed, "malformed token: the payload is not valid JSON (\(error))")
        }
        guard let object = parsed.object else {
            throw AuthError(.malformed, "malformed token: the payload is not a JSON object")
        }
        members = object
    }

    /// The time claims; each must be a number when present, `exp` must be present if required.
    func times(requireExp: Bool) throws(AuthError) -> TokenTimes {
        let exp = try number("exp")
        if requireExp && exp == nil { throw AuthError(.missingClaim, "token has no \"exp\" claim") }
        return TokenTimes(expiresAt: exp, notBefore: try number("nbf"), issuedAt: try number("iat"))
    }

    /// Checks `iss` and `aud`, then builds the identity from `sub`, the tenant, roles and scopes.
    func identity(settings: JWTSettings, acceptedAudiences: Set<String>, keyID: String?, times: TokenTimes) throws(AuthError) -> Identity {
        let issuer = try string("iss")
        if let expected = settings.issuer {
            guard let issuer else {
                throw AuthError(.missingClaim, "token has no \"iss\" claim; expected \(AuthError.quoted(expected))")
            }
            guard issuer == expected else {
                throw AuthError(.wrongIssuer, "issuer \(AuthError.quoted(issuer)) is not accepted (expected \(AuthError.quoted(expected)))")
            }
        }
        if !acceptedAudiences.isEmpty { try checkAudience(acceptedAudiences) }
        guard let subject = try string("sub"), !subject.isEmpty else {
            throw AuthError(.missingClaim, "token has no \"sub\" claim")
        }
        let tenant = try lookup(settings.tenantClaim).map { value throws(AuthError) -> String in
            guard let text = value.string, !text.isEmpty else {
                throw AuthError(.invalidClaim, "claim \"\(settings.tenantClaim)\" must be a non-empty string, not \(value.typeName)")
            }
            return text
        }
        var roles: Set<String> = []
        if let value = lookup(settings.rolesClaim) {
            roles = try stringSet(value, claim: settings.rolesClaim, splitSpaces: false)
        }
        var scopes: Set<String> = []
        for claim in ["scope", "scp"] {
            if let value = members[claim] { scopes.formUnion(try stringSet(value, claim: claim, splitSpaces: true)) }
        }
        return Identity(
            subject: subject, tenant: tenant, roles: roles, scopes: scopes, method: .jwt,
            expiresAt: times.expiresAt, keyID: keyID, issuer: issuer)
    }

    private func checkAudience(_ accepted: Set<String>) throws(AuthError) {
        guard let value = members["aud"] else {
            throw AuthError(.missingClaim, "token has no \"aud\" claim")
        }
        let audiences: [String]
        switch value {
        case .string(let text): audiences = [text]
        case .array(let elements):
            audiences = try elements.map { element throws(AuthError) -> String in
                guard let text = element.string else {
                    throw AuthError(.invalidClaim, "claim \"aud\" must hold strings, not \(element.typeName)")
                }
                return text
            }
        default:
            throw AuthError(.invalidClaim, "claim \"aud\" must be a string or an array of strings, not \(value.typeName)")
        }
        guard audiences.contains(where: accepted.contains) else {
            switch audiences.count {
            case 0: throw AuthError(.wrongAudience, "token has an empty \"aud\" claim")
            case 1: throw AuthError(.wrongAudience, "audience \(AuthError.quoted(audiences[0])) is not accepted")
            default:
                let listed = audiences.prefix(5).map(AuthError.quoted).joined(separator: ", ")
                throw AuthError(.wrongAudience, "audiences \(listed)\(audiences.count > 5 ? ", ..." : "") are not accepted")
            }
        }
    }

    /// A claim by exact name, else by a dotted path through nested objects.
    private func lookup(_ claim: String) -> JSONValue? {
        if let value = members[claim] { return value }
        guard claim.contains(".") else { return nil }
        var current: JSONValue? = .object(members)
        for part in claim.split(separator: ".", omittingEmptySubsequences: false) {
            current = current?.object?[String(part)]
        }
        return current
    }

    private func number(_ claim: String) throws(AuthError) -> Double? {
        guard let value = members[claim] else { return nil }
        guard let number = value.number else {
            throw AuthError(.invalidClaim, "claim \"\(claim)\" must be a number of seconds, not \(value.typeName)")
        }
        return number
    }

    private func string(_ claim: String) throws(AuthError) -> String? {
        guard let value = members[claim] else { return nil }
        guard let text = value.string else {
            throw AuthError(.invalidClaim, "claim \"\(claim)\" must be a string, not \(value.typeName)")
        }
        return text
    }

    /// An array of strings, or one string (split on spaces for scopes).
    private func stringSet(_ value: JSONValue, claim: String, splitSpaces: Bool) throws(AuthError) -> Set<String> {
        switch value {
        case .string(let text):
            if splitSpaces { return Set(text.split(separator: " ").map(String.init)) }
            return text.isEmpty ? [] : [text]
        case .array(let elements):
            var result: Set<String> = []
            for element in elements {
                guard let text = element.string else {
                    throw AuthError(.invalidClaim, "claim \"\(claim)\" must hold strings, not \(element.typeName)")
                }
                if !text.isEmpty { result.insert(text) }
            }
            return result
        default:
            throw AuthError(.invalidClaim, "claim \"\(claim)\" must be a string or an array of strings, not \(value.typeName)")
        }
    }
}
