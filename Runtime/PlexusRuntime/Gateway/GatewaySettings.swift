import Foundation

/// The gateway's configuration: identity, tenants, rate limits, resilience, CORS, audit.
///
/// ```toml
/// [auth]
/// jwt_hs256_secret_file = "secrets/jwt.key"   # or jwt_hs256_secret = "…" (32 bytes or more)
/// jwt_public_key_file = "keys/issuer.pem"     # RS256 or ES256, see jwt_public_key_alg
/// jwt_public_key_alg = "RS256"
/// jwks_file = "keys/jwks.json"
/// issuer = "https://id.example.com"
/// audience = "plexus"                         # comma-separated; a token needs one of them
/// leeway_s = 30
/// tenant_claim = "tenant"
/// roles_claim = "roles"
/// admin_role = "admin"
/// forward_credentials = "plugin:NAME"         # routes that still receive Authorization / X-API-Key (never the admin key)
///
/// [tenants.hosts]                             # white-label domains
/// "docs.acme.example" = "acme"
///
/// [rate_limits.api]                           # one table per policy
/// requests = 100                              # tokens per window
/// window_s = 1
/// burst = 200                                 # bucket size (default: requests)
/// applies_to = "*"                            # "*", "plugin:NAME" or "route:METHOD /pattern"
/// key = "client"                              # "client" (key id, subject, else IP) or "ip"
///
/// [resilience]                                # defaults for every plugin
/// timeout_ms = 30000
/// max_concurrent = 1024                       # bulkhead per plugin
/// breaker_failure_ratio = 0.5
/// breaker_window_s = 10
/// breaker_min_requests = 20
/// breaker_open_s = 5
/// breaker_probes = 1
/// [resilience.plugins.NAME]                   # the same keys, for one plugin
///
/// [cors]
/// allowed_origins = "https://app.example.com"  # comma-separated, or "*"
/// allowed_headers = "authorization, content-type, x-api-key, x-request-id"
/// allow_credentials = false
/// max_age_s = 600
///
/// [security]
/// headers = true                              # security headers on every response
/// hsts = false                                # add Strict-Transport-Security (behind a TLS proxy)
///
/// [audit]
/// retention_days = 90
/// ```
public struct GatewaySettings: Sendable {
    /// `[auth]`: where JWT keys come from and which claims mean what.
    public struct Auth: Sendable {
        public var hs256Secret: String?
        public var publicKeyFile: String?
        public var publicKeyAlgorithm = "RS256"
        public var jwksFile: String?
        public var issuer: String?
        public var audiences: [String] = []
        public var leewaySeconds: Double = 30
        public var tenantClaim = "tenant"
        public var rolesClaim = "roles"
        public var adminRole = "admin"
        /// The plugins and routes that still receive the `Authorization` and `X-API-Key` headers
        /// the gateway consumed (``CredentialForwarding``); none by default.
        var forwardCredentials: [CredentialForwarding.Selector] = []
        /// Whether any JWT key is configured.
        public var hasJWTKeys: Bool { hs256Secret != nil || publicKeyFile != nil || jwksFile != nil }
    }

    /// One `[rate_limits.NAME]` table.
    public struct RateLimit: Sendable {
        public enum Scope: Sendable, Equatable {
            case all
            case plugin(String)
            case route(method: String, pattern: String)
        }
        public var name: String
        public var requests: Double
        public var windowSeconds: Double
        public var burst: Double
        public var scope: Scope
        /// `true`: keyed by peer IP only; `false`: by API key id or subject, else IP.
        public var byIP: Bool
    }

    /// `[resilience]` values, the defaults and per-plugin overrides.
    public struct Resilience: Sendable {
        public var timeoutMilliseconds: UInt64 = 30_000
        public var maxConcurrent = 1024
        public var breakerFailureRatio = 0.5
        public var breakerWindowSeconds = 10
        public var breakerMinimumRequests = 20
        public var breakerOpenSeconds: Double = 5
        public var breakerProbes = 1
    }

    /// `[cors]`.
    public struct CORS: Sendable {
        public var allowedOrigins: [String] = []
        public var allowedHeaders = "authorization, content-type, x-api-key, x-request-id, last-event-id"
        public var allowCredentials = false
        public var maxAgeSeconds = 600
        public var isEnabled: Bool { !allowedOrigins.isEmpty }

        /// Whether `origin` may read responses.
        public func allows(_ origin: String) -> Bool {
            allowedOrigins.contains("*") || allowedOrigins.contains(origin)
        }
    }

    public var auth = Auth()
    /// `[tenants.hosts]`: lower-case host name (no port) → tenant.
    public var tenantHosts: [String: String] = [:]
    /// `[tenants] directory_plugins`: plugins allowed to publish the run-time tenant directory and
    /// to create tenant API keys (ABI 1.7). The shipped white-label plugin by default, so it runs on
    /// built-in defaults; `directory_plugins = ""` grants none.
    public var tenantDirectoryPlugins: [String] = ["whitelabel"]
    public var rateLimits: [RateLimit] = []
    public var resilience = Resilience()
    public var pluginResilience: [String: Resilience] = [:]
    public var cors = CORS()
    public var securityHeaders = true
    public var hsts = false
    public var auditRetentionDays = 90

    public init() {}

    /// Reads the gateway's tables from flattened TOML `values` (keys relative to the file's root);
    /// paths are resolved against `base`.
    init(values: [String: String], file: String, base: URL) throws {
        func fail(_ key: String, _ wanted: String, _ text: String) -> RuntimeError {
            RuntimeError.config("\(file): \(key) must be \(wanted), found '\(text)'")
        }
        func number(_ key: String, _ text: String) throws -> Double {
            guard let value = Double(text), value >= 0, value.isFinite else { throw fail(key, "a non-negative number", text) }
            return value
        }
        func path(_ text: String) -> String { URL(fileURLWithPath: text, relativeTo: base).standardizedFileURL.path }
        var limits: [String: [String: String]] = [:]
        var overrides: [String: [String: String]] = [:]
        for (key, text) in values.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: ".", maxSplits: 2).map(String.init)
            switch (parts.first, parts.count) {
            case ("auth", 2):
                switch parts[1] {
                case "jwt_hs256_secret": auth.hs256Secret = text
                case "jwt_hs256_secret_file":
                    guard let secret = try? String(contentsOfFile: path(text), encoding: .utf8) else {
                        throw RuntimeError.config("\(file): auth.jwt_hs256_secret_file '\(text)' cannot be read")
                    }
                    auth.hs256Secret = secret.trimmingCharacters(in: .whitespacesAndNewlines)
                case "jwt_public_key_file": auth.publicKeyFile = path(text)
                case "jwt_public_key_alg":
                    guard ["RS256", "ES256"].contains(text) else { throw fail(key, "RS256 or ES256", text) }
                    auth.publicKeyAlgorithm = text
                case "jwks_file": auth.jwksFile = path(text)
                case "issuer": auth.issuer = text
                case "audience": auth.audiences = Self.list(text)
                case "leeway_s": auth.leewaySeconds = try number(key, text)
                case "tenant_claim": auth.tenantClaim = text
                case "roles_claim": auth.rolesClaim = text
                case "admin_role": auth.adminRole = text
                case "forward_credentials":
                    do { auth.forwardCredentials = try CredentialForwarding.parse(text) } catch {
                        throw RuntimeError.config("\(file): auth.forward_credentials: \(error)")
                    }
                default: throw RuntimeError.config("\(file): unknown setting \(key)")
                }
            case ("tenants", 3) where parts[1] == "hosts":
                tenantHosts[parts[2].lowercased()] = text
            case ("tenants", 2) where parts[1] == "directory_plugins":
                tenantDirectoryPlugins = Self.list(text)
            case ("rate_limits", 3):
                limits[parts[1], default: [:]][parts[2]] = text
            case ("resilience", 2):
                try Self.apply(parts[1], text, to: &resilience, key: key, file: file)
            case ("resilience", 3) where parts[1] == "plugins":
                let rest = parts[2].split(separator: ".", maxSplits: 1).map(String.init)
                guard rest.count == 2 else { throw RuntimeError.config("\(file): \(key) is not resilience.plugins.NAME.SETTING") }
                overrides[rest[0], default: [:]][rest[1]] = text
            case ("cors", 2):
                switch parts[1] {
                case "allowed_origins": cors.allowedOrigins = Self.list(text)
                case "allowed_headers": cors.allowedHeaders = text
                case "allow_credentials":
                    guard let value = Bool(text) else { throw fail(key, "true or false", text) }
                    cors.allowCredentials = value
                case "max_age_s": cors.maxAgeSeconds = Int(try number(key, text))
                default: throw RuntimeError.config("\(file): unknown setting \(key)")
                }
            case ("security", 2):
                guard let value = Bool(text) else { throw fail(key, "true or false", text) }
                switch parts[1] {
                case "headers": securityHeaders = value
                case "hsts": hsts = value
                default: throw RuntimeError.config("\(file): unknown setting \(key)")
                }
            case ("audit", 2) where parts[1] == "retention_days":
                auditRetentionDays = Int(try number(key, text))
            default:
                throw RuntimeError.config("\(file): unknown setting \(key)")
            }
        }
        if cors.allowCredentials && cors.allowedOrigins.contains("*") {
            throw RuntimeError.config("\(file): cors.allow_credentials = true cannot be combined with allowed_origins = \"*\"; list the origins")
        }
        for (plugin, table) in overrides {
            var settings = resilience
            for (name, text) in table { try Self.apply(name, text, to: &settings, key: "resilience.plugins.\(plugin).\(name)", file: file) }
            pluginResilience[plugin] = settings
        }
        for (name, table) in limits.sorted(by: { $0.key < $1.key }) {
            rateLimits.append(try Self.rateLimit(name, table, file: file))
        }
    }

    /// The resilience settings of `plugin`.
    func resilience(for plugin: String) -> Resilience { pluginResilience[plugin] ?? resilience }

    private static func list(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    private static func apply(_ name: String, _ text: String, to settings: inout Resilience, key: String, file: String) throws {
        func integer() throws -> Int {
            guard let value = Int(text), value >= 0 else { throw RuntimeError.config("\(file): \(key) must be a non-negative integer, found '\(text)'") }
            return value
        }
        switch name {
        case "timeout_ms": settings.timeoutMilliseconds = UInt64(try integer())
        case "max_concurrent": settings.maxConcurrent = try integer()
        case "breaker_failure_ratio":
            guard let value = Double(text), value > 0, value <= 1 else { throw RuntimeError.config("\(file): \(key) must be a number in (0, 1], found '\(text)'") }
            settings.breakerFailureRatio = value
        case "breaker_window_s": settings.breakerWindowSeconds = max(1, try integer())
        case "breaker_min_requests": settings.breakerMinimumRequests = max(1, try integer())
        case "breaker_open_s":
            guard let value = Double(text), value > 0 else { throw RuntimeError.config("\(file): \(key) must be a positive number, found '\(text)'") }
            settings.breakerOpenSeconds = value
        case "breaker_probes": settings.breakerProbes = max(1, try integer())
        default: throw RuntimeError.config("\(file): unknown setting \(key)")
        }
    }

    private static func rateLimit(_ name: String, _ table: [String: String], file: String) throws -> RateLimit {
        let known: Set = ["requests", "window_s", "burst", "applies_to", "key"]
        if let unknown = table.keys.first(where: { !known.contains($0) }) {
            throw RuntimeError.config("\(file): unknown setting rate_limits.\(name).\(unknown)")
        }
        guard let requests = table["requests"].flatMap(Double.init), requests > 0 else {
            throw RuntimeError.config("\(file): rate_limits.\(name).requests must be a positive number")
        }
        let window = try table["window_s"].map { text -> Double in
            guard let value = Double(text), value > 0 else { throw RuntimeError.config("\(file): rate_limits.\(name).window_s must be a positive number, found '\(text)'") }
            return value
        } ?? 1
        let burst = try table["burst"].map { text -> Double in
            guard let value = Double(text), value >= 1 else { throw RuntimeError.config("\(file): rate_limits.\(name).burst must be at least 1, found '\(text)'") }
            return value
        } ?? requests
        let scopeText = table["applies_to"] ?? "*"
        let scope: RateLimit.Scope
        if scopeText == "*" {
            scope = .all
        } else if scopeText.hasPrefix("plugin:") {
            scope = .plugin(String(scopeText.dropFirst(7)))
        } else if scopeText.hasPrefix("route:"), let space = scopeText.dropFirst(6).firstIndex(of: " ") {
            scope = .route(method: String(scopeText[scopeText.index(scopeText.startIndex, offsetBy: 6)..<space]).uppercased(),
                           pattern: String(scopeText[scopeText.index(after: space)...]))
        } else {
            throw RuntimeError.config("\(file): rate_limits.\(name).applies_to must be \"*\", \"plugin:NAME\" or \"route:METHOD /pattern\", found '\(scopeText)'")
        }
        let key = table["key"] ?? "client"
        guard key == "client" || key == "ip" else {
            throw RuntimeError.config("\(file): rate_limits.\(name).key must be \"client\" or \"ip\", found '\(key)'")
        }
        return RateLimit(name: name, requests: requests, windowSeconds: window, burst: burst, scope: scope, byIP: key == "ip")
    }
}
