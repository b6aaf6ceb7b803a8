import CPlexusABI
import Foundation
import Logging
import PlexusAuth
import PlexusPolicy
@testable import PlexusRuntime

/// Request contexts, callers, routes and an audit trail built by hand, so the pipeline's stages
/// run in-process with no socket.
enum PipelineFixture {
    static let remotePeer = ConnectionPeer(address: "203.0.113.7:50000", ip: "203.0.113.7", isLoopback: false)

    /// A request as the parser would leave it once its head is complete.
    static func request(_ method: String, _ target: String, headers: [(String, String)] = [],
                        peer: ConnectionPeer = remotePeer, token: UInt64 = 1) -> RequestContext {
        let request = RequestContext(token: token, peer: peer)
        request.method = method
        request.head.append(Array(target.utf8))
        request.urlRange = 0..<request.head.count
        let parts = target.split(separator: "?", maxSplits: 1)
        request.path = String(parts[0])
        request.rawPath = request.path
        request.query = parts.count > 1 ? String(parts[1]) : ""
        request.requestID = "req-\(token)"
        for (name, value) in headers {
            let nameStart = request.head.count
            request.head.append(Array(name.utf8))
            let valueStart = request.head.count
            request.head.append(Array(value.utf8))
            request.headerRanges.append((nameStart..<valueStart, valueStart..<request.head.count))
        }
        return request
    }

    static func caller(_ subject: String, tenant: String? = nil, roles: Set<String> = [], scopes: Set<String> = []) -> Caller {
        Caller(Identity(subject: subject, tenant: tenant, roles: roles, scopes: scopes, method: .jwt))
    }

    /// An audit trail over a fresh audit log in a temporary directory.
    static func auditTrail() async throws -> (AuditTrail, AuditLog) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plexus-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let log = try await AuditLog.open(path: directory.appendingPathComponent("audit.sqlite").path)
        return (AuditTrail(log: log), log)
    }

    static func builtin(_ method: String, _ path: String, access: BuiltinAccess, id: Int = 0) -> BuiltinRoute {
        BuiltinRoute(id: id, method: method, pattern: try! RoutePattern(path),
                     endpoint: BuiltinEndpoint(access: access) { _ in BuiltinResponse(status: 200, headers: [], body: []) })
    }

    /// A plugin (never loaded: a name and a state) whose routes go through a real registry.
    final class Plugins {
        let loop = EventLoop()
        let registry = RouteRegistry()
        let services: PluginServices
        /// Routes point at their plugin without owning it: the fixture keeps them alive.
        private var plugins: [PluginInstance] = []

        init() {
            let logger = Logger(label: "test")
            services = PluginServices(loop: loop, logger: logger, runtimeVersion: "test", routes: registry,
                                      events: EventRouter(loop: loop, logger: logger))
        }

        func plugin(_ name: String) -> PluginInstance {
            let plugin = PluginInstance(file: URL(fileURLWithPath: "/nonexistent/\(name)"), services: services)
            plugin.status.move(to: .running, "started by the test")
            plugins.append(plugin)
            return plugin
        }

        /// Registers `method pattern` for `plugin` as `route_add` would; nil and the failure, or the route.
        @discardableResult
        func add(_ method: String, _ pattern: String, for plugin: PluginInstance, public isPublic: Bool = false,
                 roles: String? = nil, tenantRequired: Bool = false, timeoutMilliseconds: UInt64 = 0) -> (RegisteredRoute?, HostCallFailure?) {
            let failure = method.withCString { methodC in
                pattern.withCString { patternC in
                    withOptionalCString(roles) { rolesC in
                        var spec = plexus_route_spec()
                        spec.struct_size = UInt32(MemoryLayout<plexus_route_spec>.size)
                        spec.method = methodC
                        spec.pattern = patternC
                        spec.handler = { _, _ in }
                        spec.access = isPublic ? UInt32(PLEXUS_ACCESS_PUBLIC.rawValue) : UInt32(PLEXUS_ACCESS_AUTHENTICATED.rawValue)
                        spec.roles = rolesC
                        spec.tenant_required = tenantRequired ? 1 : 0
                        spec.timeout_ms = timeoutMilliseconds
                        return registry.add(spec, for: plugin)
                    }
                }
            }
            return (failure == nil ? plugin.routes.last : nil, failure)
        }

        private func withOptionalCString<R>(_ text: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
            guard let text else { return body(nil) }
            return text.withCString { body($0) }
        }
    }
}
