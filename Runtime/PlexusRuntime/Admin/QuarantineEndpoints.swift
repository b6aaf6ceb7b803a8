import Foundation
import PlexusPolicy

/// `/admin/quarantine` for the admin identity: the plugins the supervisor quarantined
/// (`<data>/quarantine.json`) and a release, the HTTP twin of `plexus plugin release NAME`.
/// A released plugin loads again in the next worker generation (`POST /admin/reload`).
enum QuarantineEndpoints {
    /// The longest plugin name a release accepts.
    static let maxNameLength = 128

    static func install(on routes: RouteRegistry, dataDirectory: URL, gateway: Gateway) {
        routes.addBuiltin("GET", "/admin/quarantine", BuiltinEndpoint(access: .admin, summary: "Plugins the supervisor quarantined") { _ in
            let entries = Quarantine.load(dataDirectory: dataDirectory).sorted { $0.key < $1.key }.map { name, entry -> [String: Any] in
                ["name": name, "reason": entry.reason, "since": entry.since, "crashes": entry.crashes.count]
            }
            return .json(["quarantined": entries])
        })
        routes.addBuiltin("POST", "/admin/quarantine/:name/release",
                          BuiltinEndpoint(access: .admin, summary: "Lift a plugin's quarantine; it loads again from the next reload") { [unowned gateway] exchange in
            let name = exchange.parameters.first { $0.name == "name" }?.value ?? ""
            guard !name.isEmpty, name.count <= maxNameLength,
                  name.utf8.allSatisfy({ $0 == 45 || $0 == 46 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
                return .problem(400, "path segment ':name' must be a plugin name (1 to \(maxNameLength) letters, digits, '.', '-' or '_'), found '\(name.prefix(40))'", exchange)
            }
            let action = AuditAction(rawValue: "admin.quarantine_release")
            do {
                guard try Quarantine.release(name, dataDirectory: dataDirectory) else {
                    return .problem(404, "plugin '\(name)' is not quarantined", exchange)
                }
            } catch {
                gateway.record(action, outcome: .failure, exchange: exchange, target: name, detail: "\(error)")
                return .internalFailure(500, "writing \(Quarantine.file(in: dataDirectory).lastPathComponent) failed", error, exchange, logger: gateway.logger)
            }
            gateway.record(action, outcome: .success, exchange: exchange, target: name, detail: "released")
            return .json(["released": name, "next": "POST /admin/reload loads it in a new worker generation"])
        })
    }
}
