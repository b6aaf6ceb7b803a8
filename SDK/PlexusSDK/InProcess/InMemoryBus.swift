import Foundation

/// The event bus and request/reply services in memory, with the runtime's topic grammar:
/// dot-separated segments of printable characters (at most 256 bytes, 64 per segment, 16
/// segments), `+` one segment and a last `#` the rest in patterns, reserved prefixes refused on
/// publish. As in a debug runtime, the plugin may publish only on the topics its manifest
/// declares (`declaredTopics`), and a client (``publishAsClient(_:durable:)``, the test) not on
/// those. Live handlers run on the loop after the publish returns, from a bounded priority queue
/// per subscription as in the runtime (``InMemoryQueue``: `queueLimit` or 10,000 events, higher
/// priority first, the overflow policy on a full queue, drops counted); a durable group gets each
/// event once and is retried up to `maxAttempts` times before the event is dead-lettered.
@PluginActor
public final class InMemoryBus: BusDriver, ServiceDriver {
    /// A durable delivery that failed every attempt.
    public struct DeadLetter: Sendable {
        /// The event.
        public let event: Event
        /// The consumer group.
        public let group: String
        /// The last handler error.
        public let reason: String
    }

    private final class Subscriber {
        let pattern: [Substring]
        let group: String?
        let handler: SubscriptionHandler
        /// Live events waiting for the handler.
        var queue: InMemoryQueue
        var drainScheduled = false

        init(pattern: [Substring], group: String?, handler: SubscriptionHandler, queue: InMemoryQueue) {
            (self.pattern, self.group, self.handler, self.queue) = (pattern, group, handler, queue)
        }
    }

    /// A live subscription's queue limit when it names none (the runtime's `[bus]` default).
    public static let defaultQueueLimit = 10_000
    /// Events one subscriber gets per turn of the loop before the others get theirs (as the runtime's bus).
    public static let drainBudget = 256

    /// The name events are published under (the plugin's name).
    public var source: String
    /// Deliveries a durable group gets before its event is dead-lettered.
    public let maxAttempts: Int
    /// Every event published so far, in order.
    public private(set) var published: [Event] = []
    /// Durable events whose group failed every attempt.
    public private(set) var deadLetters: [DeadLetter] = []

    private var subscribers: [UInt64: Subscriber] = [:]
    private var services: [String: @PluginActor ([UInt8]) async throws -> [UInt8]] = [:]
    private var nextID: UInt64 = 1
    private var sequence: UInt64 = 0
    private let loop: InProcessLoop
    private let declaredTopics: [String]

    /// A bus on `loop` whose plugin, `source`, declares `declaredTopics` (patterns) in its manifest.
    public init(loop: InProcessLoop, source: String, declaredTopics: [String] = [], maxAttempts: Int = 5) {
        self.loop = loop
        self.source = source
        self.declaredTopics = declaredTopics
        self.maxAttempts = max(maxAttempts, 1)
    }

    // MARK: Bus

    /// The plugin's publish: only on a topic its manifest declares.
    public func publish(_ draft: EventDraft, durable: Bool) async throws -> String {
        try check(draft.topic)
        guard declaredTopics.contains(where: { Self.matches($0, draft.topic) }) else {
            let declared = declaredTopics.isEmpty ? "none" : declaredTopics.map { "'\($0)'" }.joined(separator: ", ")
            throw PluginError.busRefused("topic '\(draft.topic)' is not declared by plugin '\(source)' (its manifest's publishes: \(declared)); "
                                         + "fix: add a TopicDeclaration for it to the manifest's publishes")
        }
        return emit(draft, source: source, durable: durable)
    }

    /// A client's (or another plugin's) publish: not on the runtime's namespaces nor on a topic the plugin declares.
    @discardableResult
    public func publishAsClient(_ draft: EventDraft, durable: Bool) throws -> String {
        try check(draft.topic)
        if let pattern = declaredTopics.first(where: { Self.matches($0, draft.topic) }) {
            throw PluginError.busRefused("topic '\(draft.topic)' is reserved: plugin '\(source)' declares '\(pattern)' as its own")
        }
        return emit(draft, source: "http", durable: durable)
    }

    private func check(_ topic: String) throws {
        if let problem = Self.problem(in: topic, pattern: false) { throw PluginError.busRefused("topic '\(topic)': \(problem)") }
        if let reserved = ["system.", "deadletter.", "storage."].first(where: { topic.hasPrefix($0) }) {
            throw PluginError.busRefused("topic '\(topic)' is reserved (\(reserved)…): the runtime publishes there")
        }
    }

    private func emit(_ draft: EventDraft, source: String, durable: Bool) -> String {
        sequence += 1
        let event = Event(id: String(format: "%026llu", sequence), topic: draft.topic, source: source, tenant: draft.tenant, time: Date(),
                          priority: draft.priority, contentType: draft.contentType, payload: draft.payload,
                          correlationID: draft.correlationID, causationID: draft.causationID, schemaVersion: draft.schemaVersion)
        published.append(event)
        deliver(event, durable: durable)
        return event.id
    }

    public func subscribe(_ spec: SubscriptionSpec, _ handler: SubscriptionHandler) throws -> UInt64 {
        if let problem = Self.problem(in: spec.pattern, pattern: true) { throw PluginError.busRefused("pattern '\(spec.pattern)': \(problem)") }
        if spec.group != nil, spec.maxAttempts != 0 { throw PluginError.busRefused("maxAttempts is reserved and must be 0") }
        if let group = spec.group, group.isEmpty || group.utf8.count > 64 { throw PluginError.busRefused("group must be 1 to 64 bytes") }
        guard spec.queueLimit >= 0 else { throw PluginError.busRefused("queueLimit \(spec.queueLimit) is negative (0: the default)") }
        let id = nextID
        nextID += 1
        // The C ABI carries the limit as a uint32_t: larger values are clamped, as the host driver does.
        let limit = spec.queueLimit == 0 ? Self.defaultQueueLimit : Int(UInt32(clamping: spec.queueLimit))
        subscribers[id] = Subscriber(pattern: spec.pattern.split(separator: ".", omittingEmptySubsequences: false), group: spec.group,
                                     handler: handler, queue: InMemoryQueue(limit: limit, overflow: spec.overflow))
        return id
    }

    /// Subscribes; a subscription in memory is complete at once, so `ready` runs on the next turn
    /// of the loop (as the runtime's callback never runs inside `subscribe`), unless it ended first.
    public func subscribe(_ spec: SubscriptionSpec, _ handler: SubscriptionHandler, ready: @escaping @PluginActor (PluginError?) -> Void) throws -> UInt64 {
        let id = try subscribe(spec, handler)
        loop.post { [weak self] in
            PluginActor.runOnLoop {
                guard let self, self.subscribers[id] != nil else { return }
                ready(nil)
            }
        }
        return id
    }

    public func unsubscribe(_ id: UInt64) { subscribers.removeValue(forKey: id) }

    /// Live events subscription `id` lost to its queue's overflow policy (0 for an unknown id).
    public func dropped(_ id: UInt64) -> UInt64 { subscribers[id]?.queue.dropped ?? 0 }

    /// Live events waiting in subscription `id`'s queue.
    public func queueDepth(_ id: UInt64) -> Int { subscribers[id]?.queue.depth ?? 0 }

    /// Whether `topic` matches `pattern` (`+` one segment, a last `#` any rest, including none).
    public nonisolated static func matches(_ pattern: String, _ topic: String) -> Bool {
        matches(pattern.split(separator: ".", omittingEmptySubsequences: false), topic.split(separator: ".", omittingEmptySubsequences: false))
    }

    private nonisolated static func matches(_ pattern: [Substring], _ topic: [Substring]) -> Bool {
        for (index, segment) in pattern.enumerated() {
            if segment == "#" { return true }
            guard index < topic.count, segment == "+" || segment == topic[index] else { return false }
        }
        return pattern.count == topic.count
    }

    /// Why `text` is no valid topic (or pattern), or nil.
    nonisolated static func problem(in text: String, pattern: Bool) -> String? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 256 else { return "must be 1 to 256 bytes" }
        if let index = bytes.firstIndex(where: { $0 <= 0x20 || $0 == 0x7F }) {
            return "character 0x\(String(bytes[index], radix: 16)) at byte \(index + 1) is not printable"
        }
        let segments = text.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count <= 16 else { return "at most 16 segments" }
        for (index, segment) in segments.enumerated() {
            guard !segment.isEmpty, segment.utf8.count <= 64 else { return "segment \(index + 1) must be 1 to 64 bytes" }
            let wildcard = segment.contains("+") || segment.contains("#")
            if wildcard && !pattern { return "wildcards are for patterns" }
            if wildcard && !(segment == "+" || (segment == "#" && index == segments.count - 1)) {
                return "segment \(index + 1): '+' stands alone and '#' stands alone and last"
            }
        }
        return nil
    }

    private func deliver(_ event: Event, durable: Bool) {
        let topic = event.topic.split(separator: ".", omittingEmptySubsequences: false)
        var groupsServed: Set<String> = []
        for (_, subscriber) in subscribers.sorted(by: { $0.key < $1.key }) where Self.matches(subscriber.pattern, topic) {
            switch subscriber.handler {
            case .live:
                subscriber.queue.enqueue(event)
                scheduleDrain(subscriber)
            case .durable(let handler):
                guard durable, let group = subscriber.group, groupsServed.insert(group).inserted else { continue }
                Task { @PluginActor in await self.attempt(event, group: group, handler, attempt: 1) }
            }
        }
    }

    /// Delivers the subscriber's queue on the loop, a budget per turn, until it is empty.
    private func scheduleDrain(_ subscriber: Subscriber) {
        guard !subscriber.drainScheduled else { return }
        subscriber.drainScheduled = true
        loop.post { [weak self, weak subscriber] in
            PluginActor.runOnLoop {
                guard let self, let subscriber else { return }
                subscriber.drainScheduled = false
                guard case .live(let handler) = subscriber.handler else { return }
                for event in subscriber.queue.take(Self.drainBudget) {
                    guard self.subscribers.values.contains(where: { $0 === subscriber }) else { return }
                    handler(event)
                }
                if subscriber.queue.depth > 0 { self.scheduleDrain(subscriber) }
            }
        }
    }

    private func attempt(_ event: Event, group: String, _ handler: @PluginActor (Event) async throws -> Void, attempt: Int) async {
        do {
            try await handler(event)
        } catch {
            if attempt < maxAttempts {
                await self.attempt(event, group: group, handler, attempt: attempt + 1)
            } else {
                deadLetters.append(DeadLetter(event: event, group: group, reason: "\(error)"))
            }
        }
    }

    // MARK: Services

    public func register(_ name: String, _ handler: @escaping @PluginActor ([UInt8]) async throws -> [UInt8]) throws {
        guard !name.isEmpty, name.utf8.count <= 128, !name.utf8.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw PluginError.serviceFailed(name, "a service name is 1 to 128 printable bytes without spaces")
        }
        guard services[name] == nil else { throw PluginError.serviceFailed(name, "another handler already offers it") }
        services[name] = handler
    }

    public func call(_ name: String, payload: [UInt8], timeout: Duration) async throws -> [UInt8] {
        guard let handler = services[name] else { throw PluginError.serviceFailed(name, "no plugin offers it") }
        let outcome = ServiceOutcome()
        return try await withCheckedThrowingContinuation { continuation in
            outcome.continuation = continuation
            let timer = loop.schedule(afterMilliseconds: timeout.hostMilliseconds) {
                PluginActor.runOnLoop { outcome.settle(.failure(PluginError.serviceFailed(name, "no reply within \(timeout)"))) }
            }
            Task { @PluginActor in
                let result: Result<[UInt8], Error>
                do { result = .success(try await handler(payload)) } catch { result = .failure(PluginError.serviceFailed(name, "\(error)")) }
                self.loop.cancel(timer)
                outcome.settle(result)
            }
        }
    }
}

/// The first of a service's reply and its timeout.
@PluginActor
private final class ServiceOutcome {
    var continuation: CheckedContinuation<[UInt8], Error>?

    func settle(_ result: Result<[UInt8], Error>) {
        continuation?.resume(with: result)
        continuation = nil
    }
}
