import CLibUV
import CPlexusABI
import Foundation
import Logging
import Prometheus

/// The HTTP/1.1 front of the runtime: a libuv listener, its connections, and the table of
/// requests handed to plugins and awaiting their answer. Loop thread only.
public final class HTTPServer: ResponseSink {
    /// A response produced by the runtime itself (built-in endpoints).
    public struct BuiltinResponse {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        public init(status: Int, headers: [(String, String)], body: [UInt8]) {
            (self.status, self.headers, self.body) = (status, headers, body)
        }
    }

    /// Who may call a built-in endpoint.
    public enum BuiltinAccess {
        /// Anyone (health checks, the OpenAPI document).
        case `public`
        /// Any verified caller (the event API).
        case authenticated
        /// The installation's admin only: the admin role with no tenant (plugins, reload, dead
        /// letters, metrics: what spans every tenant).
        case admin
        /// The admin role of any tenant, for endpoints that scope what they show and change to the
        /// caller's tenant (API keys, the audit log).
        case tenantAdmin
    }

    /// A built-in endpoint. It answers through `respond` (at once or later, on the loop), or
    /// takes the connection over as a stream.
    public struct Builtin {
        let access: BuiltinAccess
        let run: (HTTPExchange, @escaping (BuiltinResponse) -> Void) -> Void

        /// An endpoint that answers synchronously.
        init(access: BuiltinAccess, handler: @escaping (HTTPExchange) -> BuiltinResponse) {
            self.access = access
            self.run = { exchange, respond in respond(handler(exchange)) }
        }

        /// An endpoint that answers later (or streams).
        init(access: BuiltinAccess, deferred: @escaping (HTTPExchange, @escaping (BuiltinResponse) -> Void) -> Void) {
            self.access = access
            self.run = deferred
        }
    }

    let loop: EventLoop
    let limits: HTTPLimits
    let logger: Logger
    /// Where answered requests are logged (nil: no access log).
    var accessLog: AccessLog?
    /// Where answered requests are counted (`/metrics`).
    var metrics: RuntimeMetrics?
    var requestIDs = RequestIDGenerator()
    private var encoder = HTTPResponseEncoder()
    private var listener: UnsafeMutablePointer<uv_tcp_t>?
    private var connections: [Int: HTTPConnection] = [:]
    private var nextConnectionID = 0
    private var tokenCounter: UInt64 = 0
    private var awaiting: [UInt64: HTTPExchange] = [:]
    private var sweeper: LoopTimer?
    private var drainCompletion: (() -> Void)?
    /// With a value, ``drain(completion:)`` keeps idle connections open this long to answer a
    /// request already sent on them (supervised workers, so a reload drops no request).
    var drainLingerMilliseconds: UInt64 = 0
    private var lingerTimer: LoopTimer?
    private var graceTimer: LoopTimer?
    /// Authentication, access rules, rate limits and resilience in front of every route.
    var gateway: Gateway?
    /// A supervised worker's connection handover with its master (nil otherwise).
    var handover: ConnectionHandover?
    /// `plexus_gateway_refusals_total` by status, looked up once.
    private var refusalCounters: [Int: RuntimeCounter] = [:]
    /// Requests waiting for a plugin's answer, by timeout, in deadline order.
    private var deadlines = DeadlineQueues()
    private var deadlineTimer: LoopTimer?

    /// What a route leads to: a plugin's handler or one of the runtime's own endpoints.
    enum RouteTarget {
        case plugin(RegisteredRoute)
        case builtin(Builtin)
    }

    /// Routes of running plugins and the built-in endpoints; replaced once the plugins have started.
    var routes = RouteTrie<RouteTarget>([])
    /// Built-in endpoints as `(method, path, endpoint)`, mounted beside the plugins' routes.
    var builtins: [(method: String, path: String, endpoint: Builtin)] = []
    /// The plugin routes in the trie (for the OpenAPI document).
    private(set) var mountedRoutes: [RegisteredRoute] = []

    /// Freezes the routes of running plugins, plus the built-ins, into the trie.
    func mount(_ pluginRoutes: [RegisteredRoute]) {
        if let gateway { for route in pluginRoutes where route.guardState == nil { gateway.guardRoute(route) } }
        mountedRoutes = pluginRoutes
        var all: [(method: String, pattern: RoutePattern, target: RouteTarget)] = pluginRoutes.map { ($0.method, $0.pattern, .plugin($0)) }
        for builtin in builtins {
            all.append((builtin.method, try! RoutePattern(builtin.path), .builtin(builtin.endpoint)))
        }
        routes = RouteTrie(all)
    }

    static let readBufferSize = 64 * 1024
    nonisolated(unsafe) static let readBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: readBufferSize)

    init(loop: EventLoop, limits: HTTPLimits, logger: Logger) {
        self.loop = loop
        self.limits = limits
        self.logger = logger
    }

    /// Turns the security headers on every response on or off.
    func setSecurityHeaders(_ enabled: Bool, hsts: Bool) {
        encoder.securityHeaders = enabled ? HTTPResponseEncoder.encodeSecurityHeaders(hsts: hsts) : []
    }

    /// Binds and listens; returns the bound address (the port is real when 0 was asked).
    func listen(host: String, port: Int) throws -> String {
        var storage = sockaddr_storage()
        let parsed = withUnsafeMutablePointer(to: &storage) { pointer -> Int32 in
            if host.contains(":") {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { uv_ip6_addr(host, Int32(port), $0) }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { uv_ip4_addr(host, Int32(port), $0) }
        }
        guard parsed == 0 else { throw RuntimeError.listen("'\(host)' is not an IP address") }
        let tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        uv_tcp_init(loop.uv, tcp)
        tcp.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        listener = tcp
        let bound = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_bind(tcp, $0, 0) } }
        guard bound == 0 else { throw RuntimeError.listen("cannot bind \(host):\(port): \(String(cString: uv_strerror(bound)))") }
        let status = uv_listen(UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_stream_t.self), 511) { server, status in
            guard status == 0, let server else { return }
            Unmanaged<HTTPServer>.fromOpaque(server.pointee.data).takeUnretainedValue().accept()
        }
        guard status == 0 else { throw RuntimeError.listen("cannot listen on \(host):\(port): \(String(cString: uv_strerror(status)))") }
        startSweeper()
        return boundAddress(tcp, host: host)
    }

    /// Listens on a socket inherited from the supervisor (already bound and listening); returns its address.
    func listen(inheritedFD fd: Int32) throws -> String {
        let tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        uv_tcp_init(loop.uv, tcp)
        tcp.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        listener = tcp
        let opened = uv_tcp_open(tcp, uv_os_sock_t(fd))
        guard opened == 0 else { throw RuntimeError.listen("cannot use inherited socket \(fd): \(String(cString: uv_strerror(opened)))") }
        let status = uv_listen(UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_stream_t.self), 511) { server, status in
            guard status == 0, let server else { return }
            Unmanaged<HTTPServer>.fromOpaque(server.pointee.data).takeUnretainedValue().accept()
        }
        guard status == 0 else { throw RuntimeError.listen("cannot listen on inherited socket \(fd): \(String(cString: uv_strerror(status)))") }
        startSweeper()
        return boundAddress(tcp, host: "fd \(fd)")
    }

    /// Whether new connections are accepted; while false they wait in the listen backlog (libuv
    /// stops polling the listener until ``startAccepting()``).
    var acceptsConnections = true
    private var connectionWaiting = false

    /// Accepts connections from now on, the one waiting first.
    func startAccepting() {
        acceptsConnections = true
        if connectionWaiting {
            connectionWaiting = false
            accept()
        }
    }

    private func accept() {
        guard let listener else { return }
        guard acceptsConnections else {
            connectionWaiting = true
            return
        }
        let client = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        uv_tcp_init(loop.uv, client)
        guard uv_accept(UnsafeMutableRawPointer(listener).assumingMemoryBound(to: uv_stream_t.self),
                        UnsafeMutableRawPointer(client).assumingMemoryBound(to: uv_stream_t.self)) == 0 else {
            uv_close(UnsafeMutableRawPointer(client).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
            return
        }
        uv_tcp_nodelay(client, 1)
        serve(client, slot: handover.map { $0.register(fd: Self.descriptor(of: client)) } ?? ConnectionHandover.noSlot)
    }

    /// Serves a connection the master handed over from a worker that died, like a fresh accept.
    func adopt(fd: Int32, slot: UInt32) {
        let client = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        uv_tcp_init(loop.uv, client)
        guard uv_tcp_open(client, uv_os_sock_t(fd)) == 0 else {
            uv_close(UnsafeMutableRawPointer(client).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
            handover?.release(slot, fd: fd)
            Glibc.close(fd)
            return
        }
        uv_tcp_nodelay(client, 1)
        serve(client, slot: slot)
    }

    private func serve(_ client: UnsafeMutablePointer<uv_tcp_t>, slot: UInt32) {
        nextConnectionID += 1
        let connection = HTTPConnection(server: self, id: nextConnectionID, tcp: client)
        connection.handoverSlot = slot
        connections[connection.id] = connection
        connection.startReading()
    }

    // MARK: Body budget

    /// Request body bytes held by all connections (reserved for bodies being read or waiting for
    /// their answer); at most `limits.bodyBudgetBytes`.
    private(set) var bufferedBodyBytes: UInt64 = 0

    /// Reserves `bytes` more of the body budget for `exchange`; false when the budget cannot hold them.
    func reserveBody(_ bytes: UInt64, for exchange: HTTPExchange) -> Bool {
        guard bytes > 0 else { return true }
        guard bufferedBodyBytes + bytes <= limits.bodyBudgetBytes else { return false }
        bufferedBodyBytes += bytes
        exchange.reservedBodyBytes += bytes
        return true
    }

    /// Gives back what `exchange` reserved (once its answer is written or it is abandoned).
    func releaseBody(of exchange: HTTPExchange) {
        bufferedBodyBytes -= min(bufferedBodyBytes, exchange.reservedBodyBytes)
        exchange.reservedBodyBytes = 0
    }

    static func descriptor(of tcp: UnsafeMutablePointer<uv_tcp_t>) -> Int32 {
        var fd: uv_os_fd_t = -1
        return uv_fileno(UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_handle_t.self), &fd) == 0 ? fd : -1
    }

    func nextToken() -> UInt64 {
        tokenCounter &+= 1
        return tokenCounter
    }

    // MARK: Routing and dispatch

    /// Picks the target of a request whose head is complete and sets its body limit.
    func route(_ exchange: HTTPExchange) {
        exchange.bodyLimit = limits.maxBodyBytes
        if let gateway, gateway.settings.cors.isEnabled {
            if exchange.method == "OPTIONS", case .methodNotAllowed(let allowed) = routes.match(method: "OPTIONS", path: exchange.rawPath[...]),
               let preflight = gateway.preflight(exchange, allowedMethods: allowed) {
                exchange.bodyLimit = 0
                exchange.status = preflight.status
                exchange.response = encoder.encode(status: preflight.status, headers: preflight.headers, body: [], for: exchange)
                exchange.connection.flush()
                return
            }
            gateway.applyCORS(exchange)
        }
        switch routes.match(method: exchange.method, path: exchange.rawPath[...]) {
        case let .found(.plugin(route), parameters):
            exchange.route = route
            exchange.parameters = parameters
            if route.maxBodyBytes > 0 { exchange.bodyLimit = route.maxBodyBytes }
        case let .found(.builtin(builtin), parameters):
            exchange.builtin = builtin
            exchange.parameters = parameters
        case .methodNotAllowed(let allowed):
            exchange.bodyLimit = 0
            answer(exchange, status: 405, detail: "\(exchange.method) is not allowed on \(exchange.path)", headers: [("Allow", allowed.joined(separator: ", "))])
            return
        case .notFound:
            exchange.bodyLimit = 0
            answer(exchange, status: 404, detail: "no route for \(exchange.path)")
            return
        }
        screen(exchange)
    }

    /// Authenticates, authorises and rate-limits a routed request on its head alone, before any
    /// of its body is read: a refused request is answered at once, its body is never buffered
    /// (the connection closes if one follows), and it gets no `100 Continue`.
    private func screen(_ exchange: HTTPExchange) {
        let now = Date().timeIntervalSince1970
        let refusal: GatewayRefusal?
        if let gateway {
            if let builtin = exchange.builtin {
                refusal = gateway.authenticate(exchange, now: now) ?? gateway.authorize(exchange, builtin: builtin.access)
                    ?? gateway.limit(exchange, route: nil, now: now)
            } else if let route = exchange.route {
                refusal = gateway.authenticate(exchange, now: now) ?? gateway.authorize(exchange, route: route)
                    ?? gateway.limit(exchange, route: route, now: now)
            } else {
                refusal = nil
            }
        } else if exchange.builtin?.access == .admin && !exchange.connection.peerIsLoopback {
            refusal = .forbidden("this endpoint only answers loopback clients", scope: nil)
        } else {
            refusal = nil
        }
        if let refusal {
            exchange.bodyLimit = 0
            refuse(exchange, refusal)
        }
    }

    /// Runs a request whose body is complete.
    func dispatch(_ exchange: HTTPExchange) {
        if exchange.response != nil {
            exchange.connection.flush()
            return
        }
        // The gateway screened the request on its head (``screen(_:)``); what is left is the
        // plugin's state and its resilience guards.
        let now = Date().timeIntervalSince1970
        if let builtin = exchange.builtin {
            builtin.run(exchange) { [unowned self] response in
                guard !exchange.abandoned, exchange.response == nil, !exchange.streaming else { return }
                exchange.status = response.status
                exchange.response = encoder.encode(status: response.status, headers: response.headers, body: response.body, for: exchange)
                exchange.connection.flush()
            }
            return
        }
        guard let route = exchange.route else {
            answer(exchange, status: 404, detail: "no route for \(exchange.path)")
            return
        }
        guard route.plugin.status.state == .running else {
            answer(exchange, status: 503, detail: "plugin '\(route.plugin.name)' is \(route.plugin.status.state.rawValue)")
            return
        }
        if let gateway {
            if let refusal = gateway.enter(exchange, route: route, now: now) {
                refuse(exchange, refusal)
                return
            }
            if let timeout = route.guardState?.timeoutMilliseconds, timeout > 0 {
                exchange.deadline = loop.now + timeout
                deadlines.add(token: exchange.token, deadline: exchange.deadline, timeout: timeout)
                startDeadlineTimer()
            }
        }
        awaiting[exchange.token] = exchange
        exchange.connection.publishHandoverState()
        var request = exchange.makeCRequest()
        Blame.around(route.plugin, route.blameLabel) { route.handler(route.context, &request) }
    }

    func respond(token: UInt64, from plugin: PluginInstance, _ response: UnsafePointer<plexus_response>) {
        guard let exchange = awaiting[token], exchange.route?.plugin === plugin else {
            plugin.logger.debug("response for an unknown or abandoned request ignored", metadata: ["token": "\(token)"])
            return
        }
        awaiting.removeValue(forKey: token)
        exchange.status = Int(response.pointee.status)
        if exchange.guarded, let route = exchange.route {
            gateway?.leave(exchange, route: route, success: exchange.status < 500, now: Date().timeIntervalSince1970)
        }
        exchange.response = encoder.encode(response.pointee, for: exchange)
        if !(100...999).contains(exchange.status) || exchange.status < 200 { exchange.status = 500 }
        exchange.connection.flush()
        checkDrained()
    }

    /// Answers `exchange` with a problem+json error from the server itself.
    func answer(_ exchange: HTTPExchange, status: Int, detail: String, headers: [(String, String)] = []) {
        exchange.status = status
        exchange.response = encoder.problem(status: status, detail: detail, for: exchange, extraHeaders: headers)
        exchange.connection.flush()
    }

    /// Answers with the gateway's refusal (problem+json with its headers).
    private func refuse(_ exchange: HTTPExchange, _ refusal: GatewayRefusal) {
        if let metrics {
            let counter = refusalCounters[refusal.status] ?? metrics.counter("plexus_gateway_refusals_total", [("status", "\(refusal.status)")],
                                                                              help: "Requests the gateway answered itself: 401, 403, 429, 503, 504")
            refusalCounters[refusal.status] = counter
            counter.increment()
        }
        answer(exchange, status: refusal.status, detail: refusal.detail, headers: refusal.headers)
    }

    func forget(_ exchange: HTTPExchange) {
        releaseBody(of: exchange)
        exchange.abandoned = true
        awaiting.removeValue(forKey: exchange.token)
        if exchange.guarded, let route = exchange.route {
            // The client left; that says nothing about the plugin's health.
            gateway?.leave(exchange, route: route, success: true, now: Date().timeIntervalSince1970)
        }
    }

    // MARK: Timeouts of plugin answers

    private func startDeadlineTimer() {
        guard deadlineTimer == nil else { return }
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 50, repeatingMilliseconds: 50) { [unowned self] in expireDeadlines() }
        timer.unref()
        deadlineTimer = timer
    }

    /// Answers 504 for every request whose plugin has not answered by its deadline.
    private func expireDeadlines() {
        let now = loop.now
        deadlines.expire(now: now) { token, deadline in
            guard let exchange = awaiting[token], exchange.deadline == deadline, let route = exchange.route else { return }
            awaiting.removeValue(forKey: token)
            gateway?.leave(exchange, route: route, success: false, now: Date().timeIntervalSince1970)
            let waited = route.guardState?.timeoutMilliseconds ?? 0
            route.plugin.logger.warning("route timed out", metadata: ["route": "\(route.method) \(route.pattern)", "timeout_ms": "\(waited)",
                                                                     "request_id": "\(exchange.requestID)"])
            answer(exchange, status: 504, detail: "plugin '\(route.plugin.name)' did not answer \(route.method) \(route.pattern) within \(waited) ms")
        }
    }

    /// Turns `exchange` into a chunked stream (Server-Sent Events and the like): writes the head
    /// now and returns a handle for the body, or answers 400 and returns nil when the request
    /// was pipelined behind others.
    func beginStream(_ exchange: HTTPExchange, status: Int = 200, headers: [(String, String)]) -> HTTPStream? {
        guard exchange.connection.isHead(exchange) else {
            answer(exchange, status: 400, detail: "a streaming request cannot be pipelined behind other requests")
            return nil
        }
        exchange.streaming = true
        exchange.status = status
        let head = encoder.encodeStreamHead(status: status, headers: headers, for: exchange)
        return exchange.connection.startStream(exchange, head: head)
    }

    /// Accepts a protocol upgrade (WebSocket): writes `101 Switching Protocols` with `headers`
    /// and hands the socket to `handler`. Answers 400 and returns false when the request was
    /// pipelined behind others.
    func upgrade(_ exchange: HTTPExchange, headers: [(String, String)], to handler: ConnectionTakeover) -> Bool {
        guard exchange.connection.isHead(exchange) else {
            answer(exchange, status: 400, detail: "an upgrade request cannot be pipelined behind other requests")
            return false
        }
        exchange.streaming = true
        exchange.status = 101
        var head = "HTTP/1.1 101 Switching Protocols\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "X-Request-Id: \(exchange.requestID)\r\n\r\n"
        exchange.connection.takeOver(by: handler, head: Array(head.utf8))
        logAccess(exchange, bytes: head.utf8.count)
        return true
    }

    func connectionClosed(_ connection: HTTPConnection) {
        handover?.release(connection.handoverSlot, fd: Self.descriptor(of: connection.tcp))
        connections.removeValue(forKey: connection.id)
        checkDrained()
    }

    func logAccess(_ exchange: HTTPExchange, bytes: Int) {
        let micros = (DispatchTime.now().uptimeNanoseconds - exchange.startNanoseconds) / 1000
        if let metrics {
            if let route = exchange.route {
                metrics.recordRequest(on: route, status: exchange.status, seconds: Double(micros) / 1_000_000)
            } else {
                metrics.recordRequest(plugin: "-", route: exchange.builtin != nil ? exchange.path : "unmatched", method: exchange.method,
                                      status: exchange.status, seconds: Double(micros) / 1_000_000)
            }
        }
        accessLog?.record(AccessRecord(exchange, bytes: bytes, microseconds: micros))
    }

    // MARK: Timeouts

    private func startSweeper() {
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 250, repeatingMilliseconds: 250) { [unowned self] in sweep() }
        timer.unref()
        sweeper = timer
    }

    private func sweep() {
        let now = loop.now
        for connection in Array(connections.values) {
            switch connection.phase {
            case .head where now - connection.phaseStarted > limits.headerTimeoutMilliseconds:
                connection.failRequest(status: 408, detail: "request head not received within \(limits.headerTimeoutMilliseconds) ms")
            case .body where now - connection.lastActivity > limits.bodyTimeoutMilliseconds:
                connection.failRequest(status: 408, detail: "request body stalled for \(limits.bodyTimeoutMilliseconds) ms")
            case .body where now - connection.phaseStarted > limits.bodyDeadlineMilliseconds:
                connection.failRequest(status: 408, detail: "request body not complete within \(limits.bodyDeadlineMilliseconds) ms")
            case .idle where connection.unanswered == 0 && now - connection.lastActivity > limits.idleTimeoutMilliseconds:
                connection.close()
            default:
                break
            }
        }
    }

    // MARK: Shutdown

    /// Stops accepting, lets in-flight requests finish, closes idle connections; calls
    /// `completion` when none is left or when the grace period ends (then the rest are cut).
    func drain(completion: @escaping () -> Void) {
        if let listener {
            uv_close(UnsafeMutableRawPointer(listener).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
            self.listener = nil
        }
        drainCompletion = completion
        let linger = drainLingerMilliseconds > 0 && drainLingerMilliseconds < limits.shutdownGraceMilliseconds
        for connection in Array(connections.values) { connection.closeWhenIdle(linger: linger) }
        if linger {
            // Idle keep-alive connections stay open briefly: a request already on its way is answered
            // (with `Connection: close`) instead of meeting a closed socket.
            let timer = LoopTimer(loop: loop)
            lingerTimer = timer
            timer.start(afterMilliseconds: drainLingerMilliseconds) { [unowned self] in
                for connection in Array(connections.values) where connection.lingering { connection.closeWhenIdle(linger: false) }
                checkDrained()
            }
        }
        let grace = LoopTimer(loop: loop)
        graceTimer = grace
        grace.start(afterMilliseconds: limits.shutdownGraceMilliseconds) { [unowned self] in
            if !connections.isEmpty {
                logger.warning("grace period over; closing \(connections.count) connection(s) with \(awaiting.count) unanswered request(s)")
            }
            for connection in Array(connections.values) { connection.close() }
            checkDrained()
        }
        checkDrained()
    }

    private func checkDrained() {
        guard let completion = drainCompletion, connections.isEmpty else { return }
        drainCompletion = nil
        sweeper?.close()
        sweeper = nil
        graceTimer?.close()
        graceTimer = nil
        lingerTimer?.close()
        lingerTimer = nil
        completion()
    }

    /// Requests handed to plugins and not answered yet.
    var inFlight: Int { awaiting.count }

    private func boundAddress(_ tcp: UnsafeMutablePointer<uv_tcp_t>, host: String) -> String {
        SocketAddress(of: tcp, peer: false)?.description ?? host
    }
}
