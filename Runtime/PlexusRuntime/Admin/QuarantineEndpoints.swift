import Foundation
import PlexusPolicy

/// `/admin/quarantine` for the admin identity: the plugins the supervisor quarantined
/// (`<data>/quarantine.json`) and a release, the HTTP twin of `plexus plugin release NAME`.
/// A released plugin loads again in the next worker generation (`POST /admin/reload`).
/// In cluster mode (`shared`) the listing adds the cluster's quarantine, and a release lifts the
/// plugin in Redis too, so every instance forgets it (503, nothing released, while Redis is unreachable).
enum QuarantineEndpoints {
    /// The longest plugin name a release accepts.
    static let maxNameLength = 128

    static func install(on routes: RouteRegistry, dataDirectory: URL, gateway: Gateway, shared: ClusterQuarantine? = nil) {
        routes.addBuiltin("GET", "/admin/quarantine", BuiltinEndpoint(access: .admin, summary: "Plugins the supervisor quarantined") { exchange, respond in
            let entries = Quarantine.load(dataDirectory: dataDirectory).sorted { $0.key < $1.key }.map { name, entry -> [String: Any] in
                ["name": name, "reason": entry.reason, "since": entry.since, "crashes": entry.crashes.count]
            }
            guard let shared else { return respond(.json(["quarantined": entries])) }
            shared.fetch { all in
                guard let all else { return respond(.problem(503, "the cluster's quarantine is kept in Redis, which is unreachable; retry when it is back", exchange)) }
                respond(.json(["quarantined": entries, "cluster": all.sorted { $0.key < $1.key }.map { ["name": $0.key, "reason": $0.value] }]))
            }
        })
        routes.addBuiltin("POST", "/admin/quarantine/:name/release",
                          BuiltinEndpoint(access: .admin, summary: "Lift a plugin's quarantine; it loads again from the next reload") { [unowned gateway] exchange, respond in
            let name = exchange.parameters.first { $0.name == "name" }?.value ?? ""
            guard !name.isEmpty, name.count <= maxNameLength,
                  name.utf8.allSatisfy({ $0 == 45 || $0 == 46 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
                return respond(.problem(400, "path segment ':name' must be a plugin name (1 to \(maxNameLength) letters, digits, '.', '-' or '_'), found '\(name.prefix(40))'", exchange))
            }
            let action = AuditAction(rawValue: "admin.quarantine_release")
            func releaseLocally(sharedHadIt: Bool) {
                do {
                    guard try Quarantine.release(name, dataDirectory: dataDirectory) || sharedHadIt else {
                        return respond(.problem(404, "plugin '\(name)' is not quarantined", exchange))
                    }
                } catch {
                    gateway.record(action, outcome: .failure, exchange: exchange, target: name, detail: "\(error)")
                    return respond(.internalFailure(500, "writing \(Quarantine.file(in: dataDirectory).lastPathComponent) failed", error, exchange, logger: gateway.logger))
                }
                gateway.record(action, outcome: .success, exchange: exchange, target: name, detail: shared == nil ? "released" : "released across the cluster")
                respond(.json(["released": name, "cluster": shared != nil, "next": "POST /admin/reload loads it in a new worker generation"]))
            }
            guard let shared else { return releaseLocally(sharedHadIt: false) }
            shared.release(name) { result in
                switch result {
                case .success(let had): releaseLocally(sharedHadIt: had)
                case .failure(let failure):
                    gateway.record(action, outcome: .failure, exchange: exchange, target: name, detail: "\(failure)")
                    respond(.problem(503, "the cluster's quarantine is kept in Redis, which is unreachable (\(failure)); nothing was released; retry when it is back", exchange))
                }
            }
        })
    }
}
