import Foundation
import Logging
import PlexusSDK

/// A plugin running in this process for a unit test: its `Plugin` type is created over
/// in-memory drivers (routes, bus, services, key-value, timers, off-loop work, metrics, logs)
/// and a real in-memory SQLite database, on an ``InProcessLoop`` that plays the runtime's loop.
///
/// ```swift
/// let host = try await TestHost.start(HelloPlugin.self, config: ["greeting": "Hi"])
/// let response = try await host.get("/api/v1/hello/ada")
/// XCTAssertEqual(response.text, "Hi, ada!\n")
/// await host.stop()
/// ```
///
/// Requests pass the gateway's route rules in memory (``TestHostPolicy``): an anonymous caller of
/// an authenticated route gets 401, a caller without the route's role, scope or tenant 403, a
/// body over the route's bound 413, an unknown path 404 and a known path with another method 405.
/// Each handler runs as its own task, as in the runtime: a route's `timeout` passing answers 504
/// and cancels it, a test task cancelled while it waits (a client that leaves) cancels it, and so
/// does ``stop()``; ``handlersRunning`` counts those not returned yet. Like the gateway, it leaves
/// the `Authorization` and `X-API-Key` headers out of what a handler receives unless
/// ``forwardsCredentials`` is set (the operator's `[auth] forward_credentials`).
@PluginActor
public final class TestHost<P: Plugin>: PluginTestClient {
    /// The plugin instance.
    public let plugin: P
    /// The context the plugin was given.
    public let context: PluginContext
    /// The routes it registered.
    public let routes: RouteTable
    /// Its bus and services (events published, dead letters).
    public let bus: InMemoryBus
    /// Its key-value storage.
    public let keyValue: InMemoryKeyValue
    /// Its SQL storage.
    public let sql: SQLiteStorage
    /// Its metrics.
    public let metrics: InMemoryMetrics
    /// Its log records.
    public let log: InMemoryLogHandler.Sink
    /// The tenant directory it published and the tenant keys it created (ABI 1.6). Like the
    /// gateway, an anonymous request takes the tenant its `Host` maps to here, and a request for a
    /// suspended tenant gets 403.
    public let tenancy: InMemoryTenancy
    /// The audit records the plugin wrote (ABI 1.8), checked as the runtime checks them.
    public let audit: InMemoryAudit
    /// Whether handlers receive the `Authorization` and `X-API-Key` headers, as a plugin named in
    /// `[auth] forward_credentials` does; false by default, as in the runtime.
    public var forwardsCredentials = false
    private var requests = 0
    private var stopped = false
    /// Handlers running now, by request number: a deadline, a cancelled caller or ``stop()`` cancels them.
    private var running: [Int: Task<Response, Never>] = [:]

    /// Handlers still running, including those of requests already answered 504 or abandoned:
    /// a handler that ignores cancellation stays counted until it returns.
    public var handlersRunning: Int { running.count }

    /// Creates the plugin with `config` as its configuration and starts it, as the runtime would.
    /// - Parameter echoLog: also write the plugin's log records to stderr.
    public nonisolated static func start(_ type: P.Type = P.self, config: [String: String] = [:], echoLog: Bool = false) async throws -> TestHost<P> {
        _ = InProcessLoop.shared
        return try await TestHost(config: config, echoLog: echoLog)
    }

    private init(config: [String: String], echoLog: Bool) async throws {
        let loop = InProcessLoop.shared
        let name = P.manifest.name
        routes = RouteTable()
        bus = InMemoryBus(loop: loop, source: name, declaredTopics: P.manifest.publishes.map(\.topic))
        keyValue = InMemoryKeyValue()
        sql = try SQLiteStorage()
        metrics = InMemoryMetrics()
        let sink = InMemoryLogHandler.Sink(echo: echoLog)
        log = sink
        tenancy = InMemoryTenancy()
        var drivers = HostDrivers(routes: routes, bus: bus, services: bus, keyValue: keyValue, sql: sql,
                                  timers: InProcessTimers(loop: loop), offLoop: InProcessOffLoop(), config: InMemoryConfig(config),
                                  metrics: metrics, logHandler: { _ in InMemoryLogHandler(sink: sink) })
        drivers.tenancy = tenancy
        audit = InMemoryAudit(plugin: name)
        drivers.audit = audit
        context = PluginContext(drivers: drivers, pluginName: name)
        plugin = try P(context: context)
        try await plugin.start()
    }

    /// A host dropped without ``stop()`` still ends the plugin's timers and subscriptions, as the
    /// runtime's destroy does: the shared test loop must not call into a plugin that is gone.
    isolated deinit {
        context.timers.cancelAll()
        context.bus.cancelAll()
    }

    /// Whether `name` is a header the gateway consumes (`Authorization`, `X-API-Key`, any case).
    /// ASCII case only, as the runtime compares: a name with another Unicode scalar that
    /// lower-cases to an ASCII letter (the Kelvin sign) is not one.
    nonisolated static func isCredential(_ name: String) -> Bool {
        func equal(_ wanted: String) -> Bool {
            name.utf8.count == wanted.utf8.count
                && zip(name.utf8, wanted.utf8).allSatisfy { ($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) == $1 }
        }
        return equal("authorization") || equal("x-api-key")
    }

    /// Stops the plugin, its timers and its subscriptions, as the runtime would; handlers still
    /// running are cancelled first (the runtime tells the plugin their requests are abandoned).
    public func stop() async {
        guard !stopped else { return }
        stopped = true
        for task in running.values { task.cancel() }
        await plugin.stop()
        context.timers.cancelAll()
        context.bus.cancelAll()
    }

    /// The plugin's health report.
    public func health() -> HealthReport { plugin.health() }

    /// Answers `request` the way the runtime would: route, gateway rules, handler, problem+json.
    public func execute(_ request: TestRequest) async throws -> TestResponse {
        requests += 1
        let requestID = "test-\(requests)"
        let (rawPath, rawQuery) = Self.split(request.target)
        guard let path = rawPath.removingPercentEncoding, path.hasPrefix("/") else {
            return Self.problem(400, "the request target '\(request.target)' is not an absolute path", requestID)
        }
        let (found, allowed) = routes.match(request.method, path)
        guard let match = found else {
            guard allowed.isEmpty else {
                var response = Self.problem(405, "\(request.method) is not allowed on \(path)", requestID)
                response = TestResponse(status: 405, headers: response.headers + [("Allow", Set(allowed).sorted().joined(separator: ", "))], body: response.body)
                return response
            }
            return Self.problem(404, "no route for \(request.method) \(path)", requestID)
        }
        if let refusal = TestHostPolicy.refusal(match.route, match.parameters, request.caller, bodyBytes: request.body.count) {
            return TestResponse(status: refusal.status, headers: Self.problemHeaders(requestID) + refusal.headerPairs,
                                body: Self.problemBody(refusal.status, refusal.detail, requestID))
        }
        let caller = request.caller.map { CallerIdentity(subject: $0.subject, tenant: $0.tenant, roles: $0.roles, scopes: $0.scopes) }
        let hostTenant = request.headers.first { $0.0.lowercased() == "host" }.flatMap { tenancy.tenant(forHost: $0.1) }
        if let own = request.caller?.tenant, let hostTenant, own != hostTenant {
            return Self.problem(403, "the caller belongs to tenant '\(own)' but this host serves tenant '\(hostTenant)'", requestID)
        }
        let tenant = request.caller == nil ? hostTenant : request.caller?.tenant
        if let tenant, tenancy.isSuspended(tenant) {
            return Self.problem(403, "tenant '\(tenant)' is suspended", requestID)
        }
        let sdkRequest = Request(method: request.method, path: path, parameters: match.parameters, rawQuery: rawQuery,
                                 headers: Headers(forwardsCredentials ? request.headers : request.headers.filter { !Self.isCredential($0.0) }),
                                 body: request.body, requestID: requestID,
                                 caller: caller, tenant: tenant)
        let route = match.route
        guard let response = await answer(sdkRequest, route: route, number: requests) else {
            let milliseconds = Self.milliseconds(route.options.timeout ?? .zero)
            return Self.problem(504, "plugin '\(P.manifest.name)' did not answer \(route.method) \(route.pattern) within \(milliseconds) ms", requestID)
        }
        // A caller that left gets no answer (the handler's task was cancelled with it).
        try Task.checkCancellation()
        var headers = response.headers.fields.map { ($0.name, $0.value) }
        headers.append(("X-Request-Id", requestID))
        return TestResponse(status: response.status, headers: headers, body: request.method == "HEAD" ? [] : response.body)
    }

    /// Publishes an event as a client or another plugin would (it reaches the plugin's subscribers);
    /// a topic the plugin declares is refused, as the runtime refuses it.
    @discardableResult
    public func publish(_ topic: String, payload: [UInt8], contentType: String = "application/octet-stream", tenant: String = "",
                        durable: Bool = false) throws -> String {
        try bus.publishAsClient(EventDraft(topic: topic, payload: payload, contentType: contentType, tenant: tenant, priority: 0,
                                         correlationID: nil, causationID: nil, schemaVersion: 1), durable: durable)
    }

    /// Every event published so far whose topic matches `pattern`.
    public func events(matching pattern: String) -> [Event] {
        bus.published.filter { InMemoryBus.matches(pattern, $0.topic) }
    }

    /// Calls the service `name` the plugin offers.
    public func call(_ name: String, payload: [UInt8], timeout: Duration = .seconds(5)) async throws -> [UInt8] {
        try await bus.call(name, payload: payload, timeout: timeout)
    }

    /// Lets the loop run the jobs and timers due within `duration` (for timers and live deliveries).
    public func advance(_ duration: Duration = .zero) async {
        await context.sleep(for: duration)
    }

    /// Runs the route's handler as its own task, as the runtime does, and waits for its answer;
    /// nil when the route's timeout passed first. The handler's task is cancelled when the
    /// deadline passes or the calling task is cancelled (a client that leaves): `Task.isCancelled`
    /// turns true in the handler, which the plugin is expected to honour.
    private func answer(_ request: Request, route: RouteDefinition, number: Int) async -> Response? {
        let logger = context.logger
        let handler = Task { @PluginActor in await route.handler.respond(to: request, logger: logger) }
        running[number] = handler
        let outcome = FirstAnswer()
        Task { @PluginActor in
            let response = await handler.value
            self.running.removeValue(forKey: number)
            outcome.resume(response)
        }
        var deadline: Task<Void, Never>?
        if let timeout = route.options.timeout, timeout > .zero {
            deadline = Task { @PluginActor in
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled, outcome.resume(nil) { handler.cancel() }
            }
        }
        let response = await withTaskCancellationHandler {
            await outcome.wait()
        } onCancel: {
            handler.cancel()
        }
        deadline?.cancel()
        return response
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }

    private static func split(_ target: String) -> (String, String) {
        guard let mark = target.firstIndex(of: "?") else { return (target, "") }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }

    private static func problemHeaders(_ requestID: String) -> [(String, String)] {
        [("Content-Type", "application/problem+json"), ("X-Request-Id", requestID)]
    }

    private static func problemBody(_ status: Int, _ detail: String, _ requestID: String) -> [UInt8] {
        let object: [String: Any] = ["type": "about:blank", "title": HTTPStatus.reasonPhrase(status), "status": status,
                                     "detail": detail, "instance": requestID]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    private static func problem(_ status: Int, _ detail: String, _ requestID: String) -> TestResponse {
        TestResponse(status: status, headers: problemHeaders(requestID), body: problemBody(status, detail, requestID))
    }
}

/// The first of a handler's answer and its deadline, taken once.
@PluginActor
private final class FirstAnswer {
    private var decided = false
    private var result: Response?
    private var continuation: CheckedContinuation<Response?, Never>?

    /// The answer (nil: the deadline came first), once there is one.
    func wait() async -> Response? {
        if decided { return result }
        return await withCheckedContinuation { continuation = $0 }
    }

    /// Settles the outcome with `response` (nil: the deadline); false when it was settled already.
    @discardableResult
    func resume(_ response: Response?) -> Bool {
        guard !decided else { return false }
        decided = true
        result = response
        continuation?.resume(returning: response)
        continuation = nil
        return true
    }
}
