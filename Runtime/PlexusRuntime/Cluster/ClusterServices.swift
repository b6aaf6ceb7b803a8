import CPlexusABI
import Foundation
import Logging

/// Plugin services across the instances of a cluster.
///
/// Presence: each instance keeps itself in the sorted set `<prefix>svc:<name>` of every service
/// its plugins offer, scored with an expiry 3 s ahead and refreshed every second, so an instance
/// that dies drops out within 3 s. Calls: a call is balanced round-robin over the instances
/// offering the service (this one included); a call for another instance is a pub/sub message
/// on its inbox channel `<prefix>rpc:<instance>` and its answer comes back on the caller's. An
/// instance that receives nothing (PUBLISH counted 0 receivers: it is gone) is dropped and the
/// call goes to the next one, then to this instance's own plugin if it offers the service.
/// A call the receiver took fails at once when that instance is gone: every 250 ms while calls
/// wait, the caller checks each receiver's inbox still has a subscriber (a killed process's
/// connection is dropped by Redis at once) and its presence has not expired (a hung one stops
/// refreshing it); otherwise its pending calls fail with an error naming the instance (no retry:
/// the call may have run there, and it may not be idempotent). Loop thread only.
final class ClusterServices: RemoteServices {
    static let presenceMilliseconds: UInt64 = 3_000
    private let commands: RedisConnection
    private let keys: ClusterKeys
    private let instance: String
    private let loop: EventLoop
    private let logger: Logger
    weak var registry: ServiceRegistry?
    var metrics: RuntimeMetrics?
    private var offeredNames = Set<String>()
    private var presence: [String: (instances: [String], fetched: UInt64)] = [:]
    private var turns: [String: Int] = [:]
    private var pending: [UInt64: (reply: (Result<[UInt8], RemoteServiceFailure>) -> Void, timer: LoopTimer, target: String, name: String)] = [:]
    private var nextCall: UInt64 = 1
    private var heartbeat: LoopTimer?
    /// Checks, while calls wait, that their receivers are still there.
    private var watch: LoopTimer?
    /// Receivers being checked now (one check at a time each).
    private var checking = Set<String>()
    static let watchMilliseconds: UInt64 = 250

    /// This instance's inbox channel.
    var inbox: String { keys.prefix + "rpc:" + instance }

    init(commands: RedisConnection, keys: ClusterKeys, instance: String, loop: EventLoop, logger: Logger) {
        self.commands = commands
        self.keys = keys
        self.instance = instance
        self.loop = loop
        self.logger = logger
    }

    func start() {
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 1_000, repeatingMilliseconds: 1_000) { [unowned self] in announce() }
        timer.unref()
        heartbeat = timer
        let watcher = LoopTimer(loop: loop)
        watcher.start(afterMilliseconds: Self.watchMilliseconds, repeatingMilliseconds: Self.watchMilliseconds) { [unowned self] in checkReceivers() }
        watcher.unref()
        watch = watcher
        announce()
    }

    func stop() {
        heartbeat?.close()
        heartbeat = nil
        watch?.close()
        watch = nil
        for name in offeredNames { commands.send("ZREM", key(name), instance) { _ in } }
    }

    private func key(_ name: String) -> String { keys.prefix + "svc:" + name }
    private var wallMilliseconds: UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    /// Refreshes this instance's presence for every service it offers.
    private func announce() {
        let now = wallMilliseconds
        for name in offeredNames {
            commands.send("ZADD", key(name), "\(now + Self.presenceMilliseconds)", instance) { _ in }
            commands.send("ZREMRANGEBYSCORE", key(name), "-inf", "\(now)") { _ in }
        }
    }

    // MARK: RemoteServices

    func offered(_ name: String) {
        offeredNames.insert(name)
        commands.send("ZADD", key(name), "\(wallMilliseconds + Self.presenceMilliseconds)", instance) { _ in }
    }

    func withdrawn(_ name: String) {
        offeredNames.remove(name)
        commands.send("ZREM", key(name), instance) { _ in }
    }

    func take(_ name: String, local: Bool, payload: [UInt8], timeoutMilliseconds: UInt64,
              reply: @escaping (Result<[UInt8], RemoteServiceFailure>) -> Void) -> Bool {
        guard local else {
            resolve(name) { [self] others in
                send(name, to: others, payload: payload, timeoutMilliseconds: timeoutMilliseconds, localFallback: false, reply: reply)
            }
            return true
        }
        // The presence seen last (refreshed in the background when older than a second).
        let cached = presence[name]
        if cached == nil || loop.now - cached!.fetched > 1_000 { resolve(name) { _ in } }
        let others = cached?.instances ?? []
        guard !others.isEmpty else { return false }
        let turn = turns[name, default: 0]
        turns[name] = turn &+ 1
        let index = turn % (others.count + 1)
        guard index > 0 else { return false }
        let order = Array(others[(index - 1)...] + others[..<(index - 1)])
        send(name, to: order, payload: payload, timeoutMilliseconds: timeoutMilliseconds, localFallback: true, reply: reply)
        return true
    }

    /// The other instances offering `name` now (from Redis; remembered for a second).
    private func resolve(_ name: String, completion: @escaping ([String]) -> Void) {
        if let cached = presence[name], loop.now - cached.fetched <= 1_000 { return completion(cached.instances) }
        commands.send("ZRANGEBYSCORE", key(name), "\(wallMilliseconds)", "+inf") { [self] result in
            let all = ((try? result.get())?.array ?? []).compactMap(\.string)
            let others = all.filter { $0 != instance }
            presence[name] = (others, loop.now)
            completion(others)
        }
    }

    private func send(_ name: String, to targets: [String], payload: [UInt8], timeoutMilliseconds: UInt64, localFallback: Bool,
                      reply: @escaping (Result<[UInt8], RemoteServiceFailure>) -> Void) {
        guard let target = targets.first else {
            if localFallback { return invokeLocal(name, payload: payload, timeoutMilliseconds: timeoutMilliseconds, completion: reply) }
            return reply(.failure(RemoteServiceFailure(kind: .notFound, message: "no running plugin on any instance offers service '\(name)'")))
        }
        let id = nextCall
        nextCall += 1
        let timer = LoopTimer(loop: loop)
        pending[id] = (reply, timer, target, name)
        timer.start(afterMilliseconds: max(1, timeoutMilliseconds)) { [unowned self] in
            guard let call = pending.removeValue(forKey: id) else { return }
            call.timer.close()
            call.reply(.failure(RemoteServiceFailure(kind: .timeout, message: "service '\(name)' on instance \(target) did not answer within \(timeoutMilliseconds) ms")))
        }
        let message = ServiceMessage(kind: .request, id: id, timeoutMilliseconds: timeoutMilliseconds, ok: true, from: instance, name: name, payload: payload)
        commands.send([Array("PUBLISH".utf8), Array((keys.prefix + "rpc:" + target).utf8), message.bytes]) { [self] result in
            if case .success(.integer(let receivers)) = result, receivers > 0 {
                metrics?.counter("plexus_cluster_service_calls_total", [("direction", "out")], help: "Service calls sent to or taken from other instances").increment()
                return
            }
            // Nobody listens there (the instance is gone) or Redis failed: the next one.
            guard let call = pending.removeValue(forKey: id) else { return }
            call.timer.close()
            logger.info("service call failed over", metadata: ["service": "\(name)", "instance": "\(target)"])
            if var known = presence[name] {
                known.instances.removeAll { $0 == target }
                presence[name] = known
            }
            send(name, to: Array(targets.dropFirst()), payload: payload, timeoutMilliseconds: timeoutMilliseconds, localFallback: localFallback, reply: reply)
        }
    }

    /// For each instance that has taken calls made here and not answered them yet: is its inbox
    /// still subscribed, and its presence for the service fresh? If not, its calls fail now.
    private func checkReceivers() {
        var targets: [String: String] = [:]
        for call in pending.values where !checking.contains(call.target) { targets[call.target] = call.name }
        for (target, name) in targets {
            checking.insert(target)
            commands.send("PUBSUB", "NUMSUB", keys.prefix + "rpc:" + target) { [self] result in
                guard case .success(let reply) = result, let parts = reply.array, parts.count == 2, let subscribers = parts[1].integer else {
                    checking.remove(target)
                    return
                }
                guard subscribers > 0 else {
                    checking.remove(target)
                    return receiverGone(target, why: "its connection to Redis is gone (the process died or was cut off)")
                }
                commands.send("ZSCORE", key(name), target) { [self] result in
                    checking.remove(target)
                    guard case .success(let reply) = result else { return }
                    let expiry = reply.string.flatMap { Double($0) }
                    if expiry == nil || expiry! < Double(wallMilliseconds) {
                        receiverGone(target, why: "its presence expired (no heartbeat for \(Self.presenceMilliseconds) ms)")
                    }
                }
            }
        }
    }

    /// Fails every call waiting for `target` at once, and forgets it as a receiver.
    private func receiverGone(_ target: String, why: String) {
        let calls = pending.filter { $0.value.target == target }
        guard !calls.isEmpty else { return }
        for (id, call) in calls.sorted(by: { $0.key < $1.key }) {
            pending.removeValue(forKey: id)
            call.timer.close()
            call.reply(.failure(RemoteServiceFailure(kind: .failed, message: "service '\(call.name)': instance \(target) took the call and is gone: \(why); the call may or may not have run there")))
        }
        for (name, known) in presence { presence[name] = (known.instances.filter { $0 != target }, known.fetched) }
        logger.warning("service calls failed: their instance is gone", metadata: ["instance": "\(target)", "calls": "\(calls.count)", "why": "\(why)"])
    }

    /// A message on this instance's inbox: a call to answer, or the answer to a call made here.
    func received(_ bytes: [UInt8]) {
        guard let message = ServiceMessage(bytes) else { return }
        switch message.kind {
        case .reply:
            guard let call = pending.removeValue(forKey: message.id) else { return }
            call.timer.close()
            call.reply(message.ok ? .success(message.payload)
                                  : .failure(RemoteServiceFailure(kind: .failed, message: String(decoding: message.payload, as: UTF8.self))))
        case .request:
            metrics?.counter("plexus_cluster_service_calls_total", [("direction", "in")], help: "Service calls sent to or taken from other instances").increment()
            invokeLocal(message.name, payload: message.payload, timeoutMilliseconds: message.timeoutMilliseconds) { [self] result in
                let answer: ServiceMessage
                switch result {
                case .success(let bytes):
                    answer = ServiceMessage(kind: .reply, id: message.id, timeoutMilliseconds: 0, ok: true, from: instance, name: message.name, payload: bytes)
                case .failure(let failure):
                    answer = ServiceMessage(kind: .reply, id: message.id, timeoutMilliseconds: 0, ok: false, from: instance, name: message.name,
                                            payload: Array(failure.message.utf8))
                }
                commands.send([Array("PUBLISH".utf8), Array((keys.prefix + "rpc:" + message.from).utf8), answer.bytes]) { _ in }
            }
        }
    }

    /// Calls this process's own plugin.
    private func invokeLocal(_ name: String, payload: [UInt8], timeoutMilliseconds: UInt64, completion: @escaping (Result<[UInt8], RemoteServiceFailure>) -> Void) {
        guard let registry else { return completion(.failure(RemoteServiceFailure(kind: .notFound, message: "shutting down"))) }
        let box = Unmanaged.passRetained(ReplyBox(completion)).toOpaque()
        registry.call(name, caller: nil, payload: payload, timeoutMilliseconds: timeoutMilliseconds, localOnly: true, reply: { user, status, bytes in
            let box = Unmanaged<ReplyBox>.fromOpaque(user!).takeRetainedValue()
            let data = bytes.data.map { Array(UnsafeRawBufferPointer(start: $0, count: bytes.length)) } ?? []
            box.completion(status == Int32(PLEXUS_OK.rawValue) ? .success(data)
                                                               : .failure(RemoteServiceFailure(kind: .failed, message: String(decoding: data, as: UTF8.self))))
        }, user: box)
    }

    private final class ReplyBox {
        let completion: (Result<[UInt8], RemoteServiceFailure>) -> Void
        init(_ completion: @escaping (Result<[UInt8], RemoteServiceFailure>) -> Void) { self.completion = completion }
    }
}

/// A service call or answer between instances: kind, call id, timeout, outcome, then the
/// caller's instance, the service name and the payload, each length-prefixed (little-endian).
struct ServiceMessage: Equatable {
    enum Kind: UInt8 { case request = 1, reply = 2 }
    let kind: Kind
    let id: UInt64
    let timeoutMilliseconds: UInt64
    let ok: Bool
    let from: String
    let name: String
    let payload: [UInt8]

    init(kind: Kind, id: UInt64, timeoutMilliseconds: UInt64, ok: Bool, from: String, name: String, payload: [UInt8]) {
        (self.kind, self.id, self.timeoutMilliseconds, self.ok, self.from, self.name, self.payload) = (kind, id, timeoutMilliseconds, ok, from, name, payload)
    }

    var bytes: [UInt8] {
        var output: [UInt8] = [kind.rawValue, ok ? 1 : 0]
        withUnsafeBytes(of: id.littleEndian) { output.append(contentsOf: $0) }
        withUnsafeBytes(of: timeoutMilliseconds.littleEndian) { output.append(contentsOf: $0) }
        for field in [Array(from.utf8), Array(name.utf8), payload] {
            withUnsafeBytes(of: UInt32(field.count).littleEndian) { output.append(contentsOf: $0) }
            output.append(contentsOf: field)
        }
        return output
    }

    init?(_ bytes: [UInt8]) {
        guard bytes.count >= 18, let kind = Kind(rawValue: bytes[0]) else { return nil }
        func integer(_ at: Int, _ width: Int) -> UInt64 { (0..<width).reduce(0) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) } }
        var index = 18
        var fields: [[UInt8]] = []
        for _ in 0..<3 {
            guard bytes.count - index >= 4 else { return nil }
            let length = Int(integer(index, 4))
            index += 4
            guard bytes.count - index >= length else { return nil }
            fields.append(Array(bytes[index..<(index + length)]))
            index += length
        }
        self.init(kind: kind, id: integer(2, 8), timeoutMilliseconds: integer(10, 8), ok: bytes[1] == 1,
                  from: String(decoding: fields[0], as: UTF8.self), name: String(decoding: fields[1], as: UTF8.self), payload: fields[2])
    }
}
