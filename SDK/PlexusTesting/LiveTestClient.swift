import Foundation

/// A ``PluginTestClient`` over the real binary: each request goes over loopback to a
/// ``TestRuntime``; a ``TestCaller`` becomes an API key with its roles, scopes and tenant
/// (created through the admin API once per caller).
public final class LiveTestClient: PluginTestClient, @unchecked Sendable {
    /// The runtime the requests go to.
    public let runtime: TestRuntime
    private let lock = NSLock()
    private var keys: [TestCaller: String] = [:]

    /// A client of `runtime`.
    public init(runtime: TestRuntime) { self.runtime = runtime }

    /// Starts a runtime over `plugins` (see ``TestRuntime/init(binary:plugins:pluginConfigs:serverSettings:pluginSettings:extra:workDirectory:)``).
    public convenience init(plugins: [URL], pluginConfigs: [String: String] = [:], serverSettings: String = "") throws {
        self.init(runtime: try TestRuntime(plugins: plugins, pluginConfigs: pluginConfigs, serverSettings: serverSettings))
    }

    public func execute(_ request: TestRequest) async throws -> TestResponse {
        var headers = request.headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        if let caller = request.caller { headers += "Authorization: Bearer \(try key(for: caller))\r\n" }
        return try TestClient.request(request.method, request.target, port: runtime.port, headers: headers, body: request.body)
    }

    private func key(for caller: TestCaller) throws -> String {
        if let key = lock.withLock({ keys[caller] }) { return key }
        let key = try runtime.createAPIKey(name: caller.subject, tenant: caller.tenant, roles: caller.roles, scopes: caller.scopes)
        lock.withLock { keys[caller] = key }
        return key
    }
}
