import Crypto
import Foundation
import PlexusStorage

/// The request path's view of the API keys: an in-memory snapshot, looked up synchronously.
///
/// `identify` finds the key's record by id in a dictionary, hashes the presented key with
/// SHA-256 and compares the digests in constant time: O(1), no I/O, safe from any thread.
///
/// `refresh` re-reads the database off the caller's thread (on the storage worker) and swaps the
/// snapshot under a lock. It first reads the generation counter that every create and revoke
/// bumps (in this process or another, e.g. the CLI), and reloads the keys only when it changed.
/// Revocation delay: a revoke is refused by `identify` once a refresh started after the revoke
/// committed has completed; with the runtime refreshing every second, about one second. When a
/// refresh fails, the previous snapshot stays in use (and the error is reported to the caller).
/// Before the first refresh completes, every key is unknown.
public final class APIKeyDirectory: @unchecked Sendable {
    private struct Entry: Sendable {
        let digest: [UInt8]
        let identity: Identity
        let revokedAt: Double?
    }

    private final class Snapshot: Sendable {
        let generation: Int64?
        let entries: [String: Entry]

        init(generation: Int64?, entries: [String: Entry]) {
            self.generation = generation
            self.entries = entries
        }
    }

    private let engine: StorageEngine
    private let lock = NSLock()
    private var snapshot = Snapshot(generation: nil, entries: [:])

    /// A directory over the store's database; empty until the first `refresh`.
    public init(store: APIKeyStore) {
        self.engine = store.engine
    }

    // MARK: Lookup

    /// The identity of the key `presented` (`plx_<id>_<secret>`).
    ///
    /// Throws `.malformed` for text not shaped like a key, `.unknownAPIKey` for an id not in the
    /// snapshot or a secret that does not match, `.revokedAPIKey` for a revoked key.
    public func identify(_ presented: Substring) throws(AuthError) -> Identity {
        try verify(presented).identity
    }

    /// What ``identify(_:)`` finds, with the key's id and the SHA-256 of `presented`: what
    /// ``identify(id:digest:)`` takes when the same key is presented again.
    public func verify(_ presented: Substring) throws(AuthError) -> (identity: Identity, id: String, digest: [UInt8]) {
        guard let id = APIKeyFormat.id(of: presented) else {
            throw AuthError(
                .malformed,
                "malformed API key: expected \(APIKeyFormat.prefix)<\(APIKeyFormat.idLength) hex digits>_<\(APIKeyFormat.secretLength) base64url characters>")
        }
        let current = lock.withLock { snapshot }
        let digest = APIKeyFormat.digest(presented)
        guard let entry = current.entries[String(id)],
            digest.withUnsafeBytes({ APIKeyFormat.constantTimeEqual($0, entry.digest) })
        else {
            throw AuthError(.unknownAPIKey, "unknown API key (id \(id))")
        }
        if let revokedAt = entry.revokedAt {
            throw AuthError(
                .revokedAPIKey,
                "API key \(AuthError.quoted(entry.identity.subject)) (id \(id)) was revoked at \(Timestamp.rfc3339(revokedAt))")
        }
        return (entry.identity, String(id), entry.digest)
    }

    /// The identity of the key with id `id` whose SHA-256 is `digest`, if the loaded keys hold it
    /// and it is not revoked; nil otherwise. For a key presented again byte for byte (a keep-alive
    /// connection): the current keys are consulted as on every request, without hashing it again.
    public func identify(id: String, digest: [UInt8]) -> Identity? {
        let current = lock.withLock { snapshot }
        guard let entry = current.entries[id], entry.revokedAt == nil, entry.digest == digest else { return nil }
        return entry.identity
    }

    /// The identity of the key `presented`; see `identify(_:)` for a `Substring`.
    public func identify(_ presented: String) throws(AuthError) -> Identity {
        try identify(presented[...])
    }

    /// Whether the snapshot holds the key with id `id` and it is not revoked: what a live
    /// session opened with that key re-checks after each refresh.
    public func isActive(id: String) -> Bool {
        let current = lock.withLock { snapshot }
        guard let entry = current.entries[id] else { return false }
        return entry.revokedAt == nil
    }

    /// The generation of the loaded snapshot; nil until a refresh has completed.
    public var generation: Int64? { lock.withLock { snapshot.generation } }

    /// The number of active keys in the snapshot.
    public var activeKeyCount: Int { lock.withLock { snapshot.entries.values.filter { $0.revokedAt == nil }.count } }

    // MARK: Refresh

    /// Re-reads the keys if the database's generation changed, without blocking the caller.
    ///
    /// The completion runs on the storage worker with `true` if a new snapshot was loaded,
    /// `false` if nothing had changed; on failure the previous snapshot stays in use.
    public func refresh(completion: @escaping @Sendable (Result<Bool, AuthError>) -> Void = { _ in }) {
        engine.query(APIKeySchema.selectGeneration) { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(AuthError(.storage, "refreshing API keys failed: \(error)")))
            case .success(let rows):
                let generation = rows.rows.first?[0].integerValue ?? 0
                if generation == self.generation {
                    completion(.success(false))
                    return
                }
                load(generation: generation, completion: completion)
            }
        }
    }

    /// Re-reads the keys if the database's generation changed; returns whether a new snapshot was loaded.
    @discardableResult
    public func refresh() async throws(AuthError) -> Bool {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Bool, AuthError>, Never>) in
            refresh { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Loads every key (revoked ones too, to say "revoked" rather than "unknown") and swaps the
    /// snapshot. The generation was read before the keys: a change in between is loaded now and
    /// loaded again by the next refresh, never missed.
    private func load(generation: Int64, completion: @escaping @Sendable (Result<Bool, AuthError>) -> Void) {
        engine.query("SELECT \(APIKeySchema.recordColumns), key_sha256 FROM auth_api_keys") { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(AuthError(.storage, "refreshing API keys failed: \(error)")))
            case .success(let rows):
                var entries: [String: Entry] = [:]
                entries.reserveCapacity(rows.rows.count)
                for row in rows.rows {
                    let record = APIKeySchema.record(from: row)
                    guard let digest = row[8].textValue.flatMap(APIKeyFormat.bytes(fromHex:)), digest.count == 32 else {
                        continue  // a damaged row matches no key
                    }
                    entries[record.id] = Entry(digest: digest, identity: record.identity, revokedAt: record.revokedAt)
                }
                let next = Snapshot(generation: generation, entries: entries)
                lock.withLock { snapshot = next }
                // Tell writers in other processes (`plexus apikey create`) which generation this process serves.
                engine.execute(APIKeyReaders.record, APIKeyReaders.parameters(generation: generation)) { _ in
                    completion(.success(true))
                }
            }
        }
    }
}
