/// The buckets of one policy, keyed by client, in least-recently-used order.
///
/// Slots live in one array linked newest-to-oldest by index, so touching a client is a dictionary
/// lookup and a few integer writes; freed slots are reused. Loop-confined (no locking).
struct ClientTable {
    private struct Node {
        var key: String
        var bucket: TokenBucket
        var older: Int32
        var newer: Int32
    }

    private var index: [String: Int32] = [:]
    private var nodes: [Node] = []
    private var freeSlots: [Int32] = []
    private var newest: Int32 = -1
    private var oldest: Int32 = -1

    /// Clients tracked.
    var count: Int { index.count }

    /// The slot of `key`, marked most recently used, or nil if the client is not tracked.
    mutating func touch(_ key: String) -> Int32? {
        guard let slot = index[key] else { return nil }
        moveToNewest(slot)
        return slot
    }

    /// Tracks a new client (which must not be tracked yet) as the most recently used; returns its slot.
    mutating func insert(_ key: String, bucket: TokenBucket) -> Int32 {
        let slot: Int32
        let node = Node(key: key, bucket: bucket, older: newest, newer: -1)
        if let free = freeSlots.popLast() {
            slot = free
            nodes[Int(slot)] = node
        } else {
            slot = Int32(nodes.count)
            nodes.append(node)
        }
        if newest >= 0 { nodes[Int(newest)].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
        index[key] = slot
        return slot
    }

    /// The bucket in a slot returned by `touch` or `insert`.
    subscript(slot: Int32) -> TokenBucket {
        get { nodes[Int(slot)].bucket }
        set { nodes[Int(slot)].bucket = newValue }
    }

    /// Forgets the least recently used client; returns whether there was one.
    mutating func removeOldest() -> Bool {
        guard oldest >= 0 else { return false }
        remove(oldest)
        return true
    }

    /// Forgets every client whose bucket `isIdle` says may go; returns how many.
    mutating func removeAll(where isIdle: (TokenBucket) -> Bool) -> Int {
        var removed = 0
        var slot = oldest
        while slot >= 0 {
            let newer = nodes[Int(slot)].newer
            if isIdle(nodes[Int(slot)].bucket) {
                remove(slot)
                removed += 1
            }
            slot = newer
        }
        return removed
    }

    private mutating func unlink(_ slot: Int32) {
        let node = nodes[Int(slot)]
        if node.older >= 0 { nodes[Int(node.older)].newer = node.newer } else { oldest = node.newer }
        if node.newer >= 0 { nodes[Int(node.newer)].older = node.older } else { newest = node.older }
    }

    private mutating func moveToNewest(_ slot: Int32) {
        guard slot != newest else { return }
        unlink(slot)
        nodes[Int(slot)].older = newest
        nodes[Int(slot)].newer = -1
        if newest >= 0 { nodes[Int(newest)].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }

    private mutating func remove(_ slot: Int32) {
        unlink(slot)
        index.removeValue(forKey: nodes[Int(slot)].key)
        nodes[Int(slot)].key = ""
        nodes[Int(slot)].older = -1
        nodes[Int(slot)].newer = -1
        freeSlots.append(slot)
    }
}
