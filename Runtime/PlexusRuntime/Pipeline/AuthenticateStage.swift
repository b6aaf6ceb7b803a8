import Foundation
import Logging
import PlexusAuth

/// Who is calling: verifies the credentials a request carries (a bearer JWT, an API key, or a
/// stream ticket on the live-event paths) and sets its caller. Invalid credentials are refused
/// even on a public route; no credentials leave the request anonymous for the later stages.
final class AuthenticateStage: RequestStage {
    static let maxCachedCallers = 10_000

    private let verifier: JWTVerifier?
    private let keys: APIKeyDirectory
    private let tickets: StreamTickets
    private let audit: AuditTrail
    private let logger: Logger
    /// Verified JWT callers by token (API keys are looked up every time, so a revocation counts at once).
    private var callers: [String: Caller] = [:]
    /// The caller last made for each API key (by its id), with the identity it was made from: the
    /// key is still identified on every request, but its caller (sorted roles and their texts) is
    /// made again only when the identity changed.
    private var apiKeyCallers: [String: (identity: Identity, caller: Caller)] = [:]

    init(verifier: JWTVerifier?, keys: APIKeyDirectory, tickets: StreamTickets, audit: AuditTrail, logger: Logger) {
        self.verifier = verifier
        self.keys = keys
        self.tickets = tickets
        self.audit = audit
        self.logger = logger
    }

    func screen(_ request: RequestContext, now: Double) -> GatewayRefusal? {
        var credential: String?
        var isAPIKey = false
        let authorization = request.header(.authorization)
        if let authorization {
            // Keep-alive clients send the same token again and again: compare its bytes with the
            // one this connection verified last instead of building and hashing a string.
            let peer = request.peer
            if let known = peer.lastCaller, (known.expiresAt ?? .infinity) > now,
               !authorization.isEmpty, peer.lastAuthorization.count == authorization.count,
               peer.lastAuthorization.withUnsafeBytes({ memcmp($0.baseAddress!, authorization.baseAddress!, authorization.count) == 0 }) {
                guard let key = peer.lastKey else {
                    request.caller = known
                    return nil
                }
                // The same API key again: still checked against the current keys (a revocation
                // counts at once), by its id and the SHA-256 computed when it was first verified.
                if let identity = keys.identify(id: key.id, digest: key.digest) {
                    request.caller = caller(identity)
                    return nil
                }
            }
            guard let token = Self.bearerToken(authorization) else {
                return audit.unauthenticated(request, "the Authorization header must use the Bearer scheme", error: "invalid_request")
            }
            credential = token
            isAPIKey = APIKeyFormat.hasPrefix(token)
        } else if let key = request.header(.apiKey) {
            credential = String(decoding: Self.trimmed(key), as: UTF8.self)
            isAPIKey = true
        } else if let ticket = StreamTickets.presented(in: request) {
            switch tickets.redeem(ticket, now: now, keyIsActive: keys.isActive(id:)) {
            case .success(let caller): request.caller = caller
            case .failure(let refusal): return audit.unauthenticated(request, refusal.description, error: "invalid_token")
            }
        }
        guard let credential else { return nil }
        if !isAPIKey, let cached = callers[credential], (cached.expiresAt ?? .infinity) > now {
            request.caller = cached
            remember(cached, authorization, on: request.peer)
            return nil
        }
        // Only JWT callers are cached (an expired one is dropped here); an API key never is.
        if !isAPIKey { callers.removeValue(forKey: credential) }
        do {
            let caller: Caller
            if isAPIKey {
                let verified = try keys.verify(credential[...])
                caller = self.caller(verified.identity)
                remember(caller, authorization, key: (verified.id, verified.digest), on: request.peer)
            } else {
                caller = try jwtCaller(credential, now: now)
                if callers.count >= Self.maxCachedCallers { callers.removeAll(keepingCapacity: true) }
                callers[credential] = caller
                remember(caller, authorization, on: request.peer)
            }
            request.caller = caller
            return nil
        } catch let error as AuthError where !error.isCredentialError {
            logger.error("credential check failed", metadata: ["error": "\(error)", "request_id": "\(request.requestID)"])
            return GatewayRefusal(status: 503, detail: "credentials cannot be checked right now: \(error)", headers: [("Retry-After", "1")])
        } catch {
            return audit.unauthenticated(request, "\(error)", error: "invalid_token")
        }
    }

    /// Forgets expired cached callers (run every few seconds).
    func sweep(now: Double) {
        if callers.count > Self.maxCachedCallers / 2 {
            callers = callers.filter { ($0.value.expiresAt ?? .infinity) > now }
        }
    }

    /// Remembers a verified caller on the connection with the bytes of its `Authorization` value
    /// (and, for an API key, its id and SHA-256).
    private func remember(_ caller: Caller, _ authorization: UnsafeRawBufferPointer?, key: (id: String, digest: [UInt8])? = nil,
                          on peer: ConnectionPeer) {
        guard let authorization else { return }
        peer.lastAuthorization = Array(authorization)
        peer.lastCaller = caller
        peer.lastKey = key
    }

    /// The caller of an API key's `identity`: the one made last for that key when the identity is the same.
    private func caller(_ identity: Identity) -> Caller {
        let id = identity.keyID ?? identity.subject
        if let known = apiKeyCallers[id], known.identity == identity { return known.caller }
        if apiKeyCallers.count >= Self.maxCachedCallers { apiKeyCallers.removeAll(keepingCapacity: true) }
        let caller = Caller(identity)
        apiKeyCallers[id] = (identity, caller)
        return caller
    }

    private func jwtCaller(_ token: String, now: Double) throws -> Caller {
        guard let verifier else { throw GatewayAuthError("no JWT keys are configured ([auth] jwt_hs256_secret, jwt_public_key_file or jwks_file)") }
        return Caller(try verifier.verify(token, now: now))
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, spaces and tabs around the token
    /// ignored), read from the header's bytes without Foundation's string machinery; nil for
    /// another scheme or an empty token.
    static func bearerToken(_ value: UnsafeRawBufferPointer) -> String? {
        let scheme: StaticString = "bearer"
        let length = scheme.utf8CodeUnitCount
        guard value.count > length + 1, ASCIICase.hasPrefix(value, scheme),
              value[length] == 0x20 || value[length] == 0x09 else { return nil }
        let token = trimmed(UnsafeRawBufferPointer(rebasing: value[(length + 1)...]))
        return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
    }

    /// `bytes` without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }
}

/// A credential problem found by the gateway itself (not by the verifier).
struct GatewayAuthError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
