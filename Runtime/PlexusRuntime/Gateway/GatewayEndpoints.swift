import Foundation
import Logging
import PlexusAuth
import PlexusPolicy

/// The gateway's own endpoints: the OpenAPI document (public), and for the admin identity the
/// audit log, API keys and reload.
enum GatewayEndpoints {
    static func install(on routes: RouteRegistry, loop: EventLoop, gateway: Gateway, supervised: Bool) {
        routes.addBuiltin("GET", "/openapi.json", BuiltinEndpoint(access: .public, summary: "This document") { [unowned routes, unowned gateway] _ in
            BuiltinResponse(status: 200, headers: [("Content-Type", "application/json")],
                                       body: OpenAPIDocument.render(routes: routes, adminRole: gateway.settings.auth.adminRole, runtimeVersion: Runtime.version))
        })
        routes.addBuiltin("GET", "/admin/audit", BuiltinEndpoint(access: .tenantAdmin, summary: "The audit log, newest first") { [unowned gateway] exchange, respond in
            var query: AuditQuery
            do { query = try auditQuery(QueryParameters(exchange.query)) } catch {
                return respond(.problem(400, "\(error)", exchange))
            }
            // A tenant's admin reads its tenant's records only.
            if let caller = exchange.caller, let tenant = KeyAuthority(caller).tenant { query.tenant = tenant }
            let scoped = query
            let audit = gateway.audit
            loop.async({ () async throws -> AuditPage in
                try await audit.flush()
                return try await audit.query(scoped)
            }, then: { result in
                switch result {
                case .success(let page):
                    var body: [String: Any] = ["records": page.records.map(auditJSON)]
                    if let cursor = page.nextCursor { body["next_cursor"] = cursor }
                    respond(.json(body))
                case .failure(let error):
                    respond(.internalFailure(500, "audit query failed", error, exchange, logger: gateway.logger))
                }
            })
        })
        routes.addBuiltin("GET", "/admin/api-keys", BuiltinEndpoint(access: .tenantAdmin, summary: "API keys") { [unowned gateway] exchange, respond in
            let store = gateway.keyStore
            guard let caller = exchange.caller else { return respond(.problem(401, "no caller", exchange)) }
            let authority = KeyAuthority(caller)
            loop.async({ try await store.list() }, then: { result in
                switch result {
                case .success(let records): respond(.json(records.filter(authority.reaches).map(keyJSON)))
                case .failure(let error): respond(.internalFailure(500, "listing API keys failed", error, exchange, logger: gateway.logger))
                }
            })
        })
        routes.addBuiltin("POST", "/admin/api-keys", BuiltinEndpoint(access: .tenantAdmin, summary: "API keys", successStatus: 201, deferred: { [unowned gateway] exchange, respond in
            guard let object = (try? JSONSerialization.jsonObject(with: Data(exchange.body.slice(0..<exchange.body.count)))) as? [String: Any],
                  let name = object["name"] as? String else {
                return respond(.problem(400, #"body must be a JSON object such as {"name": "billing", "tenant": "acme", "roles": ["reader"], "scopes": []}"#, exchange))
            }
            let roles = Set(object["roles"] as? [String] ?? [])
            let scopes = Set(object["scopes"] as? [String] ?? [])
            guard let caller = exchange.caller else { return respond(.problem(401, "no caller", exchange)) }
            let tenant: String?
            do {
                tenant = try KeyAuthority(caller).tenantForNewKey(requested: object["tenant"] as? String, roles: roles, scopes: scopes)
            } catch {
                gateway.record(.apiKeyCreate, outcome: .denied, exchange: exchange, target: name, detail: "\(error)")
                return respond(.problem(403, "\(error)", exchange))
            }
            let store = gateway.keyStore, keys = gateway.keys
            loop.async({ () async throws -> (record: APIKeyRecord, plaintext: String) in
                let created = try await store.create(name: name, tenant: tenant, roles: roles, scopes: scopes)
                _ = try await keys.refresh()
                return created
            }, then: { result in
                switch result {
                case .success(let created):
                    gateway.record(.apiKeyCreate, outcome: .success, exchange: exchange, target: created.record.id, detail: "name \(name)")
                    var body = keyJSON(created.record)
                    body["key"] = created.plaintext
                    respond(.json(status: 201, body))
                case .failure(let error):
                    gateway.record(.apiKeyCreate, outcome: .failure, exchange: exchange, target: name, detail: "\(error)")
                    respond(problem(for: error, exchange, logger: gateway.logger))
                }
            })
        }))
        routes.addBuiltin("DELETE", "/admin/api-keys/:key", BuiltinEndpoint(access: .tenantAdmin, summary: "Revoke an API key") { [unowned gateway] exchange, respond in
            let key = exchange.parameters.first { $0.name == "key" }?.value ?? ""
            let store = gateway.keyStore, keys = gateway.keys
            guard let caller = exchange.caller else { return respond(.problem(401, "no caller", exchange)) }
            let authority = KeyAuthority(caller)
            loop.async({ () async throws -> Bool in
                if authority.isInstallationAdmin {
                    try await store.revoke(idOrName: key)
                } else {
                    // A tenant's admin names only its tenant's keys; any other key is unknown to it.
                    let reachable = try await store.list().filter(authority.reaches)
                    guard let record = reachable.first(where: { $0.id == key }) ?? reachable.first(where: { $0.name == key && !$0.isRevoked })
                        ?? reachable.first(where: { $0.name == key }) else {
                        throw AuthError(.notFound, "no API key '\(key)' in tenant '\(authority.tenant ?? "")'")
                    }
                    try await store.revoke(idOrName: record.id)
                }
                return try await keys.refresh()
            }, then: { result in
                switch result {
                case .success:
                    gateway.record(.apiKeyRevoke, outcome: .success, exchange: exchange, target: key, detail: "revoked")
                    respond(BuiltinResponse(status: 204, headers: [], body: []))
                case .failure(let error):
                    gateway.record(.apiKeyRevoke, outcome: .failure, exchange: exchange, target: key, detail: "\(error)")
                    respond(problem(for: error, exchange, logger: gateway.logger))
                }
            })
        })
        routes.addBuiltin("POST", "/admin/reload", BuiltinEndpoint(access: .admin, summary: "Load plugins.d into a new worker generation") { [unowned gateway] exchange in
            guard supervised else {
                gateway.record(.adminReload, outcome: .failure, exchange: exchange, detail: "not supervised")
                return .problem(409, "reload needs the supervisor (plexus serve without --no-supervise): a new worker generation loads the new plugin set", exchange)
            }
            // The worker's parent is the master: SIGHUP asks it for a new generation.
            kill(getppid(), SIGHUP)
            gateway.record(.adminReload, outcome: .success, exchange: exchange, detail: "new worker generation requested")
            return .json(status: 202, ["status": "reload requested; /admin/plugins shows the new generation once it serves"])
        })
    }

    /// The answer for a failed key operation: the error itself for a client mistake (unknown key,
    /// conflict, bad name), a generic 500 for a storage failure.
    private static func problem(for error: Error, _ exchange: HTTPExchange, logger: Logger) -> BuiltinResponse {
        let code = status(for: error)
        return code >= 500 ? .internalFailure(code, "the API key store failed", error, exchange, logger: logger) : .problem(code, "\(error)", exchange)
    }

    private static func status(for error: Error) -> Int {
        guard let error = error as? AuthError else { return 500 }
        switch error.kind {
        case .notFound: return 404
        case .alreadyRevoked, .conflict: return 409
        case .invalidArgument: return 400
        default: return 500
        }
    }

    private static func auditQuery(_ query: QueryParameters) throws -> AuditQuery {
        func time(_ name: String) throws -> Double? {
            guard let text = query[name] else { return nil }
            if let seconds = Double(text) { return seconds }
            if let date = ISO8601DateFormatter().date(from: text) { return date.timeIntervalSince1970 }
            throw GatewayAuthError("query parameter '\(name)' must be unix seconds or an ISO 8601 time, found '\(text)'")
        }
        var result = AuditQuery(since: try time("since"), until: try time("until"), actor: query["actor"], requestID: query["request_id"],
                                tenant: query["tenant"], limit: Int(query["limit"] ?? "") ?? 100, before: query["before"].flatMap { Int64($0) })
        if let action = query["action"] {
            result.action = action.hasSuffix(".") || action.hasSuffix("*") ? .prefix(String(action.trimmingCharacters(in: ["*"]))) : .exact(AuditAction(rawValue: action))
        }
        if let outcome = query["outcome"] {
            guard let parsed = AuditOutcome(rawValue: outcome) else {
                throw GatewayAuthError("query parameter 'outcome' must be one of \(AuditOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            result.outcome = parsed
        }
        return result
    }

    private static func auditJSON(_ record: AuditRecord) -> [String: Any] {
        var object: [String: Any] = [
            "id": record.id, "time": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: record.time)),
            "actor": record.actor, "actor_kind": record.actorKind.rawValue, "action": record.action.rawValue,
            "outcome": record.outcome.rawValue, "detail": record.detail,
        ]
        if let target = record.target { object["target"] = target }
        if let id = record.requestID { object["request_id"] = id }
        if let tenant = record.tenant { object["tenant"] = tenant }
        return object
    }

    private static func keyJSON(_ record: APIKeyRecord) -> [String: Any] {
        var object: [String: Any] = ["id": record.id, "name": record.name, "roles": record.roles.sorted(), "scopes": record.scopes.sorted(),
                                     "created_at": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: record.createdAt))]
        if let tenant = record.tenant { object["tenant"] = tenant }
        if let revoked = record.revokedAt { object["revoked_at"] = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: revoked)) }
        return object
    }
}
