import Foundation
import Logging
import PlexusEventLog

/// The in-process event bus: topic-pattern subscriptions in a trie, bounded per-subscriber
/// queues drained on the loop in priority order, and a hook for durable publishing.
///
/// Loop thread only. Publishing never calls a subscriber synchronously: events are queued and
/// the queues are drained in the next loop turn, a bounded number per subscriber per turn, so a
/// handler that publishes cannot recurse and a busy subscriber cannot starve the others.
final class EventBus {
    private let loop: EventLoop
    private let logger: Logger
    private var trie = TopicTrie<BusSubscription>()
    /// Topic → matching subscriptions, so a repeated topic costs one hash lookup instead of a
    /// trie walk (the sublist cache of NATS); emptied whenever subscriptions change. Bounded by
    /// the bytes its topics and lists hold, so many distinct or long topics cannot pin memory.
    private var matchCache: ByteBoundedCache<String, [BusSubscription]>
    /// The last topic fanned out and its subscriptions: a burst on one topic skips even the
    /// match cache's hashing. Cleared with the match cache.
    private var lastMatch: (topic: String, subscriptions: [BusSubscription])?
    /// The bytes the match cache holds now (topics, lists and bookkeeping).
    var matchCacheBytes: Int { matchCache.bytesHeld }
    /// The most bytes the match cache holds.
    static let defaultMatchCacheBytes = 4 << 20
    private(set) var subscriptions: [UInt64: BusSubscription] = [:]
    private var ready: [BusSubscription] = []
    private var drainScheduled = false
    private var nextID: UInt64 = 1
    let ids = ULIDGenerator()
    /// Default queue limit per subscription.
    var defaultQueueLimit = 10_000
    /// Events delivered to one subscriber before others get their turn.
    var drainBudget = 256
    private(set) var published: UInt64 = 0
    /// Called for every event published (after ids are assigned), e.g. to persist durable ones.
    var metrics: RuntimeMetrics?

    init(loop: EventLoop, logger: Logger, matchCacheBytes: Int = EventBus.defaultMatchCacheBytes) {
        self.loop = loop
        self.logger = logger
        matchCache = ByteBoundedCache(byteLimit: matchCacheBytes)
    }

    /// Subscribes `deliver` to `pattern`.
    func subscribe(_ pattern: TopicPattern, owner: String, queueLimit: Int? = nil, overflow: BusSubscription.Overflow = .dropOldest,
                   durableGroup: String? = nil, maxAttempts: Int = 5, filter: ((EventEnvelope) -> Bool)? = nil,
                   deliver: @escaping (EventEnvelope) -> Void) -> BusSubscription {
        let subscription = BusSubscription(id: nextID, pattern: pattern, owner: owner, limit: max(1, queueLimit ?? defaultQueueLimit),
                                           overflow: overflow, durableGroup: durableGroup, maxAttempts: maxAttempts, filter: filter, deliver: deliver)
        nextID += 1
        subscriptions[subscription.id] = subscription
        if durableGroup == nil {
            trie.insert(pattern, subscription)
            forgetMatches()
        }
        return subscription
    }

    /// Cancels a subscription; queued events are dropped.
    func unsubscribe(_ id: UInt64) {
        guard let subscription = subscriptions.removeValue(forKey: id) else { return }
        subscription.cancelled = true
        trie.removeAll(subscription.pattern) { $0 === subscription }
        forgetMatches()
    }

    /// Subscriptions changed: every remembered match may be wrong.
    private func forgetMatches() {
        matchCache.removeAll()
        lastMatch = nil
    }

    /// Cancels every subscription of `owner`.
    func unsubscribeAll(owner: String) {
        for subscription in subscriptions.values where subscription.owner == owner { unsubscribe(subscription.id) }
    }

    /// Fills in id and time, then queues the event for every matching live subscriber.
    /// The topic must have been validated by the caller.
    @discardableResult
    func publish(_ event: EventEnvelope) -> EventEnvelope {
        var event = event
        if event.id == ULID(high: 0, low: 0) { event.id = ids.next() }
        published += 1
        fanOut(event)
        return event
    }

    /// Queues an already-identified event (e.g. one just made durable) for live subscribers.
    func fanOut(_ event: EventEnvelope) {
        let matching: [BusSubscription]
        if let last = lastMatch, last.topic == event.topic {
            matching = last.subscriptions
        } else if let cached = matchCache[event.topic] {
            matching = cached
            lastMatch = (event.topic, cached)
        } else {
            matching = trie.matches(event.topic)
            matchCache.store(matching, for: event.topic, cost: Self.matchCacheCost(event.topic, matching.count))
            lastMatch = (event.topic, matching)
        }
        for subscription in matching where !subscription.cancelled && subscription.admits(event) {
            let outcome = subscription.enqueue(event)
            if outcome != .queued {
                metrics?.counter("plexus_bus_dropped_total", [("subscriber", subscription.owner)],
                                 help: "Events dropped by full subscriber queues").increment()
            }
            if outcome != .dropped, !subscription.scheduled {
                subscription.scheduled = true
                ready.append(subscription)
            }
        }
        scheduleDrain()
    }

    /// What one match-cache entry holds: the topic's bytes, the list's references, and the
    /// dictionary and string overhead.
    static func matchCacheCost(_ topic: String, _ matches: Int) -> Int {
        topic.utf8.count + matches * MemoryLayout<BusSubscription>.stride + 96
    }

    private func scheduleDrain() {
        guard !drainScheduled, !ready.isEmpty else { return }
        drainScheduled = true
        loop.execute { [unowned self] in drain() }
    }

    private func drain() {
        drainScheduled = false
        let batch = ready
        ready.removeAll(keepingCapacity: true)
        for subscription in batch {
            subscription.scheduled = false
            if subscription.drain(budget: drainBudget) {
                subscription.scheduled = true
                ready.append(subscription)
            }
        }
        scheduleDrain()
    }

    /// Queue depth and counters per subscription, for `/metrics` and the admin API.
    var stats: [(id: UInt64, owner: String, pattern: String, depth: Int, delivered: UInt64, dropped: UInt64)] {
        subscriptions.values.sorted { $0.id < $1.id }.map { ($0.id, $0.owner, $0.pattern.description, $0.depth, $0.delivered, $0.dropped) }
    }
}
