import ComplianceEngine
import Foundation
import PlexusSDK

/// The plugin's routes.
extension CompliancePlugin {
    static let prefix = "/api/v1/compliance"

    func registerRoutes() throws {
        let limit = UInt64(maxBodyBytes)
        try context.routes.post("\(Self.prefix)/scan", options: .tenant.summary("Finds personal data and rule violations"),
                                maxBodyBytes: limit) { [unowned self] request async throws in
            try await scan(request, redact: false)
        }
        try context.routes.post("\(Self.prefix)/redact", options: .tenant.summary("Replaces personal data (mask, type or keyed hash)"),
                                maxBodyBytes: limit) { [unowned self] request async throws in
            try await scan(request, redact: true)
        }
        try context.routes.on(.put, "\(Self.prefix)/packs/:id", options: RouteOptions(roles: ["admin"], tenantRequired: true).summary("Adds or replaces a tenant's rule pack"),
                              maxBodyBytes: UInt64(PackLoader.maxBytes)) { [unowned self] request async throws in
            try await putPack(request)
        }
        try context.routes.get("\(Self.prefix)/packs/:id", options: .tenant.summary("A rule pack as stored")) { [unowned self] request async throws in
            try await getPack(request)
        }
    }

    /// The packs a request names (all packs in force when it names none); 404 for an unknown id.
    func packs(_ ids: [String]?, tenant: String) async throws -> [RulePack] {
        let storage = context.storage.tenant(tenant)
        // Tenant packs are parsed and tested once per stored version (off the loop), then kept.
        var cached = tenantPacks[tenant] ?? [:]
        var fresh: [String: (version: Int64, pack: RulePack)] = [:]
        var stale: [StoredValue] = []
        for stored in try await storage.list(prefix: "pack/", limit: 1000) {
            if let hit = cached[stored.key], hit.version == stored.version { fresh[stored.key] = hit } else { stale.append(stored) }
        }
        if !stale.isEmpty {
            let toLoad = stale
            let loaded = try await context.offLoop { toLoad.compactMap { stored in (try? PackLoader.load(stored.value)).map { (stored.key, stored.version, $0) } } }
            for (key, version, pack) in loaded { fresh[key] = (version, pack) }
        }
        cached = fresh
        tenantPacks[tenant] = cached
        var own: [String: RulePack] = [:]
        for entry in cached.values { own[entry.pack.id] = entry.pack }
        let all = shipped.merging(own) { $1 }
        guard let ids else {
            let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
            return all.values.filter { $0.isEffective(on: today) }.sorted { $0.id < $1.id }
        }
        return try ids.map { id in
            guard let pack = all[id] else { throw HTTPError.notFound("field 'packs': no rule pack '\(id.prefix(80))'; known: \(all.keys.sorted().joined(separator: ", "))") }
            return pack
        }
    }

    /// `POST …/scan` and `POST …/redact`.
    func scan(_ request: Request, redact: Bool) async throws -> Response {
        let tenant = try request.requireTenant()
        let limit = maxBodyBytes
        let input = try await context.offLoop { try ScanInput.decode(request, maxTextBytes: limit) }
        let chosen = try await packs(input.packs, tenant: tenant)
        let key = redact && input.mode == .hash ? try await redactionKey(tenant) : []
        let mode = input.mode ?? .type
        let (result, redaction) = try await context.offLoop { () -> (CheckResult, (text: String, replacements: [Replacement])?) in
            let result = PackChecker.check(input.text, packs: chosen, ageDays: input.ageDays)
            return (result, redact ? Redactor.redact(input.text, entities: result.entities, mode: mode, key: key) : nil)
        }
        await publish(result, tenant: tenant)
        if let redaction {
            struct Redacted: Encodable { var text: String; var mode: String; var replacements: [Replacement]; var packs: [String] }
            return try .json(Redacted(text: redaction.text, mode: mode.rawValue, replacements: redaction.replacements, packs: result.packs))
        }
        return try .json(result)
    }

    /// The tenant's HMAC key for hashed redaction, created (32 random bytes) on first use.
    func redactionKey(_ tenant: String) async throws -> [UInt8] {
        let storage = context.storage.tenant(tenant)
        if let stored = try await storage.get("redaction-key") { return stored.value }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        _ = try await storage.put("redaction-key", key, expectedVersion: 0)
        return try await storage.get("redaction-key")?.value ?? key
    }

    /// `compliance.checked` always; `compliance.violation` when something is violated, with the
    /// worst severity in the payload and as the event's priority (low 0 … critical 3).
    func publish(_ result: CheckResult, tenant: String, document: String? = nil, version: Int? = nil) async {
        struct Checked: Encodable { var tenant: String; var document: String?; var version: Int?; var packs: [String]; var entities: Int; var violations: Int }
        struct Violated: Encodable { var tenant: String; var document: String?; var version: Int?; var severity: Severity; var violations: [Violation] }
        do {
            try await context.bus.publish("compliance.checked", json: Checked(tenant: tenant, document: document, version: version, packs: result.packs,
                                                                              entities: result.entities.count, violations: result.violations.count),
                                          tenant: tenant)
            if let worst = result.violations.map(\.severity).max() {
                try await context.bus.publish("compliance.violation", json: Violated(tenant: tenant, document: document, version: version, severity: worst,
                                                                                    violations: result.violations),
                                              tenant: tenant, priority: Severity.allCases.firstIndex(of: worst)!)
                raiseAlert(worst, result.violations, tenant: tenant, document: document, version: version)
            }
        } catch {
            context.logger.warning("compliance events were not published", metadata: ["error": "\(error)"])
        }
    }

    /// The runtime's alert tier of a violation's severity: low → info, medium → warning,
    /// high → error, critical → critical.
    static func alertTier(_ severity: Severity) -> AlertSeverity {
        switch severity {
        case .low: .info
        case .medium: .warning
        case .high: .error
        case .critical: .critical
        }
    }

    /// Raises `compliance.violation` in the runtime's alert tiers at the worst severity found; a
    /// refused alert (an older runtime) is logged, the check's results stand.
    func raiseAlert(_ worst: Severity, _ violations: [Violation], tenant: String, document: String?, version: Int?) {
        let rules = Set(violations.map(\.rule)).sorted().prefix(10).joined(separator: ", ")
        let subject = document.map { "document '\($0)'" + (version.map { " version \($0)" } ?? "") } ?? "a scan"
        let detail = String("tenant '\(tenant)', \(subject): \(violations.count) violation(s), worst \(worst.rawValue) (\(rules))".utf8.prefix(1000))
            ?? "tenant '\(tenant)': \(violations.count) violation(s), worst \(worst.rawValue)"
        do {
            try context.metrics.alert(Self.alertTier(worst), "compliance.violation", detail: detail)
        } catch {
            context.logger.warning("compliance alert was not raised", metadata: ["error": "\(error)"])
        }
    }

    /// `PUT …/packs/:id`: loads and tests the pack off the loop, then stores it for the tenant.
    func putPack(_ request: Request) async throws -> Response {
        let tenant = try request.requireTenant()
        let id = request.parameters["id"] ?? ""
        let body = request.body
        let pack = try await context.offLoop { () throws -> RulePack in
            do { return try PackLoader.load(body) } catch let error as PackError {
                // Unreadable JSON is a bad request; a readable pack that is wrong or fails its tests is unprocessable.
                throw HTTPError(status: error.kind == .syntax ? 400 : 422, detail: "rule pack refused: \(error)")
            }
        }
        guard pack.id == id else { throw HTTPError.badRequest("path id '\(id.prefix(80))' differs from the pack's id '\(pack.id)'") }
        _ = try await context.storage.tenant(tenant).put("pack/\(id)", body)
        struct Stored: Encodable { var id: String; var version: Int; var reference: String; var tests: Int }
        return try .json(Stored(id: pack.id, version: pack.version, reference: pack.reference, tests: pack.tests.count), status: 201)
    }

    /// `GET …/packs/:id`: the tenant's own pack, else the shipped one, as JSON.
    func getPack(_ request: Request) async throws -> Response {
        let tenant = try request.requireTenant()
        let id = request.parameters["id"] ?? ""
        let source: String
        if let stored = try await context.storage.tenant(tenant).get("pack/\(id)") {
            source = String(decoding: stored.value, as: UTF8.self)
        } else if let pack = shipped[id] {
            source = pack.source
        } else {
            throw HTTPError.notFound("no rule pack '\(id.prefix(80))'")
        }
        return Response(status: 200, headers: Headers([("Content-Type", "application/json")]), body: Array(source.utf8))
    }
}
