import CLibUV
import CPlexusABI
import Foundation
import Logging
import Prometheus

/// The HTTP/1.1 front of the runtime: a libuv listener, its connections, their timeouts and
/// the drain at shutdown. What happens to a request is the ``RequestPipeline``'s; connections
/// reach it through ``ConnectionHooks``. Loop thread only.
public final class HTTPServer {
    let loop: EventLoop
    let limits: HTTPLimits
    let logger: Logger
    /// Routing, the gateway's stages, the responders and the access log.
    let pipeline: RequestPipeline
    var requestIDs = RequestIDGenerator()
    private let bodies: BodyBudget
    /// What every connection calls out to (the pipeline holds no reference back to the server).
    private lazy var hooks = ConnectionHooks(server: self, pipeline: pipeline, loop: loop, limits: limits, bodies: bodies)
    private var listener: UnsafeMutablePointer<uv_tcp_t>?
    private var connections: [Int: HTTPConnection] = [:]
    private var nextConnectionID = 0
    private var tokenCounter: UInt64 = 0
    private var sweeper: LoopTimer?
    private var drainCompletion: (() -> Void)?
    /// With a value, ``drain(completion:)`` keeps idle connections open this long to answer a
    /// request already sent on them (supervised workers, so a reload drops no request).
    var drainLingerMilliseconds: UInt64 = 0
    private var lingerTimer: LoopTimer?
    private var graceTimer: LoopTimer?
    /// A supervised worker's connection handover with its master (nil otherwise).
    var handover: ConnectionHandover?

    /// The gateway in front of every route (nil until attached).
    var gateway: Gateway? { pipeline.gateway }

    init(loop: EventLoop, limits: HTTPLimits, logger: Logger, routes: RouteRegistry, metrics: RuntimeMetrics?) {
        self.loop = loop
        self.limits = limits
        self.logger = logger
        bodies = BodyBudget(limit: limits.bodyBudgetBytes)
        pipeline = RequestPipeline(loop: loop, limits: limits, registry: routes, metrics: metrics)
        pipeline.plugins.answered = { [unowned(unsafe) self] in checkDrained() }
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
        let connection = HTTPConnection(hooks: hooks, id: nextConnectionID, tcp: client)
        connection.handoverSlot = slot
        connections[connection.id] = connection
        connection.startReading()
    }

    static func descriptor(of tcp: UnsafeMutablePointer<uv_tcp_t>) -> Int32 {
        var fd: uv_os_fd_t = -1
        return uv_fileno(UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_handle_t.self), &fd) == 0 ? fd : -1
    }

    func nextToken() -> UInt64 {
        tokenCounter &+= 1
        return tokenCounter
    }

    /// Turns `exchange` into a chunked stream (Server-Sent Events and the like): writes the head
    /// now and returns a handle for the body, or answers 400 and returns nil when the request
    /// was pipelined behind others.
    func beginStream(_ exchange: HTTPExchange, status: Int = 200, headers: [(String, String)]) -> HTTPStream? {
        guard exchange.connection.isHead(exchange) else {
            pipeline.writer.problem(exchange, status: 400, detail: "a streaming request cannot be pipelined behind other requests")
            return nil
        }
        exchange.streaming = true
        exchange.status = status
        let head = pipeline.writer.streamHead(exchange, status: status, headers: headers)
        return exchange.connection.startStream(exchange, head: head)
    }

    /// Accepts a protocol upgrade (WebSocket): writes `101 Switching Protocols` with `headers`
    /// and hands the socket to `handler`. Answers 400 and returns false when the request was
    /// pipelined behind others.
    func upgrade(_ exchange: HTTPExchange, headers: [(String, String)], to handler: ConnectionTakeover) -> Bool {
        guard exchange.connection.isHead(exchange) else {
            pipeline.writer.problem(exchange, status: 400, detail: "an upgrade request cannot be pipelined behind other requests")
            return false
        }
        exchange.streaming = true
        exchange.status = 101
        var head = "HTTP/1.1 101 Switching Protocols\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "X-Request-Id: \(exchange.requestID)\r\n\r\n"
        exchange.connection.takeOver(by: handler, head: Array(head.utf8))
        pipeline.written(exchange, bytes: head.utf8.count)
        return true
    }

    func connectionClosed(_ connection: HTTPConnection) {
        handover?.release(connection.handoverSlot, fd: Self.descriptor(of: connection.tcp))
        connections.removeValue(forKey: connection.id)
        checkDrained()
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
            if connection.lingerExpired(now: now) {
                connection.close()
                continue
            }
            switch connection.phase {
            case .body where connection.isHoldingHead:
                break  // waiting for a shared decision, bounded by its own timeout (``HTTPConnection/releaseHead(_:refuse:)``)
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
                logger.warning("grace period over; closing \(connections.count) connection(s) with \(inFlight) unanswered request(s)")
            }
            // Requests a plugin still holds are answered 503 and the plugin told why (PLUGIN_STOPPING):
            // the plugins stop next, and their clients did not leave.
            pipeline.plugins.shutDown()
            for connection in Array(connections.values) { connection.close() }
            checkDrained()
        }
        checkDrained()
    }

    func checkDrained() {
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
    var inFlight: Int { pipeline.plugins.inFlight }

    private func boundAddress(_ tcp: UnsafeMutablePointer<uv_tcp_t>, host: String) -> String {
        SocketAddress(of: tcp, peer: false)?.description ?? host
    }
}
