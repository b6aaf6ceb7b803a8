import Foundation
import Logging
import PlexusEventLog
import PlexusStorage

/// The runtime's event bus as plugins and clients see it: live fan-out through ``EventBus``,
/// and durable topics through the SQLite ``EventLog`` (written before a publish succeeds),
/// with durable consumer groups delivered at least once. Loop thread only.
final class EventRouter {
    /// Why the router refused something.
    struct Failure: Error, CustomStringConvertible {
        let description: String
        /// Safe and useful to show the client (e.g. "Redis is unreachable"), instead of a request id.
        var shownToClient = false
    }

    let bus: EventBus
    /// The SSE frames of recent events, shared by every stream.
    let sseFrames = SSEFrameCache()
    private let loop: EventLoop
    private let logger: Logger
    /// The durable store: the SQLite log, or Redis Streams in cluster mode.
    private(set) var log: (any DurableStore)?
    /// The SQLite log's counters (nil in cluster mode).
    var logStatistics: EventLogStatistics? { (log as? EventLog)?.statistics }
    /// The loaded plugins' names and declared topics, for ``reservations``.
    var declaredTopics: () -> [(name: String, topics: [String])] = { [] }
    /// Who may publish on which topics, from the plugins loaded now.
    var reservations: TopicReservations {
        let plugins = declaredTopics()
        if let cached = cachedReservations, cached.plugins.elementsEqual(plugins, by: { $0.name == $1.name && $0.topics == $1.topics }) {
            return cached.reservations
        }
        let reservations = TopicReservations(plugins: plugins)
        cachedReservations = (plugins, reservations)
        return reservations
    }
    private var cachedReservations: (plugins: [(name: String, topics: [String])], reservations: TopicReservations)?
    /// Topics that are always durable, whatever the publisher asks.
    var durablePatterns: [TopicPattern] = []
    private var consumers: [UInt64: DurableConsumer] = [:]
    /// The other instances of a cluster (nil: this instance is alone).
    var replication: (any BusReplication)?
    /// PostgreSQL storage: told every subscription, so plugins' change logs run while someone listens.
    var changeFeeds: ChangeFeedDemand?
    /// Live clients (SSE streams) told about the cluster's state, by id.
    private var noticeListeners: [ObjectIdentifier: (String) -> Void] = [:]

    /// Tells `listener` (until ``stopNotices(_:)``) when the cluster's Redis goes away or comes back.
    func notices(_ owner: AnyObject, _ listener: @escaping (String) -> Void) { noticeListeners[ObjectIdentifier(owner)] = listener }
    func stopNotices(_ owner: AnyObject) { noticeListeners.removeValue(forKey: ObjectIdentifier(owner)) }
    /// Sends `text` to every live client that listens to notices.
    func notifyLiveClients(_ text: String) { for listener in noticeListeners.values { listener(text) } }
    private var maintenance: LoopTimer?
    var metrics: RuntimeMetrics?

    init(loop: EventLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
        self.bus = EventBus(loop: loop, logger: logger)
    }

    /// Opens the durable log (blocking; called once at start-up, before serving).
    func openLog(at path: String, configuration: EventLogConfiguration) throws {
        log = try EventLog.openBlocking(at: path, configuration: configuration)
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 1_000, repeatingMilliseconds: 1_000) { [unowned self] in
            log?.runMaintenance { _ in }
            for consumer in consumers.values { consumer.pump() }
        }
        timer.unref()
        maintenance = timer
    }

    /// Uses `store` for durable topics instead of the SQLite log (cluster mode), with the same maintenance timer.
    func useStore(_ store: any DurableStore) {
        log = store
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 1_000, repeatingMilliseconds: 1_000) { [unowned self] in
            log?.runMaintenance { _ in }
            pumpConsumers()
        }
        timer.unref()
        maintenance = timer
    }

    /// The durable consumer groups this worker's subscribers consume, by name.
    var durableGroupNames: [String] { Set(consumers.values.map(\.group)).sorted() }

    /// Lets every durable consumer fetch what is due (e.g. an event another instance published).
    func pumpConsumers() {
        for consumer in consumers.values { consumer.pump() }
    }

    /// Publishes `envelope`; durable events are acknowledged only after the log's commit.
    func publish(_ envelope: EventEnvelope, durable: Bool, completion: @escaping (Result<EventEnvelope, Failure>) -> Void) {
        metrics?.counter("plexus_bus_published_total", [("durable", durable ? "true" : "false")], help: "Events published").increment()
        let makeDurable = durable || durablePatterns.contains { $0.matches(envelope.topic) }
        if let replication, let reason = replication.unavailableReason {
            return completion(.failure(Failure(description: "publish refused: \(reason); retry when the cluster's Redis is back", shownToClient: true)))
        }
        guard makeDurable else {
            let event = bus.publish(envelope)
            replication?.replicate(event, durable: false)
            completion(.success(event))
            return
        }
        guard let log else {
            completion(.failure(Failure(description: "the durable event log is not open")))
            return
        }
        log.append(envelope, completion: loop.bounce { [unowned self] (result: Result<AppendReceipt, EventLogError>) in
                switch result {
                case .success(let receipt):
                    var stored = envelope
                    stored.id = receipt.id
                    bus.fanOut(stored)
                    replication?.replicate(stored, durable: true)
                    for consumer in consumers.values { consumer.pump() }
                    completion(.success(stored))
                case .failure(let error):
                    logger.error("durable publish failed", metadata: ["topic": "\(envelope.topic)", "error": "\(error)"])
                    completion(.failure(Failure(description: "\(error)", shownToClient: replication != nil)))
                }
        })
    }

    /// Subscribes live (fire-and-forget) or, with `durableGroup`, as a durable consumer group;
    /// `filter` keeps events out of the subscriber's queue (live subscriptions only). `ready` runs
    /// (on the loop, possibly before this returns) once the subscription is complete: on
    /// PostgreSQL storage, once the change log of every plugin whose `storage.…` topics it may
    /// match is running, so every write committed after that is delivered; with the failure when
    /// some change log could not be started (retried at the storage's next check).
    func subscribe(_ pattern: TopicPattern, owner: String, queueLimit: Int?, overflow: BusSubscription.Overflow,
                   durableGroup: String?, maxAttempts: Int, filter: ((EventEnvelope) -> Bool)? = nil,
                   ready: ((StorageError?) -> Void)? = nil, deliver: @escaping (EventEnvelope) -> Void) throws -> UInt64 {
        let subscription = bus.subscribe(pattern, owner: owner, queueLimit: queueLimit, overflow: overflow,
                                         durableGroup: durableGroup, maxAttempts: maxAttempts, filter: filter, deliver: deliver)
        replication?.listen(pattern)
        if let changeFeeds { changeFeeds.subscribed(pattern, ready: ready ?? { _ in }) } else { ready?(nil) }
        guard let group = durableGroup else { return subscription.id }
        guard let log else {
            unsubscribe(subscription.id)
            throw Failure(description: "durable group '\(group)': the durable event log is not open")
        }
        let consumer = DurableConsumer(group: group, pattern: pattern, subscription: subscription, log: log, loop: loop, logger: logger)
        consumer.metrics = metrics
        consumers[subscription.id] = consumer
        consumer.start()
        return subscription.id
    }

    /// Whether subscription `id` exists (subscribed and not yet ended).
    func isSubscribed(_ id: UInt64) -> Bool { bus.subscriptions[id] != nil }

    func unsubscribe(_ id: UInt64) {
        consumers.removeValue(forKey: id)?.stop()
        if let pattern = bus.subscriptions[id]?.pattern {
            replication?.stopListening(pattern)
            changeFeeds?.unsubscribed(pattern)
        }
        bus.unsubscribe(id)
    }

    func unsubscribeAll(owner: String) {
        for subscription in bus.subscriptions.values where subscription.owner == owner { unsubscribe(subscription.id) }
    }

    /// Settles a durable delivery (ack, or nack for a retry with backoff).
    func settle(subscription: UInt64, eventID: String, success: Bool, reason: String) {
        consumers[subscription]?.settle(eventID: eventID, success: success, reason: reason)
    }

    /// Closes the log after its queued writes; `completion` runs on the loop once its file is closed.
    func close(completion: @escaping () -> Void = {}) {
        maintenance?.close()
        maintenance = nil
        for consumer in consumers.values { consumer.stop() }
        consumers.removeAll()
        guard let log else { return completion() }
        self.log = nil
        let closed = loop.bounce { (_: Result<Void, EventLogError>) in completion() }
        log.close { result in closed(result) }
    }
}
