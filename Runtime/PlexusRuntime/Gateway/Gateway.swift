import Foundation
import Logging
import PlexusAuth
import PlexusPolicy

/// The runtime's API gateway, in front of every plugin route and built-in endpoint: who is
/// calling (bearer JWT or API key), for which tenant, with which rights, how often, and what
/// happens when a plugin is slow or failing. Loop thread only.
final class Gateway {
    let settings: GatewaySettings
    let logger: Logger
    let keys: APIKeyDirectory
    let keyStore: APIKeyStore
    let audit: AuditLog
    private let verifier: JWTVerifier?
    private var limiter: RateLimiter
    private var callers: [String: Caller] = [:]
    private var bulkheads: [String: Bulkhead] = [:]
    /// Single-use tickets for browsers' live-event streams.
    let streamTickets = StreamTickets()
    /// Called when a route's circuit changes state (publish, metrics).
    var circuitChanged: ((RegisteredRoute, CircuitState, CircuitState, String) -> Void)?

    static let maxCachedCallers = 10_000
    private static let bearerScheme: [UInt8] = Array("bearer".utf8)

    /// Opens the gateway's stores under `<data>/runtime/` (API keys, audit log); blocks, so it is
    /// called before the loop runs.
    static func open(settings: GatewaySettings, dataDirectory: URL, logger: Logger) throws -> Gateway {
        let directory = dataDirectory.appendingPathComponent("runtime")
        let keyPath = directory.appendingPathComponent("gateway.sqlite").path
        let auditPath = directory.appendingPathComponent("audit.sqlite").path
        let retention = Double(settings.auditRetentionDays)
        let (store, audit) = try blockingAwait {
            let store = try await APIKeyStore.open(path: keyPath)
            let audit = try await AuditLog.open(path: auditPath, configuration: AuditLogConfiguration(retentionDays: retention, droppableActions: [.authFailure, .authDenied]))
            return (store, audit)
        }
        return try Gateway(settings: settings, keyStore: store, audit: audit, logger: logger)
    }

    init(settings: GatewaySettings, keyStore: APIKeyStore, audit: AuditLog, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        verifier = try Self.makeVerifier(settings.auth)
        self.keyStore = keyStore
        keys = APIKeyDirectory(store: keyStore)
        self.audit = audit
        do {
            limiter = try RateLimiter(policies: settings.rateLimits.map {
                try RateLimitPolicy(name: $0.name, requests: Int($0.requests), perSeconds: max(1, Int($0.windowSeconds)), burst: Int($0.burst))
            })
        } catch {
            throw RuntimeError.config("[rate_limits]: \(error)")
        }
    }

    // MARK: Identity

    /// Verifies the credentials `exchange` carries, if any, and sets its caller and tenant.
    /// Invalid credentials are refused even on a public route.
    func authenticate(_ exchange: HTTPExchange, now: Double) -> GatewayRefusal? {
        var credential: String?
        var isAPIKey = false
        let authorization = exchange.header("authorization")
        if let authorization {
            // Keep-alive clients send the same token again and again: compare its bytes with the
            // one this connection verified last instead of building and hashing a string.
            let connection = exchange.connection
            if let known = connection.lastCaller, (known.expiresAt ?? .infinity) > now,
               !authorization.isEmpty, connection.lastAuthorization.count == authorization.count,
               connection.lastAuthorization.withUnsafeBytes({ memcmp($0.baseAddress!, authorization.baseAddress!, authorization.count) == 0 }) {
                exchange.caller = known
                return resolveTenant(exchange)
            }
            guard let token = Self.bearerToken(authorization) else {
                return refuseAuthentication(exchange, "the Authorization header must use the Bearer scheme", error: "invalid_request")
            }
            credential = token
            isAPIKey = token.utf8.starts(with: APIKeyFormat.prefix.utf8)
        } else if let key = exchange.header("x-api-key") {
            credential = String(decoding: Self.trimmed(key), as: UTF8.self)
            isAPIKey = true
        } else if let ticket = StreamTickets.presented(in: exchange),
                  let problem = streamTickets.redeem(ticket, on: exchange, now: now, keyIsActive: keys.isActive(id:)) {
            return refuseAuthentication(exchange, problem, error: "invalid_token")
        }
        if let credential {
            if !isAPIKey, let cached = callers[credential], (cached.expiresAt ?? .infinity) > now {
                exchange.caller = cached
                remember(cached, authorization, on: exchange.connection)
            } else {
                // API keys are looked up every time (a hash and a dictionary read) so a revocation
                // takes effect as soon as the key directory refreshes.
                callers.removeValue(forKey: credential)
                do {
                    let caller = try isAPIKey ? Caller(keys.identify(credential)) : jwtCaller(credential, now: now)
                    if !isAPIKey {
                        if callers.count >= Self.maxCachedCallers { callers.removeAll(keepingCapacity: true) }
                        callers[credential] = caller
                        remember(caller, authorization, on: exchange.connection)
                    }
                    exchange.caller = caller
                } catch let error as AuthError where !error.isCredentialError {
                    logger.error("credential check failed", metadata: ["error": "\(error)", "request_id": "\(exchange.requestID)"])
                    return GatewayRefusal(status: 503, detail: "credentials cannot be checked right now: \(error)", headers: [("Retry-After", "1")])
                } catch {
                    return refuseAuthentication(exchange, "\(error)", error: "invalid_token")
                }
            }
        }
        return resolveTenant(exchange)
    }

    /// Remembers a verified JWT caller on `connection` with the bytes of its `Authorization` value.
    private func remember(_ caller: Caller, _ authorization: UnsafeRawBufferPointer?, on connection: HTTPConnection) {
        guard let authorization else { return }
        connection.lastAuthorization = Array(authorization)
        connection.lastCaller = caller
    }

    /// Sets the exchange's tenant. A verified caller's tenant is the tenant of its credentials,
    /// never the `Host`'s: a caller of another tenant than the host's is refused, and a caller
    /// whose credentials carry no tenant gets none (a mapped `Host` must not lend it one). Only
    /// an anonymous request takes the tenant the `Host` maps to, and the plugin sees it without a
    /// caller, which marks it as unverified (it selects branding, never tenant data).
    private func resolveTenant(_ exchange: HTTPExchange) -> GatewayRefusal? {
        let hostTenant = settings.tenantHosts.isEmpty ? nil : exchange.header("host").flatMap { tenantForHost(String(decoding: $0, as: UTF8.self)) }
        guard let caller = exchange.caller else {
            exchange.tenant = hostTenant
            return nil
        }
        if let own = caller.tenant, let hostTenant, own != hostTenant {
            return deny(exchange, "the caller belongs to tenant '\(own)' but this host serves tenant '\(hostTenant)'")
        }
        exchange.tenant = caller.tenant
        return nil
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, spaces and tabs around the token
    /// ignored), read from the header's bytes without Foundation's string machinery; nil for
    /// another scheme or an empty token.
    static func bearerToken(_ value: UnsafeRawBufferPointer) -> String? {
        let scheme = bearerScheme
        guard value.count > scheme.count + 1, zip(value.prefix(scheme.count), scheme).allSatisfy({ ($0 | 0x20) == $1 }),
              value[scheme.count] == 0x20 || value[scheme.count] == 0x09 else { return nil }
        let token = trimmed(UnsafeRawBufferPointer(rebasing: value[(scheme.count + 1)...]))
        return token.isEmpty ? nil : String(decoding: token, as: UTF8.self)
    }

    /// `bytes` without leading and trailing spaces and tabs.
    static func trimmed(_ bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        var start = 0, end = bytes.count
        while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
        while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    private func jwtCaller(_ token: String, now: Double) throws -> Caller {
        guard let verifier else { throw GatewayAuthError("no JWT keys are configured ([auth] jwt_hs256_secret, jwt_public_key_file or jwks_file)") }
        return Caller(try verifier.verify(token, now: now))
    }

    private func tenantForHost(_ host: String) -> String? {
        guard !settings.tenantHosts.isEmpty else { return nil }
        var name = host.lowercased()
        if name.hasPrefix("[") { return nil }
        if let colon = name.lastIndex(of: ":") { name = String(name[..<colon]) }
        return settings.tenantHosts[name]
    }

    // MARK: Access

    /// Checks `route`'s declared rules against the caller.
    func authorize(_ exchange: HTTPExchange, route: RegisteredRoute) -> GatewayRefusal? {
        let policy = route.policy
        if policy.isPublic { return nil }
        guard let caller = exchange.caller else {
            return refuseAuthentication(exchange, "\(route.method) \(route.pattern) needs credentials: a bearer JWT or an API key", error: nil)
        }
        if !policy.roles.isEmpty && caller.roles.isDisjoint(with: policy.roles) {
            return deny(exchange, "\(route.method) \(route.pattern) needs one of the roles \(policy.roles.joined(separator: ", ")); the caller has \(caller.roles.isEmpty ? "none" : caller.roles.sorted().joined(separator: ", "))")
        }
        let missing = policy.scopes.filter { !caller.scopes.contains($0) }
        if !missing.isEmpty {
            return deny(exchange, "\(route.method) \(route.pattern) needs the scope(s) \(missing.joined(separator: " "))", scope: policy.scopes.joined(separator: " "))
        }
        if policy.tenantRequired {
            guard let tenant = caller.tenant else {
                return deny(exchange, "\(route.method) \(route.pattern) serves tenant data; the caller belongs to no tenant")
            }
            if let named = exchange.parameters.first(where: { $0.name == "tenant" })?.value, named != tenant {
                return deny(exchange, "the caller belongs to tenant '\(tenant)', not '\(named)'")
            }
        }
        return nil
    }

    /// Checks a built-in endpoint's access level.
    func authorize(_ exchange: HTTPExchange, builtin access: HTTPServer.BuiltinAccess) -> GatewayRefusal? {
        switch access {
        case .public:
            return nil
        case .authenticated:
            return exchange.caller == nil ? refuseAuthentication(exchange, "\(exchange.path) needs credentials: a bearer JWT or an API key", error: nil) : nil
        case .admin, .tenantAdmin:
            guard let caller = exchange.caller else {
                return refuseAuthentication(exchange, "\(exchange.path) is an admin endpoint: it needs the admin identity", error: nil)
            }
            guard isAdmin(caller) else {
                return deny(exchange, "\(exchange.path) is an admin endpoint; the caller lacks the '\(settings.auth.adminRole)' role")
            }
            if access == .admin, let tenant = caller.tenant {
                return deny(exchange, "\(exchange.path) spans every tenant: it needs the installation's admin (the '\(settings.auth.adminRole)' role with no tenant); the caller is an admin of tenant '\(tenant)'")
            }
            return nil
        }
    }

    func isAdmin(_ caller: Caller?) -> Bool { caller?.roles.contains(settings.auth.adminRole) ?? false }

    // MARK: Rate limits

    /// Takes a token from every policy that applies; the first empty bucket refuses with 429.
    /// The tightest policy's state goes into the response's `RateLimit` headers.
    func limit(_ exchange: HTTPExchange, route: RegisteredRoute?, now: Double) -> GatewayRefusal? {
        guard !settings.rateLimits.isEmpty else { return nil }
        var tightest: RateLimitDecision?
        for policy in settings.rateLimits where applies(policy, to: route) {
            let client = policy.byIP ? "ip:" + exchange.connection.peerIP : (exchange.caller?.clientKey ?? "ip:" + exchange.connection.peerIP)
            guard let decision = try? limiter.check(policy: policy.name, client: client, now: now) else { continue }
            if !decision.allowed {
                return GatewayRefusal(status: 429, detail: "rate limit '\(policy.name)' exceeded: \(Int(policy.requests)) requests per \(Int(policy.windowSeconds)) s; retry in \(decision.retryAfterSeconds) s",
                                      headers: decision.headerFields().map { ($0.name, $0.value) })
            }
            if tightest == nil || decision.remaining < tightest!.remaining { tightest = decision }
        }
        if let tightest {
            exchange.extraHeaders.append(("RateLimit-Policy", tightest.rateLimitPolicyValue))
            exchange.extraHeaders.append(("RateLimit", tightest.rateLimitValue))
        }
        return nil
    }

    private func applies(_ policy: GatewaySettings.RateLimit, to route: RegisteredRoute?) -> Bool {
        switch policy.scope {
        case .all: return true
        case .plugin(let name): return route?.plugin.name == name
        case let .route(method, pattern): return route.map { $0.method == method && $0.pattern.text == pattern } ?? false
        }
    }

    /// Forgets idle rate-limit buckets and expired cached callers (run every few seconds).
    func sweep(now: Double) {
        _ = limiter.sweep(now: now)
        if now - refusalWindowStart >= 1 { flushSuppressedRefusals(now: now) }
        if callers.count > Self.maxCachedCallers / 2 {
            callers = callers.filter { ($0.value.expiresAt ?? .infinity) > now }
        }
    }

    // MARK: Resilience

    /// Attaches a circuit breaker and the plugin's bulkhead to `route` (when the routes are mounted).
    func guardRoute(_ route: RegisteredRoute) {
        let resilience = settings.resilience(for: route.plugin.name)
        do {
            let bulkhead = try bulkheads[route.plugin.name] ?? Bulkhead(maxConcurrent: max(1, resilience.maxConcurrent))
            bulkheads[route.plugin.name] = bulkhead
            let breaker = try CircuitBreaker(name: "\(route.plugin.name) \(route.method) \(route.pattern)", configuration: CircuitBreakerConfiguration(
                windowSeconds: Double(resilience.breakerWindowSeconds), bucketCount: min(10, max(1, resilience.breakerWindowSeconds)),
                minimumRequests: resilience.breakerMinimumRequests, failureRatio: resilience.breakerFailureRatio,
                openSeconds: resilience.breakerOpenSeconds, halfOpenProbes: resilience.breakerProbes))
            let timeout = route.policy.timeoutMilliseconds > 0 ? route.policy.timeoutMilliseconds : resilience.timeoutMilliseconds
            route.guardState = RouteGuard(breaker: breaker, bulkhead: bulkhead, timeoutMilliseconds: timeout)
            breaker.onStateChange = { [unowned self, unowned route] from, to, reason in
                circuitChanged?(route, from, to, reason)
            }
        } catch {
            logger.error("route runs without a circuit breaker or bulkhead", metadata: ["route": "\(route.method) \(route.pattern)", "error": "\(error)"])
        }
    }

    /// Takes a bulkhead slot and a breaker permit for a request to `route`, or refuses with 503.
    func enter(_ exchange: HTTPExchange, route: RegisteredRoute, now: Double) -> GatewayRefusal? {
        guard let state = route.guardState else { return nil }
        guard state.bulkhead.tryEnter() else {
            return GatewayRefusal(status: 503, detail: "plugin '\(route.plugin.name)' already has \(state.bulkhead.maxConcurrent) requests in flight (its bulkhead limit)",
                                  headers: [("Retry-After", "1")])
        }
        do {
            exchange.permit = try state.breaker.acquire(now: now)
            exchange.guarded = true
            return nil
        } catch {
            state.bulkhead.leave()
            let seconds = error.retryAfterHeaderSeconds
            return GatewayRefusal(status: 503, detail: "the circuit of \(route.method) \(route.pattern) (plugin '\(route.plugin.name)') is open after repeated failures; retry in \(seconds) s",
                                  headers: [("Retry-After", "\(seconds)")])
        }
    }

    /// Gives back what ``enter(_:route:now:)`` took: a 5xx answer or a timeout counts as a failure.
    func leave(_ exchange: HTTPExchange, route: RegisteredRoute, success: Bool, now: Double) {
        guard exchange.guarded, let state = route.guardState else { return }
        exchange.guarded = false
        state.bulkhead.leave()
        if let permit = exchange.permit { state.breaker.complete(permit, success: success, now: now) }
        exchange.permit = nil
    }

    // MARK: CORS

    /// Adds the CORS headers for an allowed `Origin` to the exchange's response.
    func applyCORS(_ exchange: HTTPExchange) {
        guard settings.cors.isEnabled, let origin = exchange.header("origin").map({ String(decoding: $0, as: UTF8.self) }),
              settings.cors.allows(origin) else { return }
        exchange.extraHeaders.append(("Access-Control-Allow-Origin", settings.cors.allowedOrigins.contains("*") ? "*" : origin))
        exchange.extraHeaders.append(("Vary", "Origin"))
        exchange.extraHeaders.append(("Access-Control-Expose-Headers", "RateLimit, RateLimit-Policy, Retry-After, X-Request-Id, WWW-Authenticate"))
        if settings.cors.allowCredentials { exchange.extraHeaders.append(("Access-Control-Allow-Credentials", "true")) }
    }

    /// The answer to a CORS preflight (`OPTIONS` with `Access-Control-Request-Method`), or nil
    /// when the request is not one.
    func preflight(_ exchange: HTTPExchange, allowedMethods: [String]) -> (status: Int, headers: [(String, String)])? {
        guard exchange.method == "OPTIONS", exchange.header("access-control-request-method") != nil,
              let origin = exchange.header("origin").map({ String(decoding: $0, as: UTF8.self) }) else { return nil }
        guard settings.cors.isEnabled, settings.cors.allows(origin) else {
            return (403, [])
        }
        var headers: [(String, String)] = [
            ("Access-Control-Allow-Origin", settings.cors.allowedOrigins.contains("*") ? "*" : origin), ("Vary", "Origin"),
            ("Access-Control-Allow-Methods", allowedMethods.joined(separator: ", ")),
            ("Access-Control-Allow-Headers", settings.cors.allowedHeaders),
            ("Access-Control-Max-Age", "\(settings.cors.maxAgeSeconds)"),
        ]
        if settings.cors.allowCredentials { headers.append(("Access-Control-Allow-Credentials", "true")) }
        return (204, headers)
    }

    // MARK: Audit

    /// Refusals (401/403) audited one by one per second; beyond that they are counted and
    /// summarised, so a flood of bad credentials costs neither the loop nor the disk much.
    static let auditedRefusalsPerSecond = 200
    private var refusalWindowStart = 0.0
    private var refusalsInWindow = 0
    private var suppressedRefusals = 0

    /// Writes the summary of refusals left out of the audit log in the last window, if any.
    private func flushSuppressedRefusals(now: Double) {
        guard suppressedRefusals > 0 else { return }
        audit.append(AuditRecord(time: now, actor: "plexus", actorKind: .system, action: .authFailure, outcome: .failure,
                                 detail: "\(suppressedRefusals) more authentication failures and refusals in one second were counted, not recorded one by one"))
        suppressedRefusals = 0
    }

    /// Records an audited action (auth failures, admin actions, circuit changes).
    func record(_ action: AuditAction, outcome: AuditOutcome, exchange: HTTPExchange?, target: String? = nil, detail: String) {
        if action == .authFailure || action == .authDenied {
            let now = Date().timeIntervalSince1970
            if now - refusalWindowStart >= 1 {
                flushSuppressedRefusals(now: now)
                refusalWindowStart = now
                refusalsInWindow = 0
            }
            refusalsInWindow += 1
            if refusalsInWindow > Self.auditedRefusalsPerSecond {
                suppressedRefusals += 1
                return
            }
        }
        let actor = exchange?.caller?.subject ?? exchange.map { "ip:" + $0.connection.peerIP } ?? "plexus"
        let kind: AuditActorKind = exchange.map { $0.caller == nil ? .anonymous : $0.caller!.method == .apiKey ? .apiKey : .subject } ?? .system
        audit.append(AuditRecord(time: Date().timeIntervalSince1970, actor: actor, actorKind: kind, action: action, target: target,
                                 outcome: outcome, requestID: exchange?.requestID, tenant: exchange?.tenant, detail: detail))
    }

    private func refuseAuthentication(_ exchange: HTTPExchange, _ detail: String, error: String?) -> GatewayRefusal {
        record(.authFailure, outcome: .failure, exchange: exchange, target: "\(exchange.method) \(exchange.path)", detail: detail)
        return .unauthenticated(detail, error: error)
    }

    private func deny(_ exchange: HTTPExchange, _ detail: String, scope: String? = nil) -> GatewayRefusal {
        record(.authDenied, outcome: .denied, exchange: exchange, target: "\(exchange.method) \(exchange.path)", detail: detail)
        return .forbidden(detail, scope: scope)
    }

    private static func makeVerifier(_ auth: GatewaySettings.Auth) throws -> JWTVerifier? {
        guard auth.hasJWTKeys else { return nil }
        var keys: [JWTSettings.KeySource] = []
        if let secret = auth.hs256Secret { keys.append(.hmacSecret(secret, kid: nil)) }
        if let file = auth.publicKeyFile {
            keys.append(.pemFile(file, algorithm: auth.publicKeyAlgorithm == "ES256" ? .es256 : .rs256, kid: nil))
        }
        if let file = auth.jwksFile { keys.append(.jwksFile(file)) }
        // The gateway keeps its own cache of verified callers; the verifier's would be a second copy.
        let settings = JWTSettings(keys: keys, issuer: auth.issuer, audiences: auth.audiences, leeway: auth.leewaySeconds,
                                   tenantClaim: auth.tenantClaim, rolesClaim: auth.rolesClaim, cacheCapacity: 0)
        do {
            let verifier = try JWTVerifier(settings: settings)
            for warning in verifier.warnings { Logger(label: "plexus.gateway").warning("\(warning)") }
            return verifier
        } catch {
            throw RuntimeError.config("[auth]: \(error)")
        }
    }
}

/// A route's circuit breaker, its plugin's bulkhead and its timeout.
final class RouteGuard {
    let breaker: CircuitBreaker
    let bulkhead: Bulkhead
    let timeoutMilliseconds: UInt64

    init(breaker: CircuitBreaker, bulkhead: Bulkhead, timeoutMilliseconds: UInt64) {
        self.breaker = breaker
        self.bulkhead = bulkhead
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

/// A credential problem found by the gateway itself (not by the verifier).
struct GatewayAuthError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
