import CHiredis
import Foundation
import Logging

/// One connection to Redis on the runtime's loop: hiredis's async client through its libuv
/// adapter, reconnected with exponential backoff, with a deadline per command.
///
/// Loop thread only. Commands sent while the connection is not ready fail at once with
/// ``RedisFailure/unreachable(_:)`` (a publisher gets a 503 now, not after a timeout). A command
/// whose reply does not come within ``ClusterRedisSettings/commandTimeoutMilliseconds`` drops
/// the connection: every pending command fails, and the connection is made again.
///
/// A subscriber connection (`subscriber: true`) hands every pub/sub push to ``onPush``; after
/// each reconnect ``onReady`` runs, where its owner subscribes again.
final class RedisConnection {
    /// Where the connection stands.
    enum State: String { case disconnected, connecting, ready }

    let name: String
    private let settings: ClusterRedisSettings
    private let loop: EventLoop
    private let logger: Logger
    private let subscriber: Bool
    private var context: UnsafeMutablePointer<redisAsyncContext>?
    private(set) var state = State.disconnected
    /// Why the connection is down, for problem details.
    private(set) var lastError = "not connected yet"
    private var backoff: UInt64
    private var retryTimer: LoopTimer?
    private var watchdog: LoopTimer?
    private var connectStarted: UInt64 = 0
    /// Commands sent and not yet answered, oldest first (replies come in order).
    private var outstanding: [Pending] = []
    private var outstandingHead = 0
    private var closed = false
    /// Connections made so far (the first one included).
    private(set) var connects = 0

    /// Runs on the loop whenever the connection becomes ready (after AUTH and SELECT).
    var onReady: (() -> Void)?
    /// Runs on the loop when a ready connection is lost, with the reason.
    var onDown: ((String) -> Void)?
    /// Pub/sub pushes (`message`, `pmessage`, `subscribe` confirmations) of a subscriber connection.
    var onPush: ((RedisReply) -> Void)?

    final class Pending {
        let completion: (Result<RedisReply, RedisFailure>) -> Void
        let deadline: UInt64
        var done = false
        init(completion: @escaping (Result<RedisReply, RedisFailure>) -> Void, deadline: UInt64) {
            self.completion = completion
            self.deadline = deadline
        }
        func finish(_ result: Result<RedisReply, RedisFailure>) {
            guard !done else { return }
            done = true
            completion(result)
        }
    }

    init(name: String, settings: ClusterRedisSettings, loop: EventLoop, logger: Logger, subscriber: Bool = false) {
        self.name = name
        self.settings = settings
        self.loop = loop
        self.logger = logger
        self.subscriber = subscriber
        backoff = settings.minBackoffMilliseconds
    }

    /// Starts connecting (and keeps reconnecting until ``close()``).
    func start() {
        let timer = LoopTimer(loop: loop)
        let period = max(10, min(settings.commandTimeoutMilliseconds, settings.connectTimeoutMilliseconds, 400) / 4)
        timer.start(afterMilliseconds: period, repeatingMilliseconds: period) { [unowned self] in checkDeadlines() }
        timer.unref()
        watchdog = timer
        connect()
    }

    /// Sends a command; `completion` runs on the loop with its reply (an error reply is a `.success(.error)`).
    func send(_ arguments: [[UInt8]], completion: @escaping (Result<RedisReply, RedisFailure>) -> Void) {
        guard state == .ready, context != nil else {
            return completion(.failure(.unreachable("Redis at \(settings.host):\(settings.port) is unreachable: \(lastError)")))
        }
        dispatch(arguments, completion: completion)
    }

    /// ``send(_:completion:)`` with text arguments.
    func send(_ arguments: String..., completion: @escaping (Result<RedisReply, RedisFailure>) -> Void) {
        send(arguments.map { Array($0.utf8) }, completion: completion)
    }

    /// Sends a pub/sub command (PSUBSCRIBE, PUNSUBSCRIBE) on a subscriber connection; its
    /// confirmations and messages arrive through ``onPush``.
    func subscribeCommand(_ arguments: [String]) {
        guard subscriber, state == .ready, let context else { return }
        let privdata = Unmanaged.passUnretained(self).toOpaque()
        Self.withArgv(arguments.map { Array($0.utf8) }) { argc, argv, lengths in
            _ = redisAsyncCommandArgv(context, { context, reply, privdata in
                guard let privdata, let reply else { return }
                let connection = Unmanaged<RedisConnection>.fromOpaque(privdata).takeUnretainedValue()
                connection.onPush?(RedisReply(reply.assumingMemoryBound(to: redisReply.self)))
            }, privdata, argc, argv, lengths)
        }
    }

    /// Closes the connection for good; pending commands fail.
    func close() {
        closed = true
        retryTimer?.close()
        retryTimer = nil
        watchdog?.close()
        watchdog = nil
        drop("closed")
    }

    // MARK: Connecting

    private func connect() {
        guard !closed, context == nil else { return }
        state = .connecting
        connectStarted = loop.now
        guard let context = redisAsyncConnect(settings.host, Int32(settings.port)) else {
            return lost("hiredis could not allocate a context")
        }
        if context.pointee.err != 0 {
            let reason = String(cString: plexus_redis_errstr(context))
            redisAsyncFree(context)
            return lost(reason)
        }
        context.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        guard plexus_redis_attach(context, UnsafeMutableRawPointer(loop.uv)) == REDIS_OK else {
            redisAsyncFree(context)
            return lost("hiredis could not attach to the loop")
        }
        self.context = context
        redisAsyncSetConnectCallback(context) { context, status in
            guard let context, let data = plexus_redis_data(context) else { return }
            let connection = Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
            connection.connected(status == REDIS_OK, reason: String(cString: plexus_redis_errstr(context)))
        }
        redisAsyncSetDisconnectCallback(context) { context, _ in
            guard let context, let data = plexus_redis_data(context) else { return }
            let connection = Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
            let reason = String(cString: plexus_redis_errstr(context))
            // hiredis frees the context after this callback.
            if connection.context.map({ UnsafeRawPointer($0) }) == UnsafeRawPointer(context) { connection.context = nil }
            connection.lost(reason.isEmpty ? "connection closed" : reason)
        }
    }

    private func connected(_ ok: Bool, reason: String) {
        guard ok else {
            // hiredis frees the context after a failed connect.
            context = nil
            return lost(reason.isEmpty ? "connect failed" : reason)
        }
        var handshake: [[String]] = []
        if let password = settings.password { handshake.append(["AUTH", password]) }
        if settings.database != 0 && !subscriber { handshake.append(["SELECT", "\(settings.database)"]) }
        handshake.append(["PING"])
        var failed: String?
        for (index, command) in handshake.enumerated() {
            let last = index == handshake.count - 1
            dispatch(command.map { Array($0.utf8) }) { [unowned self] result in
                switch result {
                case .success(.error(let text)): failed = failed ?? "\(command[0]) refused: \(text)"
                case .failure(let failure): failed = failed ?? failure.description
                case .success: break
                }
                guard last else { return }
                if let failed {
                    // A lost connection is already being torn down by hiredis; a refusal is dropped here.
                    guard context != nil, state == .connecting else { return }
                    logger.error("Redis handshake failed", metadata: ["connection": "\(name)", "error": "\(failed)"])
                    drop(failed)
                } else {
                    becameReady()
                }
            }
        }
    }

    private func becameReady() {
        state = .ready
        connects += 1
        backoff = settings.minBackoffMilliseconds
        if connects > 1 {
            logger.notice("Redis connection restored", metadata: ["connection": "\(name)", "redis": "\(settings.host):\(settings.port)"])
        }
        onReady?()
    }

    /// Frees the context (if any) and fails what is pending; the disconnect callback is not relied on.
    private func drop(_ reason: String) {
        let wasReady = state == .ready
        state = .disconnected
        if let context {
            self.context = nil
            context.pointee.data = nil
            redisAsyncFree(context)
        }
        lost(reason, wasReady: wasReady)
    }

    /// The connection is gone: fail pending commands, tell the owner, try again after the backoff.
    private func lost(_ reason: String, wasReady: Bool? = nil) {
        let wasReady = wasReady ?? (state == .ready)
        state = .disconnected
        lastError = reason
        let pending = outstanding[outstandingHead...]
        outstanding.removeAll()
        outstandingHead = 0
        for command in pending { command.finish(.failure(.unreachable("Redis connection lost: \(reason)"))) }
        if wasReady && !closed {
            logger.warning("Redis connection lost", metadata: ["connection": "\(name)", "error": "\(reason)"])
            onDown?(reason)
        }
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        guard !closed else { return }
        let timer = retryTimer ?? LoopTimer(loop: loop)
        retryTimer = timer
        let wait = backoff
        backoff = min(backoff * 2, settings.maxBackoffMilliseconds)
        timer.start(afterMilliseconds: wait) { [unowned self] in connect() }
    }

    // MARK: Commands

    private func dispatch(_ arguments: [[UInt8]], completion: @escaping (Result<RedisReply, RedisFailure>) -> Void) {
        guard let context else { return completion(.failure(.unreachable("Redis is not connected: \(lastError)"))) }
        let pending = Pending(completion: completion, deadline: loop.now + settings.commandTimeoutMilliseconds)
        let privdata = Unmanaged.passRetained(pending).toOpaque()
        let status = Self.withArgv(arguments) { argc, argv, lengths in
            redisAsyncCommandArgv(context, { _, reply, privdata in
                guard let privdata else { return }
                let pending = Unmanaged<Pending>.fromOpaque(privdata).takeRetainedValue()
                if let reply {
                    pending.finish(.success(RedisReply(reply.assumingMemoryBound(to: redisReply.self))))
                } else {
                    pending.finish(.failure(.unreachable("Redis connection lost before the reply")))
                }
            }, privdata, argc, argv, lengths)
        }
        guard status == REDIS_OK else {
            Unmanaged<Pending>.fromOpaque(privdata).release()
            return completion(.failure(.unreachable("Redis refused the command locally: \(String(cString: plexus_redis_errstr(context)))")))
        }
        outstanding.append(pending)
    }

    /// Fails the connection when its oldest unanswered command (or the connect) is overdue.
    private func checkDeadlines() {
        while outstandingHead < outstanding.count && outstanding[outstandingHead].done { outstandingHead += 1 }
        if outstandingHead > 64 && outstandingHead * 2 > outstanding.count {
            outstanding.removeFirst(outstandingHead)
            outstandingHead = 0
        }
        let now = loop.now
        // hiredis 0.14's libuv adapter ignores a poll error, which is how libuv reports a refused
        // connect: without this, a refused connect would only end at the connect timeout.
        if state == .connecting, let context {
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(context.pointee.c.fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error != 0 {
                return drop(String(cString: strerror(error)))
            }
        }
        if state == .connecting, context != nil, now - connectStarted > settings.connectTimeoutMilliseconds {
            logger.warning("Redis connect timed out", metadata: ["connection": "\(name)", "after_ms": "\(settings.connectTimeoutMilliseconds)"])
            return drop("connect timed out after \(settings.connectTimeoutMilliseconds) ms")
        }
        if outstandingHead < outstanding.count, outstanding[outstandingHead].deadline < now {
            drop("no reply within \(settings.commandTimeoutMilliseconds) ms")
        }
    }

    /// Calls `body` with C argv and length arrays for `arguments` (hiredis copies them at once).
    private static func withArgv<R>(_ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        let total = arguments.reduce(0) { $0 + $1.count } + 1
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: total)
        let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(1, arguments.count))
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: max(1, arguments.count))
        defer { storage.deallocate(); argv.deallocate(); lengths.deallocate() }
        var offset = 0
        for (index, argument) in arguments.enumerated() {
            argument.withUnsafeBytes { raw in
                if raw.count > 0 { UnsafeMutableRawPointer(storage + offset).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
            }
            argv[index] = UnsafePointer(storage + offset)
            lengths[index] = argument.count
            offset += argument.count
        }
        return body(Int32(arguments.count), argv, lengths)
    }
}
