import Foundation

/// Verified tokens by their text, so a client repeating a token costs a hash and a lookup.
///
/// Only successful verifications are stored; the caller still checks the time claims of a hit
/// against the current time. Keyed by a seeded `Hasher` value of the token, with the full
/// token compared on a hit (a collision is a miss). When full, expired entries are dropped,
/// then arbitrary entries until half the capacity is free: amortised O(1) per insertion.
/// Thread-safe: the lock is held only for a lookup or an insertion.
final class TokenCache: @unchecked Sendable {
    struct Entry {
        let token: String
        let identity: Identity
        let times: TokenTimes
    }

    let capacity: Int
    private let lock = NSLock()
    private var entries: [Int: Entry] = [:]

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The number of tokens held.
    var count: Int { lock.withLock { entries.count } }

    /// The hash key of a token (seeded per process, so clients cannot aim at collisions).
    static func key(_ token: Substring) -> Int {
        var hasher = Hasher()
        let done: Void? = token.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil {
            for byte in token.utf8 { hasher.combine(byte) }
        }
        return hasher.finalize()
    }

    /// The entry for exactly this token, if cached.
    func lookup(_ token: Substring, key: Int) -> Entry? {
        guard capacity > 0 else { return nil }
        guard let entry = lock.withLock({ entries[key] }) else { return nil }
        return Self.same(entry.token, token) ? entry : nil
    }

    /// Remembers a verified token; `now` and `leeway` decide which entries are expired on eviction.
    func insert(_ entry: Entry, key: Int, now: Double, leeway: Double) {
        guard capacity > 0 else { return }
        lock.withLock {
            if entries.count >= capacity && entries[key] == nil { evict(now: now, leeway: leeway) }
            entries[key] = entry
        }
    }

    /// Drops every entry.
    func removeAll() {
        lock.withLock { entries.removeAll() }
    }

    private func evict(now: Double, leeway: Double) {
        entries = entries.filter { _, entry in
            guard let exp = entry.times.expiresAt else { return true }
            return now - leeway < exp
        }
        let target = capacity / 2
        if entries.count > target {
            for key in Array(entries.keys.prefix(entries.count - target)) { entries[key] = nil }
        }
    }

    private static func same(_ stored: String, _ token: Substring) -> Bool {
        guard stored.utf8.count == token.utf8.count else { return false }
        let fast: Bool? = stored.utf8.withContiguousStorageIfAvailable { a in
            token.utf8.withContiguousStorageIfAvailable { b in
                a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
            }
        } ?? nil
        return fast ?? stored.utf8.elementsEqual(token.utf8)
    }
}
