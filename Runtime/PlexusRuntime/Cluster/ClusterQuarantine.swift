import Foundation

/// The supervisor's quarantine shared by the instances of a cluster: the hash `<prefix>quarantine`
/// (plugin → reason) and the channel `<prefix>quarantine.changed`.
///
/// - At start, before any plugin loads, an instance adds its own quarantined plugins
///   (`<data>/quarantine.json`), takes on every other instance's, and announces the change.
/// - A running instance hears each change at once: a plugin quarantined elsewhere is stopped here
///   too (``onQuarantined``), and a release lifts it here, local file included (``onReleased``).
///   After a reconnect (announcements missed meanwhile) the hash is read again.
/// - A release (`POST /admin/quarantine/:name/release` on any instance, or
///   `plexus plugin release NAME --config plexus.toml`) removes the plugin from the hash and
///   announces it, so every instance's file forgets it and no restart quarantines it again.
/// Loop thread only.
final class ClusterQuarantine {
    let redis: RedisConnection
    let keys: ClusterKeys
    let instance: String
    /// Runs with the cluster's whole quarantine after an announcement or a reconnect.
    var onQuarantined: (([String: String]) -> Void)?
    /// Runs with the name of a plugin another instance (or this one) released.
    var onReleased: ((String) -> Void)?

    init(redis: RedisConnection, keys: ClusterKeys, instance: String) {
        self.redis = redis
        self.keys = keys
        self.instance = instance
    }

    static func key(_ keys: ClusterKeys) -> String { keys.prefix + "quarantine" }
    static func channel(_ keys: ClusterKeys) -> String { keys.prefix + "quarantine.changed" }
    /// The announcement of a release: this prefix, then the plugin's name.
    static let releasedPrefix = "released "

    /// Shares `local` (plugin → reason) and hands back the cluster's whole quarantine; nil when Redis failed.
    func exchange(_ local: [String: String], completion: @escaping ([String: String]?) -> Void) {
        for (name, reason) in local.sorted(by: { $0.key < $1.key }) {
            redis.send("HSETNX", Self.key(keys), name, "\(reason) (quarantined on \(instance) at \(ISO8601DateFormatter().string(from: Date())))") { _ in }
        }
        if !local.isEmpty { redis.send("PUBLISH", Self.channel(keys), "quarantined") { _ in } }
        fetch(completion)
    }

    /// The cluster's whole quarantine; nil when Redis failed.
    func fetch(_ completion: @escaping ([String: String]?) -> Void) {
        redis.send("HGETALL", Self.key(keys)) { result in
            guard case .success(let reply) = result, let list = reply.array else { return completion(nil) }
            var all: [String: String] = [:]
            var index = 0
            while index + 1 < list.count {
                if let name = list[index].string, let reason = list[index + 1].string { all[name] = reason }
                index += 2
            }
            completion(all)
        }
    }

    /// Removes `name` from the shared quarantine and tells every instance: true when it was
    /// there, or the reason Redis could not be reached.
    func release(_ name: String, completion: @escaping (Result<Bool, RedisFailure>) -> Void) {
        redis.send("HDEL", Self.key(keys), name) { [self] result in
            switch result {
            case .success(.integer(let removed)):
                redis.send("PUBLISH", Self.channel(keys), Self.releasedPrefix + name) { _ in }
                completion(.success(removed > 0))
            case .success(let other):
                completion(.failure(.replied("\(other)")))
            case .failure(let failure):
                completion(.failure(failure))
            }
        }
    }

    /// A message on ``channel(_:)``.
    func received(_ message: String) {
        if message.hasPrefix(Self.releasedPrefix) {
            onReleased?(String(message.dropFirst(Self.releasedPrefix.count)))
        } else {
            refresh()
        }
    }

    /// Reads the shared quarantine again (after an announcement or a reconnect).
    func refresh() {
        fetch { [weak self] all in
            guard let all, let self else { return }
            onQuarantined?(all)
        }
    }
}
