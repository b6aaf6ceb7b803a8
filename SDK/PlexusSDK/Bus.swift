import CPlexusABI
import Foundation

/// Publishes and subscribes to events (needs a runtime with ABI 1.1 or later).
///
/// Topics are dot-separated segments of printable characters without whitespace or control
/// characters (at most 256 bytes, 64 per segment, 16 segments); patterns use `+` for exactly one
/// segment and `#` (last) for the rest: `ticket.+`, `tenant.acme.#`. The runtime checks every
/// topic and pattern and refuses others with ``PluginError/busRefused(_:)`` naming the character
/// or limit; it also refuses publishing on reserved topics (`system.…`, `deadletter.…`,
/// `storage.…`, and topics another plugin declares in its manifest). Handlers run on the loop thread.
@PluginActor
public final class Bus {
    let driver: any BusDriver
    private var subscriptions: [UInt64: SubscriptionCompletion] = [:]

    init(driver: any BusDriver) { self.driver = driver }

    /// Publishes an event; returns its id once the runtime accepted it. A `durable` publish
    /// returns only after the event was written to the durable log.
    @discardableResult
    public func publish(_ topic: String, payload: [UInt8], contentType: String = "application/octet-stream",
                        tenant: String = "", priority: Int = 0, correlationID: String? = nil, causationID: String? = nil,
                        schemaVersion: Int = 1, durable: Bool = false) async throws -> String {
        let event = EventDraft(topic: topic, payload: payload, contentType: contentType, tenant: tenant, priority: priority,
                               correlationID: correlationID, causationID: causationID, schemaVersion: schemaVersion)
        return try await driver.publish(event, durable: durable)
    }

    /// Publishes `value` as a JSON payload.
    @discardableResult
    public func publish<T: Encodable>(_ topic: String, json value: T, tenant: String = "", priority: Int = 0,
                                      correlationID: String? = nil, causationID: String? = nil, schemaVersion: Int = 1,
                                      durable: Bool = false) async throws -> String {
        let payload = Array(try Response.defaultEncoder.encode(value))
        return try await publish(topic, payload: payload, contentType: "application/json", tenant: tenant, priority: priority,
                                 correlationID: correlationID, causationID: causationID, schemaVersion: schemaVersion, durable: durable)
    }

    /// Subscribes `handler` to live events matching `pattern` (fire-and-forget delivery).
    /// - Parameters:
    ///   - queueLimit: events queued for this handler before `overflow` applies (0: runtime default).
    @discardableResult
    public func subscribe(_ pattern: String, queueLimit: Int = 0, overflow: OverflowPolicy = .dropOldest,
                          _ handler: @escaping @PluginActor (Event) -> Void) throws -> Subscription {
        try add(SubscriptionSpec(pattern: pattern, queueLimit: queueLimit, overflow: overflow, group: nil, maxAttempts: 0), .live(handler))
    }

    /// Subscribes a durable consumer group to durable events matching `pattern`: at-least-once
    /// delivery, acknowledged when `handler` returns, retried with backoff when it throws, and
    /// dead-lettered after the runtime's `[bus] max_attempts` deliveries (`maxAttempts` is
    /// reserved for a later ABI and must be 0).
    @discardableResult
    public func subscribe(_ pattern: String, group: String, maxAttempts: Int = 0,
                          _ handler: @escaping @PluginActor (Event) async throws -> Void) throws -> Subscription {
        try add(SubscriptionSpec(pattern: pattern, queueLimit: 0, overflow: .dropOldest, group: group, maxAttempts: maxAttempts), .durable(handler))
    }

    private func add(_ spec: SubscriptionSpec, _ handler: SubscriptionHandler) throws -> Subscription {
        // The pattern and group cross as C strings: a NUL would silently cut them short.
        for (name, text) in [("pattern", spec.pattern), ("group", spec.group ?? "")] {
            if let index = text.utf8.firstIndex(of: 0) {
                throw PluginError.busRefused("\(name) contains character U+0000 (NUL) at byte \(text.utf8.distance(from: text.utf8.startIndex, to: index) + 1); topics and groups are printable text")
            }
        }
        let completion = SubscriptionCompletion()
        let id = try driver.subscribe(spec, handler, ready: { [weak completion] failure in completion?.complete(failure) })
        subscriptions[id] = completion
        return Subscription(id: id, bus: self)
    }

    func cancel(_ id: UInt64) {
        guard let completion = subscriptions.removeValue(forKey: id) else { return }
        driver.unsubscribe(id)
        completion.end(id)
    }

    /// Waits until subscription `id` is complete; throws if it ends first.
    func waitUntilComplete(_ id: UInt64) async throws {
        guard let completion = subscriptions[id] else { throw PluginError.subscriptionEnded(id) }
        try await completion.wait()
    }

    /// Whether subscription `id` is complete (false once it ended).
    func isComplete(_ id: UInt64) -> Bool { subscriptions[id]?.isComplete ?? false }

    /// Cancels every subscription (the SDK calls it when the plugin stops).
    public func cancelAll() {
        for id in Array(subscriptions.keys) { cancel(id) }
    }
}

/// A live subscription; ``cancel()`` ends it.
///
/// `subscribe` returns before the subscription is necessarily complete: on PostgreSQL storage a
/// pattern that may match change topics (`storage.<plugin>.<table>.<op>`) is complete only once
/// the database logs that plugin's changes for this instance, a few milliseconds later. Await
/// ``ready()`` before doing what the subscriber must not miss (a write through another instance,
/// a request that makes one):
///
/// ```swift
/// let subscription = try context.bus.subscribe("storage.notes.notes.insert") { event in … }
/// try await subscription.ready()
/// ```
@PluginActor
public struct Subscription {
    /// The runtime's id for it.
    public let id: UInt64
    weak var bus: Bus?

    /// Stops delivery (a pending ``ready()`` throws).
    public func cancel() { bus?.cancel(id) }

    /// Returns once the subscription is complete: every event published from then on that matches
    /// it is delivered, including changes committed through another instance on PostgreSQL
    /// storage. At once (the next turn of the loop) when nothing needs to start, and always on a
    /// runtime older than ABI 1.10, which cannot tell. Throws ``PluginError`` when the
    /// subscription is cancelled (or the plugin stops) first, or when a change log it needs could
    /// not be started (its ``PluginError/status`` is a storage code: ``HostStatus/isStorageFailure``):
    /// the subscription stays and the runtime tries again at its next check (every 30 s), but
    /// writes until then may be missed; cancel and subscribe again to wait anew.
    public func ready() async throws {
        guard let bus else { throw PluginError.subscriptionEnded(id) }
        try await bus.waitUntilComplete(id)
    }

    /// Whether the subscription is complete (see ``ready()``).
    public var isComplete: Bool { bus?.isComplete(id) ?? false }
}

/// Whether one subscription is complete, and who waits for it.
@PluginActor
final class SubscriptionCompletion {
    private(set) var isComplete = false
    private var ended: UInt64?
    private var failure: PluginError?
    private var waiters: [CheckedContinuation<Void, Error>] = []

    /// The runtime's answer: complete, or `failure` (the subscription may complete later unseen).
    func complete(_ failure: PluginError?) {
        guard !isComplete, ended == nil, self.failure == nil else { return }
        if let failure {
            self.failure = failure
            resume(with: .failure(failure))
        } else {
            isComplete = true
            resume(with: .success(()))
        }
    }

    func end(_ id: UInt64) {
        guard ended == nil else { return }
        ended = id
        resume(with: .failure(PluginError.subscriptionEnded(id)))
    }

    func wait() async throws {
        if isComplete { return }
        if let ended { throw PluginError.subscriptionEnded(ended) }
        if let failure { throw failure }
        try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    private func resume(with result: Result<Void, Error>) {
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter.resume(with: result) }
    }
}

