/// The routes of recent lookups that captured no parameter, by method and raw path, so a path
/// asked for again is routed without walking the ``RouteTrie``.
///
/// Direct-mapped: a path's hash picks one of ``slotCount`` slots, and a new path replaces what
/// the slot held, so the cache never grows, and a client sending endless distinct paths only
/// makes every lookup a miss (one hash and the walk it would have made anyway). Paths longer
/// than ``longestPath`` bytes are not kept. A cache belongs to one trie: the routes it answers
/// are that trie's (``RequestPipeline`` makes a new one with each trie). Loop thread only.
final class RouteCache<Target> {
    /// How many slots there are (a power of two).
    static var slotCount: Int { 64 }
    /// The longest raw path kept, in bytes.
    static var longestPath: Int { 128 }

    private struct Entry {
        var method: String
        var path: String
        var target: Target
    }

    private var slots: [Entry?] = Array(repeating: nil, count: RouteCache.slotCount)

    /// The target a lookup of `method` and `path` found before, or nil.
    func target(method: String, path: String) -> Target? {
        guard let slot = Self.slot(of: path), let entry = slots[slot] else { return nil }
        return entry.path == path && entry.method == method ? entry.target : nil
    }

    /// Keeps what a lookup of `method` and `path` found; only for a lookup that captured no parameter.
    func keep(_ target: Target, method: String, path: String) {
        guard let slot = Self.slot(of: path) else { return }
        slots[slot] = Entry(method: method, path: path, target: target)
    }

    /// The slot of `path`, or nil for a path too long to keep. The hash mixes the length with
    /// the last eight bytes (or all of a shorter path): the paths of one API differ mostly at
    /// their end, and a collision only costs a miss, since ``target(method:path:)`` compares the
    /// whole path.
    private static func slot(of path: String) -> Int? {
        var path = path
        return path.withUTF8 { bytes -> Int? in
            guard bytes.count <= longestPath else { return nil }
            var tail = UInt64(bytes.count)
            if bytes.count >= 8 {
                tail ^= UnsafeRawPointer(bytes.baseAddress!).loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
            } else {
                for byte in bytes { tail = tail << 8 | UInt64(byte) }
            }
            // Fibonacci hashing: the multiplier's high bits depend on every bit of `tail`.
            return Int(truncatingIfNeeded: (tail &* 0x9E37_79B9_7F4A_7C15) >> 58) & (slotCount - 1)
        }
    }
}
