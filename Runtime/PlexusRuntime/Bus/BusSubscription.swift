import Foundation
import PlexusEventLog

/// One subscriber's view of the bus: its pattern, its bounded priority queue and counters.
///
/// Events wait in the queue until the bus drains it on the loop; a full queue applies the
/// subscription's overflow policy and counts the drop, so a slow subscriber never holds up the
/// publisher or the other subscribers.
final class BusSubscription {
    enum Overflow: String { case dropOldest = "drop_oldest", dropNewest = "drop_newest" }

    let id: UInt64
    let pattern: TopicPattern
    /// Plugin name, or `http:<peer>` for a client stream.
    let owner: String
    let limit: Int
    let overflow: Overflow
    let deliver: (EventEnvelope) -> Void
    /// Durable consumer group, when the subscriber acknowledges events explicitly.
    let durableGroup: String?
    let maxAttempts: Int
    /// Which matching events this subscriber may see at all (e.g. its tenant's), checked before
    /// an event is queued so that events it would never receive cannot take its queue's room.
    let filter: ((EventEnvelope) -> Bool)?

    /// A queued event and its arrival number. A struct, not a tuple: copies of it are
    /// specialised, where a tuple of a non-trivial type goes through generic value witnesses.
    private struct Queued {
        var event: EventEnvelope
        var arrival: UInt64
    }

    /// Queued events with their arrival number, in delivery order (priority, then arrival).
    private var queue: [Queued] = []
    private var arrivals: UInt64 = 0
    private var head = 0
    var scheduled = false
    var cancelled = false
    private(set) var delivered: UInt64 = 0
    private(set) var dropped: UInt64 = 0

    init(id: UInt64, pattern: TopicPattern, owner: String, limit: Int, overflow: Overflow,
         durableGroup: String? = nil, maxAttempts: Int = 5, filter: ((EventEnvelope) -> Bool)? = nil,
         deliver: @escaping (EventEnvelope) -> Void) {
        self.id = id
        self.pattern = pattern
        self.owner = owner
        self.limit = limit
        self.overflow = overflow
        self.durableGroup = durableGroup
        self.maxAttempts = maxAttempts
        self.filter = filter
        self.deliver = deliver
    }

    /// Whether `event` passes the subscriber's filter.
    func admits(_ event: EventEnvelope) -> Bool { filter?(event) ?? true }

    /// Events waiting.
    var depth: Int { queue.count - head }

    /// What ``enqueue(_:)`` did.
    enum Outcome { case queued, queuedDroppingOldest, dropped }

    /// Queues `event` in priority order (higher first, then arrival); on a full queue applies the
    /// overflow policy: drop the new event, or drop the oldest queued one (by arrival, whatever
    /// its priority).
    @discardableResult
    func enqueue(_ event: EventEnvelope) -> Outcome {
        var outcome = Outcome.queued
        if depth >= limit {
            dropped += 1
            switch overflow {
            case .dropNewest: return .dropped
            case .dropOldest:
                var oldest = head
                for index in head..<queue.count where queue[index].arrival < queue[oldest].arrival { oldest = index }
                queue.remove(at: oldest)
                outcome = .queuedDroppingOldest
            }
        }
        arrivals += 1
        let entry = Queued(event: event, arrival: arrivals)
        // Stable insertion from the back: O(1) when priorities are equal, which is the common case.
        var index = queue.count
        while index > head && queue[index - 1].event.priority < event.priority { index -= 1 }
        if index == queue.count {
            queue.append(entry)
        } else {
            queue.insert(entry, at: index)
        }
        return outcome
    }

    /// Delivers up to `budget` queued events; returns whether events remain.
    func drain(budget: Int) -> Bool {
        var sent = 0
        while head < queue.count && sent < budget && !cancelled {
            let event = queue[head].event
            head += 1
            sent += 1
            delivered += 1
            deliver(event)
        }
        if head == queue.count {
            queue.removeAll(keepingCapacity: queue.capacity <= 4096)
            head = 0
        } else if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return depth > 0 && !cancelled
    }
}

