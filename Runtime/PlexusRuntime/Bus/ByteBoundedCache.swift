/// A cache bounded by the bytes its entries hold, not by their number, so a few huge keys or
/// values cannot pin memory that many small ones would not.
///
/// Each entry's cost is given when it is stored (key plus value plus bookkeeping). When the
/// total would pass `byteLimit`, the oldest entries go first (insertion order); an entry that
/// costs more than `byteLimit / 4` is not stored at all. Not thread-safe: one owner.
struct ByteBoundedCache<Key: Hashable, Value> {
    /// The most bytes the entries may hold together.
    let byteLimit: Int
    /// The bytes the entries hold now (the sum of their costs).
    private(set) var bytesHeld = 0
    private var entries: [Key: (value: Value, cost: Int, serial: UInt64)] = [:]
    /// Keys in insertion order with the serial they were stored under, from `head` on; a slot
    /// whose serial no longer matches its entry's was replaced by a later store.
    private var order: [(key: Key, serial: UInt64)] = []
    private var head = 0
    private var serial: UInt64 = 0

    /// An empty cache that holds at most `byteLimit` bytes.
    init(byteLimit: Int) {
        self.byteLimit = max(0, byteLimit)
    }

    /// The number of entries.
    var count: Int { entries.count }

    /// The value stored under `key`.
    subscript(key: Key) -> Value? { entries[key]?.value }

    /// Stores `value` under `key` at `cost` bytes, evicting the oldest entries as needed;
    /// returns whether it was stored (false: it alone would take more than a quarter of the limit).
    @discardableResult
    mutating func store(_ value: Value, for key: Key, cost: Int) -> Bool {
        guard cost <= byteLimit / 4 else { return false }
        if let old = entries.removeValue(forKey: key) { bytesHeld -= old.cost }
        while bytesHeld + cost > byteLimit, head < order.count {
            let oldest = order[head]
            head += 1
            if let entry = entries[oldest.key], entry.serial == oldest.serial {
                entries.removeValue(forKey: oldest.key)
                bytesHeld -= entry.cost
            }
        }
        serial += 1
        entries[key] = (value, cost, serial)
        bytesHeld += cost
        order.append((key, serial))
        compactOrder()
        return true
    }

    /// Forgets every entry.
    mutating func removeAll() {
        entries.removeAll(keepingCapacity: false)
        order.removeAll(keepingCapacity: false)
        head = 0
        bytesHeld = 0
    }

    /// Drops evicted and replaced slots from `order` once they are the majority.
    private mutating func compactOrder() {
        guard order.count > 64, order.count > entries.count * 2 else { return }
        order = order[head...].filter { entries[$0.key]?.serial == $0.serial }
        head = 0
    }
}
