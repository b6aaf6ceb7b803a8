import Foundation
import PlexusPolicy

/// The audit log of every instance of a cluster in one place: each instance also appends its
/// audit records to the stream `<prefix>audit` (bounded by `MAXLEN ~ 100000`), and
/// `GET /admin/audit/cluster` on any instance reads it, newest first (`?limit=` 1-1000,
/// default 100; `?before=<id>` pages back). Each record names the instance that wrote it.
/// A tenant's admin sees its tenant's records only. `GET /admin/audit` stays this instance's own
/// log. A record written while Redis is unreachable is in the local log only. Loop thread only.
final class ClusterAudit {
    static let maxRecords = 100_000
    private let redis: RedisConnection
    private let keys: ClusterKeys
    private let instance: String

    var stream: String { keys.prefix + "audit" }

    init(redis: RedisConnection, keys: ClusterKeys, instance: String) {
        self.redis = redis
        self.keys = keys
        self.instance = instance
    }

    /// Appends `record` to the shared stream (best effort: the local log has it anyway).
    func append(_ record: AuditRecord) {
        guard let json = try? JSONEncoder().encode(record) else { return }
        redis.send([Array("XADD".utf8), Array(stream.utf8), Array("MAXLEN".utf8), Array("~".utf8), Array(String(Self.maxRecords).utf8),
                    Array("*".utf8), Array("instance".utf8), Array(instance.utf8), Array("r".utf8), Array(json)]) { _ in }
    }

    /// Installs `GET /admin/audit/cluster` (mounted with the other routes when serving starts).
    func install(on routes: RouteRegistry) {
        routes.addBuiltin("GET", "/admin/audit/cluster", BuiltinEndpoint(access: .tenantAdmin, summary: "The audit log of every instance of the cluster, newest first") { [unowned self] exchange, respond in
            let query = QueryParameters(exchange.query)
            let limitText = query["limit"] ?? "100"
            guard let limit = Int(limitText), (1...1_000).contains(limit) else {
                return respond(.problem(400, "query parameter 'limit' must be an integer in 1...1000, found '\(limitText.prefix(40))'", exchange))
            }
            var end = "+"
            if let before = query["before"] {
                let parts = before.split(separator: "-")
                guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) && $0.count <= 20 }) else {
                    return respond(.problem(400, "query parameter 'before' must be a record id such as 1765065600000-0, found '\(before.prefix(40))'", exchange))
                }
                end = "(" + before
            }
            let tenant = exchange.caller.flatMap { KeyAuthority($0).tenant }
            // A tenant's admin: more entries are read, since other tenants' are skipped.
            let count = tenant == nil ? limit : min(limit * 10, 10_000)
            redis.send("XREVRANGE", stream, end, "-", "COUNT", "\(count)") { result in
                guard case .success(let reply) = result, let entries = reply.array else {
                    return respond(.problem(503, "the cluster's audit stream is unreachable: \((try? result.get()).map { "\($0)" } ?? "\(result)")", exchange))
                }
                var records: [[String: Any]] = []
                var last: String?
                for entry in entries {
                    guard let parts = entry.array, parts.count == 2, let id = parts[0].string, let fields = parts[1].array else { continue }
                    last = id
                    var values: [String: [UInt8]] = [:]
                    var index = 0
                    while index + 1 < fields.count {
                        if let key = fields[index].string, let value = fields[index + 1].bytes { values[key] = value }
                        index += 2
                    }
                    guard let bytes = values["r"], let record = try? JSONDecoder().decode(AuditRecord.self, from: Data(bytes)) else { continue }
                    if let tenant, record.tenant != tenant { continue }
                    var object: [String: Any] = [
                        "id": id, "instance": String(decoding: values["instance"] ?? [], as: UTF8.self),
                        "time": ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: record.time)),
                        "actor": record.actor, "actor_kind": record.actorKind.rawValue, "action": record.action.rawValue,
                        "outcome": record.outcome.rawValue, "detail": record.detail,
                    ]
                    if let target = record.target { object["target"] = target }
                    if let requestID = record.requestID { object["request_id"] = requestID }
                    if let tenant = record.tenant { object["tenant"] = tenant }
                    records.append(object)
                    if records.count == limit { break }
                }
                var body: [String: Any] = ["records": records]
                // More may be older than the last entry read: page on from it.
                if records.count == limit || entries.count == count, let last { body["next_before"] = last }
                respond(.json(body))
            }
        })
    }
}
