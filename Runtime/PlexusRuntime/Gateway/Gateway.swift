import Foundation
import Logging
import PlexusAuth
import PlexusPolicy
import PlexusStorage

/// The runtime's API gateway: its stores (API keys, audit log), its settings, and the stages
/// it puts in front of every plugin route and built-in endpoint (CORS, authenticate, tenant,
/// authorise, rate limit, resilience; see ``RequestPipeline``). Loop thread only.
final class Gateway {
    let settings: GatewaySettings
    let logger: Logger
    let keys: APIKeyDirectory
    let keyStore: APIKeyStore
    let audit: AuditLog
    /// Audited actions, with refusals throttled.
    let trail: AuditTrail
    /// Single-use tickets for browsers' live-event streams.
    let streamTickets = StreamTickets()

    let cors: CORSStage
    let authenticate: AuthenticateStage
    let tenant: TenantStage
    let authorise: AuthoriseStage
    let rateLimit: RateLimitStage
    let resilience: ResilienceStage

    /// Opens the gateway's stores under `<data>/runtime/` (API keys, audit log); with `postgres`
    /// (`[cluster] postgres`) both live on that database instead, shared by every instance.
    /// Blocks, so it is called before the loop runs.
    static func open(settings: GatewaySettings, dataDirectory: URL, logger: Logger, tenantDirectory: TenantDirectory = TenantDirectory(),
                     postgres: PostgresSettings? = nil) throws -> Gateway {
        let directory = dataDirectory.appendingPathComponent("runtime")
        let keyPath = directory.appendingPathComponent("gateway.sqlite").path
        let auditPath = directory.appendingPathComponent("audit.sqlite").path
        let retention = Double(settings.auditRetentionDays)
        let (store, audit) = try blockingAwait {
            let store: APIKeyStore
            if let postgres { store = try await APIKeyStore.open(postgres: postgres) } else { store = try await APIKeyStore.open(path: keyPath) }
            let configuration = AuditLogConfiguration(retentionDays: retention, droppableActions: [.authFailure, .authDenied])
            let audit: AuditLog
            if let postgres {
                audit = try await AuditLog.open(postgres: postgres, configuration: configuration)
            } else {
                audit = try await AuditLog.open(path: auditPath, configuration: configuration)
            }
            return (store, audit)
        }
        return try Gateway(settings: settings, keyStore: store, audit: audit, logger: logger, tenantDirectory: tenantDirectory)
    }

    init(settings: GatewaySettings, keyStore: APIKeyStore, audit: AuditLog, logger: Logger, tenantDirectory: TenantDirectory = TenantDirectory()) throws {
        self.settings = settings
        self.logger = logger
        self.keyStore = keyStore
        keys = APIKeyDirectory(store: keyStore)
        self.audit = audit
        trail = AuditTrail(log: audit)
        cors = CORSStage(settings: settings.cors)
        authenticate = AuthenticateStage(verifier: try Self.makeVerifier(settings.auth), keys: keys, tickets: streamTickets, audit: trail, logger: logger)
        tenant = TenantStage(tenantHosts: settings.tenantHosts, directory: tenantDirectory, audit: trail)
        authorise = AuthoriseStage(adminRole: settings.auth.adminRole, audit: trail)
        rateLimit = try RateLimitStage(policies: settings.rateLimits)
        resilience = ResilienceStage(settings: settings, logger: logger)
    }

    func isAdmin(_ caller: Caller?) -> Bool { authorise.isAdmin(caller) }

    /// Forgets idle rate-limit buckets and expired cached callers, and writes the summary of
    /// throttled refusals (run every few seconds).
    func sweep(now: Double) {
        rateLimit.sweep(now: now)
        trail.sweep(now: now)
        authenticate.sweep(now: now)
    }

    /// Records an audited action (auth failures, admin actions, circuit changes).
    func record(_ action: AuditAction, outcome: AuditOutcome, exchange: RequestContext?, target: String? = nil, detail: String) {
        trail.record(action, outcome: outcome, request: exchange, target: target, detail: detail)
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
