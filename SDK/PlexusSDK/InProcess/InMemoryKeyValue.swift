import Foundation

/// Key-value storage in memory with the runtime's rules: versions from 1 (again from 1 after a
/// delete or expiry), compare-and-set with the current version in the conflict, TTLs in seconds,
/// listing in bytewise UTF-8 key order with the limit clamped to 1...10,000.
@PluginActor
public final class InMemoryKeyValue: KeyValueDriver {
    private var entries: [String: StoredValue] = [:]
    private let now: @Sendable () -> Date

    /// An empty store; `now` is its clock (for TTLs).
    public init(now: @escaping @Sendable () -> Date = Date.init) { self.now = now }

    public func get(_ key: String) async throws -> StoredValue? { live(key) }

    public func put(_ key: String, _ value: [UInt8], ttl: Double?, expectedVersion: Int64?) async throws -> Int64 {
        if let ttl, !(ttl > 0) { throw StorageFailure(kind: .misuse, message: "ttl must be positive, got \(ttl)") }
        if let expectedVersion, expectedVersion < 0 { throw StorageFailure(kind: .misuse, message: "expectedVersion must be >= 0") }
        let current = try check(key, expectedVersion)
        let entry = StoredValue(key: key, value: value, version: current + 1, expiresAt: ttl.map { now().addingTimeInterval($0) })
        entries[key] = entry
        return entry.version
    }

    public func delete(_ key: String, expectedVersion: Int64?) async throws -> Bool {
        let current = try check(key, expectedVersion)
        entries.removeValue(forKey: key)
        return current != 0
    }

    public func list(prefix: String, limit: Int, after: String?) async throws -> [StoredValue] {
        let bound = max(1, min(limit, 10_000))
        let keys = entries.keys.filter { key in
            key.utf8.starts(with: prefix.utf8) && (after.map { Self.precedes($0, key) } ?? true)
        }.sorted(by: Self.precedes)
        return keys.lazy.compactMap { self.live($0) }.prefix(bound).map { $0 }
    }

    /// The live version of `key` (0 if absent or expired), or a conflict when it is not `expected`.
    private func check(_ key: String, _ expected: Int64?) throws -> Int64 {
        let current = live(key)?.version ?? 0
        if let expected, expected != current {
            throw StorageFailure(kind: .conflict, message: "key \"\(key)\" is at version \(current), expected \(expected)", currentVersion: current)
        }
        return current
    }

    private func live(_ key: String) -> StoredValue? {
        guard let entry = entries[key] else { return nil }
        if let expiry = entry.expiresAt, expiry <= now() { return nil }
        return entry
    }

    private nonisolated static func precedes(_ left: String, _ right: String) -> Bool {
        left.utf8.lexicographicallyPrecedes(right.utf8)
    }
}
