import Foundation
import Logging
import PlexusEventLog

/// Pumps a durable consumer group: fetches due events from the log (new ones, retries whose
/// backoff has passed, deliveries whose deadline expired), hands them to the subscriber on the
/// loop, and records its ack or nack. At-least-once: nothing is acknowledged until the
/// subscriber says so, and the log keeps in-flight state across a crash.
final class DurableConsumer {
    let group: String
    private let pattern: TopicPattern
    private let subscription: BusSubscription
    private let log: any DurableStore
    private let loop: EventLoop
    private let logger: Logger
    private var ready = false
    private var fetching = false
    private var again = false
    private var stopped = false
    private var inFlight = Set<String>()
    /// Most deliveries outstanding at once.
    var window = 64
    var metrics: RuntimeMetrics?

    init(group: String, pattern: TopicPattern, subscription: BusSubscription, log: any DurableStore, loop: EventLoop, logger: Logger) {
        self.group = group
        self.pattern = pattern
        self.subscription = subscription
        self.log = log
        self.loop = loop
        self.logger = logger
    }

    /// Creates the group if it is new (starting after the newest event), then starts pumping.
    func start() {
        // Weak: the consumer may be cancelled (and freed) while the log works on this.
        log.createGroup(group, pattern: pattern, startAt: .end, completion: loop.bounce { [weak self] (result: Result<Void, EventLogError>) in
            guard let self else { return }
            if case .failure(let error) = result, !"\(error)".contains("exists") {
                logger.error("durable group could not be created", metadata: ["group": "\(group)", "error": "\(error)"])
                return
            }
            ready = true
            pump()
        })
    }

    func stop() { stopped = true }

    /// Fetches and delivers what is due, unless a fetch is already running or the window is full.
    func pump() {
        guard ready, !stopped else { return }
        guard !fetching else {
            again = true
            return
        }
        let room = window - inFlight.count
        guard room > 0 else { return }
        fetching = true
        again = false
        log.fetch(group: group, max: room, completion: loop.bounce { [weak self] (result: Result<[Delivery], EventLogError>) in
                guard let self else { return }
                fetching = false
                guard !stopped else { return }
                switch result {
                case .success(let deliveries):
                    for delivery in deliveries {
                        let id = delivery.event.id.description
                        guard inFlight.insert(id).inserted else { continue }
                        subscription.deliver(delivery.event)
                    }
                    if again || deliveries.count == room { pump() }
                case .failure(let error):
                    logger.error("durable fetch failed", metadata: ["group": "\(group)", "error": "\(error)"])
                }
        })
    }

    func settle(eventID: String, success: Bool, reason: String) {
        guard inFlight.remove(eventID) != nil, let id = ULID(eventID) else { return }
        let done = loop.bounce { [weak self] (result: Result<Void, EventLogError>) in
            guard let self else { return }
            if case .failure(let error) = result {
                logger.error("durable settle failed", metadata: ["group": "\(group)", "event": "\(eventID)", "error": "\(error)"])
            }
            pump()
        }
        if success {
            metrics?.counter("plexus_bus_acked_total", [("group", group)], help: "Durable deliveries acknowledged").increment()
            log.ack(group: group, id: id, completion: done)
        } else {
            metrics?.counter("plexus_bus_retried_total", [("group", group)], help: "Durable deliveries failed and scheduled for retry or dead letter").increment()
            log.nack(group: group, id: id, reason: reason, completion: done)
        }
    }
}
