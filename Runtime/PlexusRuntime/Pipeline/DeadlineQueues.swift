/// Requests waiting for a plugin's answer, one FIFO per distinct timeout: requests with the
/// same timeout expire in the order they arrived, so each queue stays sorted by deadline and
/// expiring costs O(1) per request.
struct DeadlineQueues {
    /// A class, so that adding to a queue found in the dictionary appends in place: a struct
    /// copied out of the dictionary and back made every add copy the whole queue.
    private final class Queue {
        var entries: [(token: UInt64, deadline: UInt64)] = []
        var head = 0
    }

    private var queues: [UInt64: Queue] = [:]
    /// The queue of the last add and its timeout: most requests share one timeout, and finding
    /// it again skips the dictionary's hashing. Held `unowned(unsafe)`: `queues` holds it, and
    /// never drops a queue.
    private var lastTimeout: UInt64 = 0
    private unowned(unsafe) var lastQueue: Queue?

    /// Adds a request whose answer is due by `deadline` (loop milliseconds).
    mutating func add(token: UInt64, deadline: UInt64, timeout: UInt64) {
        if let queue = lastQueue, lastTimeout == timeout {
            queue.entries.append((token, deadline))
            return
        }
        let queue: Queue
        if let known = queues[timeout] {
            queue = known
        } else {
            queue = Queue()
            queues[timeout] = queue
        }
        queue.entries.append((token, deadline))
        lastTimeout = timeout
        lastQueue = queue
    }

    /// Calls `expired` for every entry whose deadline has passed, oldest first, and drops it.
    /// An entry whose request was answered in time is simply skipped by the caller.
    mutating func expire(now: UInt64, _ expired: (UInt64, UInt64) -> Void) {
        for queue in queues.values {
            while queue.head < queue.entries.count, queue.entries[queue.head].deadline <= now {
                let entry = queue.entries[queue.head]
                queue.head += 1
                expired(entry.token, entry.deadline)
            }
            if queue.head == queue.entries.count {
                queue.entries.removeAll(keepingCapacity: true)
                queue.head = 0
            } else if queue.head > 1024 && queue.head * 2 > queue.entries.count {
                queue.entries.removeFirst(queue.head)
                queue.head = 0
            }
        }
    }
}
