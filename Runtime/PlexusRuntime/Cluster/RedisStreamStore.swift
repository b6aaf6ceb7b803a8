import Foundation
import Logging
import PlexusEventLog

/// Durable topics on Redis Streams, shared by every instance of an installation.
///
/// One stream (``ClusterKeys/stream``) holds every durable event, bounded by `XADD MAXLEN ~`
/// and trimmed by age with `XTRIM MINID`; an event's id is made from its entry id, so ids sort
/// in stream order and replay by id or time maps onto `XRANGE`. A consumer group is a stream
/// consumer group; each instance reads as its own consumer (`XREADGROUP … >`), events outside
/// the group's pattern are acknowledged unseen, and entries left pending longer than the claim
/// time (an instance died, or a nack's delay passed) are taken over with `XAUTOCLAIM`. An entry
/// delivered `maxAttempts` times is acknowledged, added to the group's dead-letter stream and
/// announced as `deadletter.<group>`.
///
/// Loop thread only: every method runs on the loop and completes there.
final class RedisStreamStore: DurableStore {
    private let redis: RedisConnection
    private let keys: ClusterKeys
    private let consumer: String
    private let settings: ClusterRedisSettings
    private let maxAttempts: Int
    private let maxAgeMilliseconds: UInt64
    private let loop: EventLoop
    private let logger: Logger
    /// Groups this instance consumes, with their patterns.
    private var patterns: [String: TopicPattern] = [:]
    /// When each group last looked for entries to claim (loop milliseconds).
    private var lastClaim: [String: UInt64] = [:]
    /// Publishes a `deadletter.<group>` event (set by the cluster).
    var announceDeadLetter: ((EventEnvelope) -> Void)?

    init(redis: RedisConnection, keys: ClusterKeys, consumer: String, settings: ClusterRedisSettings, maxAttempts: Int,
         maxAgeSeconds: UInt64, loop: EventLoop, logger: Logger) {
        self.redis = redis
        self.keys = keys
        self.consumer = consumer
        self.settings = settings
        self.maxAttempts = max(1, maxAttempts)
        self.maxAgeMilliseconds = maxAgeSeconds * 1000
        self.loop = loop
        self.logger = logger
    }

    // MARK: Publishing

    func append(_ envelope: EventEnvelope, completion: @escaping @Sendable (Result<AppendReceipt, EventLogError>) -> Void) {
        var arguments: [[UInt8]] = [Array("XADD".utf8), Array(keys.stream.utf8)]
        if settings.streamMaxEvents > 0 { arguments += [Array("MAXLEN".utf8), Array("~".utf8), Array(String(settings.streamMaxEvents).utf8)] }
        arguments += [Array("*".utf8), Array("e".utf8), ClusterEnvelopeCodec.encode(envelope, origin: consumer)]
        redis.send(arguments) { result in
            switch result {
            case .success(let reply):
                guard let entry = reply.string, let id = ClusterEnvelopeCodec.id(streamID: entry) else {
                    return completion(.failure(.backend("XADD answered \(reply)", at: "append to \(self.keys.stream)")))
                }
                let receipt = AppendReceipt(storedAs: id, sequence: Int64(bitPattern: id.high >> 16))
                guard self.settings.waitReplicas > 0 else { return completion(.success(receipt)) }
                self.waitForReplicas(receipt, completion: completion)
            case .failure(let failure):
                completion(.failure(.backend(failure.description, at: "append to \(self.keys.stream)")))
            }
        }
    }

    /// `WAIT`: acknowledged once ``ClusterRedisSettings/waitReplicas`` replicas have the write,
    /// else refused (the event is on the primary: a publisher that retries may store it twice).
    private func waitForReplicas(_ receipt: AppendReceipt, completion: @escaping @Sendable (Result<AppendReceipt, EventLogError>) -> Void) {
        let wanted = settings.waitReplicas, timeout = settings.waitTimeoutMilliseconds
        redis.send("WAIT", "\(wanted)", "\(timeout)") { result in
            if case .success(.integer(let replicas)) = result, replicas >= wanted { return completion(.success(receipt)) }
            let got = (try? result.get()).map { "\($0)" } ?? "\(result)"
            completion(.failure(.backend("event \(receipt.id) is on the primary but only \(got.trimmingCharacters(in: [":"])) of \(wanted) replicas had it within \(timeout) ms (cluster.redis_wait_replicas)",
                                         at: "WAIT")))
        }
    }

    // MARK: Consumer groups

    func createGroup(_ name: String, pattern: TopicPattern, startAt: StartPosition, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F || byte == 0x2D
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else {
            return completion(.failure(.badArgument("group name '\(name.prefix(64))' must be 1–64 characters of A–Z, a–z, 0–9, '_' or '-'", at: "consumer group")))
        }
        let start: String
        switch startAt {
        case .end: start = "$"
        case .beginning: start = "0"
        case .id(let id): start = ClusterEnvelopeCodec.streamID(id)
        case .time(let date):
            let millis = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded()))
            start = millis == 0 ? "0" : "\(millis - 1)-18446744073709551615"
        }
        redis.send("HSETNX", keys.groups, name, pattern.description) { _ in }
        redis.send("HGET", keys.groups, name) { [self] result in
            if case .success(let reply) = result, let existing = reply.string, existing != pattern.description {
                return completion(.failure(.groupPatternDiffers("group '\(name)' has pattern '\(existing)', not '\(pattern)'", at: "createGroup")))
            }
            redis.send("XGROUP", "CREATE", keys.stream, name, start, "MKSTREAM") { [self] result in
                switch result {
                case .success(.error(let text)) where !text.hasPrefix("BUSYGROUP"):
                    completion(.failure(.backend(text, at: "XGROUP CREATE \(name)")))
                case .success:
                    patterns[name] = pattern
                    completion(.success(()))
                case .failure(let failure):
                    completion(.failure(.backend(failure.description, at: "createGroup \(name)")))
                }
            }
        }
    }

    func fetch(group name: String, max: Int, visibilityTimeout: Duration?, completion: @escaping @Sendable (Result<[Delivery], EventLogError>) -> Void) {
        guard let pattern = patterns[name] else { return completion(.failure(.groupNotFound)) }
        let now = loop.now
        let claimDue = now - (lastClaim[name] ?? 0) >= min(1_000, settings.claimIdleMilliseconds)
        let deadline = Date().addingTimeInterval(Double(settings.claimIdleMilliseconds) / 1000)
        var deliveries: [Delivery] = []
        var failure: EventLogError?
        let finish = { [self] in
            if let failure, deliveries.isEmpty { return completion(.failure(failure)) }
            completion(.success(deliveries))
            _ = self
        }
        // New entries first; claims (if due) after, in the same pipeline.
        redis.send("XREADGROUP", "GROUP", name, consumer, "COUNT", "\(max)", "STREAMS", keys.stream, ">") { [self] result in
            switch result {
            case .success(let reply):
                if let text = reply.errorText {
                    failure = .backend(text, at: "XREADGROUP \(name)")
                    // Redis lost the group (restarted without persistence): made again, from new events on.
                    if text.hasPrefix("NOGROUP") {
                        logger.warning("durable group missing in Redis; created again from new events on", metadata: ["group": "\(name)"])
                        redis.send("XGROUP", "CREATE", keys.stream, name, "$", "MKSTREAM") { _ in }
                    }
                    break
                }
                // [[stream, [[id, [field, value…]]…]]] or nil when nothing is new.
                let entries = reply.array?.first?.array?.dropFirst().first?.array ?? []
                deliveries += accept(entries, group: name, pattern: pattern, attempt: { _ in 1 }, deadline: deadline)
            case .failure(let error):
                failure = .backend(error.description, at: "XREADGROUP \(name)")
            }
            if !claimDue || deliveries.count >= max { return finish() }
            lastClaim[name] = now
            claim(group: name, pattern: pattern, max: max - deliveries.count, deadline: deadline) { claimed in
                deliveries += claimed
                finish()
            }
        }
    }

    /// Dead-letters over-delivered idle entries, then claims the other idle ones (`XAUTOCLAIM`).
    private func claim(group name: String, pattern: TopicPattern, max: Int, deadline: Date, completion: @escaping ([Delivery]) -> Void) {
        let idle = "\(settings.claimIdleMilliseconds)"
        redis.send("XPENDING", keys.stream, name, "IDLE", idle, "-", "+", "\(max)") { [self] result in
            var counts: [String: Int] = [:]
            if case .success(let reply) = result {
                for item in reply.array ?? [] {
                    guard let fields = item.array, fields.count == 4, let id = fields[0].string, let count = fields[3].integer else { continue }
                    counts[id] = Int(count)
                }
            }
            for (id, count) in counts where count >= maxAttempts { deadLetter(group: name, entryID: id, attempts: count) }
            redis.send("XAUTOCLAIM", keys.stream, name, consumer, idle, "0-0", "COUNT", "\(max)") { [self] result in
                guard case .success(let reply) = result, let parts = reply.array, parts.count >= 2, let entries = parts[1].array else {
                    return completion([])
                }
                let claimed = accept(entries, group: name, pattern: pattern, attempt: { (counts[$0] ?? 1) + 1 }, deadline: deadline)
                if !claimed.isEmpty {
                    logger.info("claimed durable deliveries left pending", metadata: ["group": "\(name)", "count": "\(claimed.count)"])
                }
                completion(claimed)
            }
        }
    }

    /// Decodes stream entries into deliveries; entries outside the group's pattern (or unreadable) are acknowledged.
    private func accept(_ entries: [RedisReply], group: String, pattern: TopicPattern, attempt: (String) -> Int, deadline: Date) -> [Delivery] {
        var deliveries: [Delivery] = []
        var skipped: [String] = []
        for entry in entries {
            guard let parts = entry.array, parts.count == 2, let entryID = parts[0].string else { continue }
            guard let event = Self.event(entryID: entryID, fields: parts[1]), pattern.matches(event.topic) else {
                skipped.append(entryID)
                continue
            }
            deliveries.append(Delivery(of: event, attempt: attempt(entryID), deadline: deadline))
        }
        if !skipped.isEmpty { redis.send(["XACK", keys.stream, group].map { Array($0.utf8) } + skipped.map { Array($0.utf8) }) { _ in } }
        return deliveries
    }

    /// The event stored in a stream entry (its `e` field), with its id made from the entry id.
    static func event(entryID: String, fields: RedisReply) -> EventEnvelope? {
        guard let list = fields.array, let id = ClusterEnvelopeCodec.id(streamID: entryID) else { return nil }
        var index = 0
        while index + 1 < list.count {
            if list[index].string == "e", let bytes = list[index + 1].bytes, var event = ClusterEnvelopeCodec.decode(bytes)?.event {
                event.id = id
                return event
            }
            index += 2
        }
        return nil
    }

    private func deadLetter(group name: String, entryID: String, attempts: Int) {
        redis.send("XACK", keys.stream, name, entryID) { [self] result in
            // Only the instance whose XACK removed the entry writes the dead letter.
            guard case .success(.integer(1)) = result, let id = ClusterEnvelopeCodec.id(streamID: entryID) else { return }
            redis.send("HGET", keys.reasons(name), entryID) { [self] reasonReply in
                let reason = (try? reasonReply.get().string) ?? nil
                let why = reason ?? "not acknowledged within \(settings.claimIdleMilliseconds) ms"
                let millis = String(Int64(Date().timeIntervalSince1970 * 1000))
                redis.send("XADD", keys.deadLetters(name), "*", "id", id.description, "entry", entryID, "attempts", "\(attempts)",
                           "reason", why, "time", millis) { _ in }
                redis.send("HDEL", keys.reasons(name), entryID) { _ in }
                redis.send("XRANGE", keys.stream, entryID, entryID) { [self] entryReply in
                    guard case .success(let reply) = entryReply, let entry = reply.array?.first?.array, entry.count == 2,
                          let original = Self.event(entryID: entryID, fields: entry[1]) else { return }
                    logger.warning("durable event dead-lettered", metadata: ["group": "\(name)", "event": "\(id)", "attempts": "\(attempts)"])
                    announceDeadLetter?(EventEnvelope(topic: "deadletter.\(name)", source: "plexus.eventlog", tenant: original.tenant,
                                                      priority: original.priority, contentType: original.contentType, payload: original.payload,
                                                      correlationID: original.correlationID, causationID: original.id.description,
                                                      schemaVersion: original.schemaVersion))
                }
            }
        }
    }

    func ack(group name: String, id: ULID, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        redis.send("XACK", keys.stream, name, ClusterEnvelopeCodec.streamID(id)) { result in
            switch result {
            case .success(.integer(1)): completion(.success(()))
            case .success(let reply): completion(.failure(.notPending("XACK answered \(reply) for \(id)", at: "ack \(name)")))
            case .failure(let failure): completion(.failure(.backend(failure.description, at: "ack \(name)")))
            }
        }
    }

    /// Keeps the entry pending with its reason and makes it look idle enough to be claimed again in about a second.
    func nack(group name: String, id: ULID, reason: String, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        let entryID = ClusterEnvelopeCodec.streamID(id)
        let idle = settings.claimIdleMilliseconds > 1_000 ? settings.claimIdleMilliseconds - 1_000 : 0
        redis.send("HSET", keys.reasons(name), entryID, reason) { _ in }
        redis.send("PEXPIRE", keys.reasons(name), "\(max(settings.claimIdleMilliseconds * UInt64(maxAttempts) * 4, 86_400_000))") { _ in }
        redis.send("XCLAIM", keys.stream, name, consumer, "0", entryID, "IDLE", "\(idle)", "JUSTID") { result in
            switch result {
            case .success(.array(let ids)) where !ids.isEmpty: completion(.success(()))
            case .success(let reply): completion(.failure(.notPending("XCLAIM answered \(reply) for \(id)", at: "nack \(name)")))
            case .failure(let failure): completion(.failure(.backend(failure.description, at: "nack \(name)")))
            }
        }
    }

    func deadLetters(group name: String, completion: @escaping @Sendable (Result<[DeadLetter], EventLogError>) -> Void) {
        redis.send("XRANGE", keys.deadLetters(name), "-", "+", "COUNT", "10000") { result in
            switch result {
            case .success(let reply):
                let letters: [DeadLetter] = (reply.array ?? []).compactMap { entry in
                    guard let parts = entry.array, parts.count == 2, let list = parts[1].array else { return nil }
                    var fields: [String: String] = [:]
                    var index = 0
                    while index + 1 < list.count {
                        if let key = list[index].string { fields[key] = list[index + 1].string }
                        index += 2
                    }
                    guard let id = fields["id"].flatMap(ULID.init), let attempts = fields["attempts"].flatMap(Int.init),
                          let millis = fields["time"].flatMap(Double.init) else { return nil }
                    return DeadLetter(group: name, eventID: id, attempts: attempts, reason: fields["reason"] ?? "",
                                      time: Date(timeIntervalSince1970: millis / 1000))
                }
                completion(.success(letters))
            case .failure(let failure): completion(.failure(.backend(failure.description, at: "deadLetters \(name)")))
            }
        }
    }

    /// Removes the dead letter and makes its entry pending for the group again with a fresh
    /// count (`XCLAIM … FORCE RETRYCOUNT 0`, idle long enough to be claimed at once), so the next
    /// claim on any instance delivers it. Fails when the group has no such dead letter, or when
    /// retention has trimmed the event from the stream.
    func redrive(group name: String, id: ULID, completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        let entryID = ClusterEnvelopeCodec.streamID(id)
        redis.send("XRANGE", keys.deadLetters(name), "-", "+", "COUNT", "10000") { [self] result in
            guard case .success(let reply) = result, let entries = reply.array else {
                return completion(.failure(.backend("reading \(keys.deadLetters(name)) failed: \(result)", at: "redrive \(name)")))
            }
            let letter = entries.first { entry in
                guard let parts = entry.array, parts.count == 2, let fields = parts[1].array else { return false }
                return stride(from: 0, to: fields.count - 1, by: 2).contains { fields[$0].string == "id" && fields[$0 + 1].string == id.description }
            }
            guard let letterID = letter?.array?.first?.string else {
                return completion(.failure(.noDeadLetter("group '\(name)' has no dead letter for event \(id)", at: "redrive \(name)")))
            }
            redis.send("XCLAIM", keys.stream, name, consumer, "0", entryID, "IDLE", "\(settings.claimIdleMilliseconds)", "RETRYCOUNT", "0",
                       "FORCE", "JUSTID") { [self] result in
                guard case .success(.array(let claimed)) = result, !claimed.isEmpty else {
                    return completion(.failure(.backend("event \(id) is no longer in \(keys.stream) (retention removed it): \((try? result.get()).map { "\($0)" } ?? "\(result)")",
                                                        at: "redrive \(name)")))
                }
                redis.send("XDEL", keys.deadLetters(name), letterID) { _ in }
                redis.send("HDEL", keys.reasons(name), entryID) { _ in }
                // Claimable now, whatever the throttle: the next fetch looks.
                lastClaim[name] = nil
                completion(.success(()))
            }
        }
    }

    // MARK: Replay and maintenance

    func events(matching pattern: TopicPattern, since: StartPosition, limit: Int, tenant: String?,
                completion: @escaping @Sendable (Result<[EventEnvelope], EventLogError>) -> Void) {
        let start: String
        switch since {
        case .end: return completion(.success([]))
        case .beginning: start = "-"
        case .id(let id): start = "(" + ClusterEnvelopeCodec.streamID(id)
        case .time(let date): start = "\(UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded())))-0"
        }
        page(from: start, pattern: pattern, tenant: tenant, limit: limit, found: [], scanned: 0, completion: completion)
    }

    /// Reads `XRANGE` pages until `limit` matching events are found, the stream ends, or 100,000 entries were scanned.
    private func page(from start: String, pattern: TopicPattern, tenant: String?, limit: Int, found: [EventEnvelope], scanned: Int,
                      completion: @escaping @Sendable (Result<[EventEnvelope], EventLogError>) -> Void) {
        let count = 1_000
        redis.send("XRANGE", keys.stream, start, "+", "COUNT", "\(count)") { [self] result in
            guard case .success(let reply) = result, let entries = reply.array else {
                if case .failure(let failure) = result { return completion(.failure(.backend(failure.description, at: "events"))) }
                return completion(.failure(.backend("XRANGE answered \((try? result.get())?.description ?? "")", at: "events")))
            }
            var found = found
            var last: String?
            for entry in entries {
                guard let parts = entry.array, parts.count == 2, let entryID = parts[0].string else { continue }
                last = entryID
                guard let event = Self.event(entryID: entryID, fields: parts[1]), pattern.matches(event.topic) else { continue }
                if let tenant, event.tenant != tenant { continue }
                found.append(event)
                if found.count == limit { return completion(.success(found)) }
            }
            let total = scanned + entries.count
            guard entries.count == count, let last, total < 100_000 else { return completion(.success(found)) }
            page(from: "(" + last, pattern: pattern, tenant: tenant, limit: limit, found: found, scanned: total, completion: completion)
        }
    }

    /// Trims entries older than the retention age (`XTRIM MINID ~`); returns how many went.
    func runMaintenance(completion: @escaping @Sendable (Result<Int, EventLogError>) -> Void) {
        guard maxAgeMilliseconds > 0 else { return completion(.success(0)) }
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        guard now > maxAgeMilliseconds else { return completion(.success(0)) }
        redis.send("XTRIM", keys.stream, "MINID", "~", "\(now - maxAgeMilliseconds)-0") { result in
            completion(.success(Int((try? result.get().integer) ?? 0)))
        }
    }

    /// The connection belongs to the cluster, which closes it.
    func close(completion: @escaping @Sendable (Result<Void, EventLogError>) -> Void) {
        patterns.removeAll()
        completion(.success(()))
    }
}
