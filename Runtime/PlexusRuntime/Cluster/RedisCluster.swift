import Foundation
import Logging
import PlexusEventLog

/// This instance's membership of a cluster on Redis: one command connection and one pub/sub
/// connection, the durable store on Streams, and the live bus across instances.
///
/// Live events travel as pub/sub messages on ``ClusterKeys/channel(_:)``; this instance
/// PSUBSCRIBEs to the glob of every pattern its subscribers listen to (counted, so a pattern
/// shared by many subscribers is subscribed once) and fans received events out to its own bus.
/// Its own messages (by origin) and the copies one message gets when several globs match it
/// (by event id) are dropped. Messages from one publisher arrive in the order it sent them.
/// Loop thread only.
final class RedisCluster: BusReplication {
    let settings: ClusterRedisSettings
    let keys: ClusterKeys
    /// This instance's name among the others: its consumer name and its messages' origin.
    let instance: String
    let commands: RedisConnection
    let pubsub: RedisConnection
    private(set) var store: RedisStreamStore!
    /// Plugin services across instances.
    private(set) var services: ClusterServices!
    /// The supervisor's quarantine, shared.
    private(set) var quarantine: ClusterQuarantine!
    private let loop: EventLoop
    private let logger: Logger
    private weak var router: EventRouter?
    /// Glob → how many subscriptions need it.
    private var globs: [String: Int] = [:]
    /// Ids of the last received events, to drop the copies of a message matched by several globs.
    private var recent = Set<ULID>()
    private var recentOrder: [ULID] = []
    private var recentHead = 0
    /// The shared audit stream, once the gateway's stores are open.
    var audit: ClusterAudit?
    /// The shared API keys, once the gateway's stores are open.
    var keyShare: ClusterKeyShare?
    /// Runs when another instance announces changed API keys.
    var onKeysChanged: (() -> Void)?
    /// Runs when the command connection goes down or comes back (for live clients' notices).
    var onAvailability: ((Bool, String) -> Void)?

    init(settings: ClusterRedisSettings, loop: EventLoop, logger: Logger, maxAttempts: Int, maxAgeSeconds: UInt64) {
        self.settings = settings
        self.keys = ClusterKeys(prefix: settings.prefix)
        self.loop = loop
        self.logger = logger
        instance = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        commands = RedisConnection(name: "commands", settings: settings, loop: loop, logger: logger)
        pubsub = RedisConnection(name: "pubsub", settings: settings, loop: loop, logger: logger, subscriber: true)
        services = ClusterServices(commands: commands, keys: keys, instance: instance, loop: loop, logger: logger)
        quarantine = ClusterQuarantine(redis: commands, keys: keys, instance: instance)
        store = RedisStreamStore(redis: commands, keys: keys, consumer: instance, settings: settings, maxAttempts: maxAttempts,
                                 maxAgeSeconds: maxAgeSeconds, loop: loop, logger: logger)
    }

    /// Connects both connections; `ready` runs once the command connection first answers, or
    /// with the reason when it has not within the connect timeout (start-up then fails).
    func start(router: EventRouter, ready: @escaping (Error?) -> Void) {
        self.router = router
        store.announceDeadLetter = { [unowned router] envelope in
            router.publish(envelope, durable: true) { _ in }
        }
        var answered = false
        commands.onReady = { [unowned self] in
            onAvailability?(true, "connected")
            if !answered { answered = true; ready(nil) }
        }
        commands.onDown = { [unowned self] reason in onAvailability?(false, reason) }
        pubsub.onReady = { [unowned self] in resubscribe() }
        pubsub.onPush = { [unowned self] reply in received(reply) }
        commands.start()
        pubsub.start()
        let timeout = LoopTimer(loop: loop)
        timeout.start(afterMilliseconds: settings.connectTimeoutMilliseconds + 500) { [unowned self] in
            timeout.close()
            guard !answered else { return }
            answered = true
            ready(RuntimeError.config("cluster.redis: Redis at \(settings.host):\(settings.port) did not answer within \(settings.connectTimeoutMilliseconds) ms (\(commands.lastError)); fix: start Redis there or correct cluster.redis"))
        }
        logger.info("cluster mode on Redis", metadata: ["redis": "\(settings.host):\(settings.port)", "db": "\(settings.database)",
                                                       "prefix": "\(settings.prefix)", "instance": "\(instance)"])
    }

    func close() {
        keyShare?.stop()
        services.stop()
        commands.close()
        pubsub.close()
    }

    // MARK: BusReplication

    var unavailableReason: String? {
        commands.state == .ready ? nil : "Redis at \(settings.host):\(settings.port) is unreachable (\(commands.lastError))"
    }

    func replicate(_ event: EventEnvelope, durable: Bool) {
        var message: [UInt8] = [durable ? 1 : 0]
        message += ClusterEnvelopeCodec.encode(event, origin: instance)
        commands.send([Array("PUBLISH".utf8), Array(keys.channel(event.topic).utf8), message]) { [unowned self] result in
            if case .failure(let failure) = result {
                logger.warning("live event not sent to the other instances", metadata: ["topic": "\(event.topic)", "error": "\(failure)"])
            }
        }
    }

    func listen(_ pattern: TopicPattern) {
        let glob = keys.glob(for: pattern)
        globs[glob, default: 0] += 1
        if globs[glob] == 1 { pubsub.subscribeCommand(["PSUBSCRIBE", glob]) }
    }

    func stopListening(_ pattern: TopicPattern) {
        let glob = keys.glob(for: pattern)
        guard let count = globs[glob] else { return }
        if count <= 1 {
            globs.removeValue(forKey: glob)
            pubsub.subscribeCommand(["PUNSUBSCRIBE", glob])
        } else {
            globs[glob] = count - 1
        }
    }

    /// After a (re)connect: every glob again (Redis forgot them with the old connection), and the key-change channel.
    private func resubscribe() {
        pubsub.subscribeCommand(["SUBSCRIBE", services.inbox, ClusterQuarantine.channel(keys)])
        pubsub.subscribeCommand(["PSUBSCRIBE", ClusterKeys.escape(keys.apiKeysChanged)] + globs.keys.sorted())
        // Changes announced while the connection was down were missed: merge now.
        onKeysChanged?()
        if pubsub.connects > 1 { quarantine.refresh() }
    }

    private func received(_ reply: RedisReply) {
        if let parts = reply.array, parts.count == 3, parts[0].string == "message", let bytes = parts[2].bytes {
            if parts[1].string == ClusterQuarantine.channel(keys) { return quarantine.received(String(decoding: bytes, as: UTF8.self)) }
            return services.received(bytes)
        }
        if let parts = reply.array, parts.count == 4, parts[2].string == keys.apiKeysChanged {
            onKeysChanged?()
            return
        }
        // ["pmessage", glob, channel, message]
        guard let parts = reply.array, parts.count == 4, parts[0].string == "pmessage", let message = parts[3].bytes, message.count > 1,
              let decoded = ClusterEnvelopeCodec.decode(message[1...]) else { return }
        guard decoded.origin != instance, remember(decoded.event.id), let router else { return }
        router.bus.fanOut(decoded.event)
        if message[0] == 1 { router.pumpConsumers() }
    }

    /// Whether `id` is new among the last few thousand received.
    private func remember(_ id: ULID) -> Bool {
        guard recent.insert(id).inserted else { return false }
        if recentOrder.count < 4_096 {
            recentOrder.append(id)
        } else {
            recent.remove(recentOrder[recentHead])
            recentOrder[recentHead] = id
            recentHead = (recentHead + 1) % recentOrder.count
        }
        return true
    }
}
