/// One live subscriber's queue in the in-memory bus, with the runtime's rules: bounded (the
/// subscription's `queueLimit`, or the runtime's default of 10,000), ordered by priority (higher
/// first) then arrival, and on overflow dropping the new event (`dropNewest`) or the oldest queued
/// one by arrival whatever its priority (`dropOldest`), each drop counted. Events wait until the
/// loop drains the queue, at most ``InMemoryBus/drainBudget`` per turn, so a publisher never
/// runs a handler inline and a flood from one publish can overflow a slow subscriber's queue.
struct InMemoryQueue {
    private struct Queued {
        var event: Event
        var arrival: UInt64
    }

    /// The most events waiting at once.
    let limit: Int
    let overflow: OverflowPolicy
    private var queue: [Queued] = []
    private var arrivals: UInt64 = 0
    /// Events dropped by the overflow policy so far.
    private(set) var dropped: UInt64 = 0
    /// Events handed to the handler so far.
    private(set) var delivered: UInt64 = 0

    init(limit: Int, overflow: OverflowPolicy) {
        self.limit = max(1, limit)
        self.overflow = overflow
    }

    /// Events waiting.
    var depth: Int { queue.count }

    /// Queues `event` by priority, applying the overflow policy when the queue is full.
    mutating func enqueue(_ event: Event) {
        if queue.count >= limit {
            dropped += 1
            switch overflow {
            case .dropNewest: return
            case .dropOldest:
                let oldest = queue.indices.min { queue[$0].arrival < queue[$1].arrival }!
                queue.remove(at: oldest)
            }
        }
        arrivals += 1
        var index = queue.count
        while index > 0 && queue[index - 1].event.priority < event.priority { index -= 1 }
        queue.insert(Queued(event: event, arrival: arrivals), at: index)
    }

    /// Takes up to `budget` events off the front, in delivery order.
    mutating func take(_ budget: Int) -> [Event] {
        let count = min(budget, queue.count)
        let batch = queue.prefix(count).map(\.event)
        queue.removeFirst(count)
        delivered += UInt64(count)
        return batch
    }
}
