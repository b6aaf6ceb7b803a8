import Foundation
import Logging
import PlexusAuth
import PlexusStorage

/// API keys shared by the instances of a cluster, and their one admin key.
///
/// Each instance keeps its own SQLite key table (the request path's ``APIKeyDirectory`` reads
/// it); this keeps the tables in step through the Redis hash `<prefix>apikeys`. Every 200 ms it
/// looks at the local table's change counter (a key made or revoked here, by the admin API or
/// the CLI); on a change, on a `<prefix>apikeys.changed` message from another instance, and
/// once a second anyway, it merges both sides (``ClusterKeyRow/merge(_:_:)``), writes what
/// Redis lacks there (and announces it), writes what the local table lacks here, and refreshes
/// the directory. A revocation on one instance is so refused by the others within about
/// 200 ms plus two round trips.
///
/// The admin key: the first instance to start creates it, shares its row, then claims
/// `<prefix>admin.key` with `SET NX`; the others (and later starts) read it from there and
/// write it to their `<data>/admin.key`. None rotates it at start. Loop thread only.
final class ClusterKeyShare {
    private let redis: RedisConnection
    private let keys: ClusterKeys
    private let store: APIKeyStore
    private let directory: APIKeyDirectory
    private let loop: EventLoop
    private let logger: Logger
    private var timer: LoopTimer?
    private var lastGeneration: Int64?
    private var lastFull: UInt64 = 0
    private var syncing = false
    private var again = false
    /// Completions of syncs asked for while one ran: they wait for the next.
    private var waiting: [(Error?) -> Void] = []
    /// Syncs completed (for tests and logs).
    private(set) var rounds = 0

    var hash: String { keys.prefix + "apikeys" }
    var changedChannel: String { keys.apiKeysChanged }
    var adminKeyName: String { keys.prefix + "admin.key" }

    init(redis: RedisConnection, keys: ClusterKeys, store: APIKeyStore, directory: APIKeyDirectory, loop: EventLoop, logger: Logger) {
        self.redis = redis
        self.keys = keys
        self.store = store
        self.directory = directory
        self.loop = loop
        self.logger = logger
    }

    /// Starts watching the local table.
    func start() {
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 200, repeatingMilliseconds: 200) { [unowned self] in tick() }
        timer.unref()
        self.timer = timer
    }

    func stop() {
        timer?.close()
        timer = nil
    }

    /// Another instance changed a key: merge now.
    func remoteChanged() { sync() }

    private func tick() {
        if loop.now - lastFull >= 1_000 { return sync() }
        let done = loop.bounce { [weak self] (result: Result<QueryResult, StorageError>) in
            guard let self, case .success(let rows) = result else { return }
            let generation = rows.rows.first?[0].integerValue ?? 0
            if generation != lastGeneration { sync() }
        }
        store.engine.query("SELECT generation FROM auth_api_key_state WHERE id = 1") { done($0) }
    }

    /// Merges the local table and the Redis hash both ways; `completion` runs once both hold the union.
    func sync(completion: ((Error?) -> Void)? = nil) {
        guard !syncing else {
            again = true
            if let completion { waiting.append(completion) }
            return
        }
        syncing = true
        lastFull = loop.now
        let loaded = loop.bounce { [weak self] (result: Result<(Int64, QueryResult), StorageError>) in
            guard let self else { return }
            switch result {
            case .failure(let error):
                finish(completion, RuntimeError.config("reading the API keys failed: \(error)"))
            case .success(let (generation, rows)):
                var local: [String: ClusterKeyRow] = [:]
                for row in rows.rows { if let key = ClusterKeyRow(row: row) { local[key.id] = key } }
                merge(local: local, generation: generation, completion: completion)
            }
        }
        store.engine.transaction({ transaction in
            let generation = try transaction.query("SELECT generation FROM auth_api_key_state WHERE id = 1").rows.first?[0].integerValue ?? 0
            return (generation, try transaction.query("SELECT \(ClusterKeyRow.columns) FROM auth_api_keys"))
        }, completion: { loaded($0) })
    }

    private func merge(local: [String: ClusterKeyRow], generation: Int64, completion: ((Error?) -> Void)?) {
        redis.send("HGETALL", hash) { [self] result in
            guard case .success(let reply) = result, let list = reply.array else {
                let why = (try? result.get()).map { "HGETALL answered \($0)" } ?? "\(result)"
                return finish(completion, RedisFailure.unreachable(why))
            }
            var remote: [String: ClusterKeyRow] = [:]
            var index = 0
            while index + 1 < list.count {
                if let bytes = list[index + 1].bytes, let row = ClusterKeyRow(json: bytes) { remote[row.id] = row }
                index += 2
            }
            let all = ClusterKeyRow.merge(local, remote)
            let toRedis = all.values.filter { remote[$0.id] != $0 }
            let toLocal = all.values.filter { local[$0.id] != $0 }
            if !toRedis.isEmpty {
                var arguments = [Array("HSET".utf8), Array(hash.utf8)]
                for row in toRedis { arguments += [Array(row.id.utf8), row.json] }
                redis.send(arguments) { _ in }
                redis.send("PUBLISH", changedChannel, "\(toRedis.count)") { _ in }
            }
            guard !toLocal.isEmpty else {
                lastGeneration = generation
                return finish(completion, nil)
            }
            let written = loop.bounce { [weak self] (result: Result<Int64, StorageError>) in
                guard let self else { return }
                switch result {
                case .failure(let error):
                    logger.error("importing shared API keys failed", metadata: ["error": "\(error)"])
                    finish(completion, RuntimeError.config("importing shared API keys failed: \(error)"))
                case .success(let newGeneration):
                    lastGeneration = newGeneration
                    let refreshed = loop.bounce { [weak self] (_: Result<Bool, AuthError>) in self?.finish(completion, nil) }
                    directory.refresh { refreshed($0) }
                }
            }
            let rows = toLocal
            store.engine.transaction({ transaction in
                for row in rows {
                    try transaction.execute("""
                        INSERT OR IGNORE INTO auth_api_keys (id, name, tenant, roles, scopes, key_sha256, hint, created_at, revoked_at)
                        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                        """, [.text(row.id), .text(row.name), row.tenant.map(StorageValue.text) ?? .null, .text(row.roles), .text(row.scopes),
                              .text(row.sha256), .text(row.hint), .real(row.createdAt), row.revokedAt.map(StorageValue.real) ?? .null])
                    if let revokedAt = row.revokedAt {
                        try transaction.execute("UPDATE auth_api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                                                [.text(row.id), .real(revokedAt)])
                    }
                }
                try transaction.execute("UPDATE auth_api_key_state SET generation = generation + 1 WHERE id = 1")
                return try transaction.query("SELECT generation FROM auth_api_key_state WHERE id = 1").rows.first?[0].integerValue ?? 0
            }, completion: { written($0) })
        }
    }

    private func finish(_ completion: ((Error?) -> Void)?, _ error: Error?) {
        syncing = false
        rounds += 1
        completion?(error)
        if again {
            again = false
            let waiters = waiting
            waiting.removeAll()
            sync { error in for waiter in waiters { waiter(error) } }
        }
    }

    // MARK: The admin key

    /// Makes sure the installation has one admin key, shared in Redis, and that this instance's
    /// `<data>/admin.key` holds it; `done` runs with nil, or with why not.
    func ensureAdminKey(dataDirectory: URL, adminRole: String, done: @escaping (Error?) -> Void) {
        sync { [self] error in
            if let error { return done(error) }
            redis.send("GET", adminKeyName) { [self] result in
                switch result {
                case .success(.bulk(let bytes)):
                    adopt(String(decoding: bytes, as: UTF8.self), dataDirectory: dataDirectory, adminRole: adminRole, attempts: 25, done: done)
                case .success(.null):
                    create(dataDirectory: dataDirectory, adminRole: adminRole, done: done)
                case .success(let reply):
                    done(RuntimeError.config("cluster: GET \(adminKeyName) answered \(reply)"))
                case .failure(let failure):
                    done(RuntimeError.config("cluster: reading the shared admin key failed: \(failure)"))
                }
            }
        }
    }

    /// Uses the shared key once its row has arrived here (the creator shares the row before the key).
    private func adopt(_ plaintext: String, dataDirectory: URL, adminRole: String, attempts: Int, done: @escaping (Error?) -> Void) {
        let refreshed = loop.bounce { [weak self] (_: Result<Bool, AuthError>) in
            self?.check(plaintext, dataDirectory: dataDirectory, adminRole: adminRole, attempts: attempts, done: done)
        }
        directory.refresh { refreshed($0) }
    }

    private func check(_ plaintext: String, dataDirectory: URL, adminRole: String, attempts: Int, done: @escaping (Error?) -> Void) {
        if let identity = try? directory.identify(plaintext), identity.roles.contains(adminRole) {
            do {
                try Self.writeKeyFile(plaintext, in: dataDirectory)
            } catch {
                return done(error)
            }
            logger.notice("admin key shared by the cluster", metadata: ["file": "\(AdminKey.file(in: dataDirectory).path)"])
            return done(nil)
        }
        if attempts == 25 {
            // A key left active here by an earlier start of this instance alone holds the name: withdraw it.
            let store = store
            return loop.async({ _ = try? await store.revoke(idOrName: AdminKey.keyName) }, then: { [self] (_: Result<Void, Error>) in
                sync { [self] _ in adopt(plaintext, dataDirectory: dataDirectory, adminRole: adminRole, attempts: attempts - 1, done: done) }
            })
        }
        guard attempts > 0 else {
            return done(RuntimeError.config("cluster: the shared admin key in \(adminKeyName) matches no active admin key in \(hash); fix: delete \(adminKeyName) in Redis (DEL \(adminKeyName)) and restart one instance to create a new one"))
        }
        let timer = LoopTimer(loop: loop)
        timer.start(afterMilliseconds: 200) { [unowned self] in
            timer.close()
            sync { [self] _ in adopt(plaintext, dataDirectory: dataDirectory, adminRole: adminRole, attempts: attempts - 1, done: done) }
        }
    }

    private func create(dataDirectory: URL, adminRole: String, done: @escaping (Error?) -> Void) {
        let store = store
        loop.async({
            _ = try? await store.revoke(idOrName: AdminKey.keyName)
            return try await store.create(name: AdminKey.keyName, tenant: nil, roles: [adminRole], scopes: []).plaintext
        }, then: { [self] (result: Result<String, Error>) in
            guard case .success(let plaintext) = result else {
                return done(RuntimeError.config("cluster: creating the admin key failed: \(result)"))
            }
            // Share the row first, then claim the name: whoever reads the key finds its row.
            sync { [self] error in
                if let error { return done(error) }
                redis.send("SET", adminKeyName, plaintext, "NX") { [self] result in
                    switch result {
                    case .success(.status("OK")):
                        logger.notice("admin key created for the cluster", metadata: ["redis_key": "\(adminKeyName)"])
                        adopt(plaintext, dataDirectory: dataDirectory, adminRole: adminRole, attempts: 0, done: done)
                    case .success(.null):
                        // Another instance was first: withdraw ours, use theirs.
                        loop.async({ _ = try? await store.revoke(idOrName: AdminKey.keyName) }, then: { [self] (_: Result<Void, Error>) in
                            ensureAdminKey(dataDirectory: dataDirectory, adminRole: adminRole, done: done)
                        })
                    case .success(let reply):
                        done(RuntimeError.config("cluster: SET \(adminKeyName) NX answered \(reply)"))
                    case .failure(let failure):
                        done(RuntimeError.config("cluster: storing the shared admin key failed: \(failure)"))
                    }
                }
            }
        })
    }

    private static func writeKeyFile(_ plaintext: String, in dataDirectory: URL) throws {
        let file = AdminKey.file(in: dataDirectory)
        let temporary = file.appendingPathExtension("tmp")
        _ = FileManager.default.createFile(atPath: temporary.path, contents: Data((plaintext + "\n").utf8), attributes: [.posixPermissions: 0o600])
        guard rename(temporary.path, file.path) == 0 else {
            throw RuntimeError.config("cannot write the admin key to \(file.path): \(String(cString: strerror(errno)))")
        }
    }
}
