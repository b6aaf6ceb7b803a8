import Foundation

/// The supervisor's quarantine shared by the instances of a cluster, with Redis as the authority:
/// the hash `<prefix>quarantine` (plugin → reason), the tombstones `<prefix>quarantine:released`
/// (plugin → release time in ms, Redis's `TIME`), the counter `<prefix>quarantine:epoch`, and the
/// channel `<prefix>quarantine.changed`. Every change of the hash moves the epoch in the same Lua
/// script, and a snapshot is read (epoch, hash, tombstones) by one script too.
///
/// - At start, before any plugin loads, an instance adds its own quarantined plugins
///   (`<data>/quarantine.json`) unless the cluster released them at or after the entry's `since`
///   (those are stale: they leave the local file), takes on every other instance's, and
///   announces the change.
/// - A running instance hears each change: a plugin quarantined elsewhere is stopped here too
///   (``onQuarantined``), and a release lifts it here, local file included (``onReleased``).
///   A snapshot older than the last epoch applied is ignored (a reply that crossed a release);
///   a newer one is applied as the truth: plugins taken from the cluster and no longer in it are
///   lifted, and local entries a tombstone covers are released. After a pub/sub reconnect the
///   snapshot is read again, so a release missed meanwhile is applied then.
/// - A release (`POST /admin/quarantine/:name/release` on any instance, or
///   `plexus plugin release NAME --config plexus.toml`) happens only when the hash or the
///   releasing instance's own file holds the plugin: then the hash entry goes, the tombstone and
///   epoch move and the release is announced, in one script.
/// What this does not cover: an instance's local entry compared with a tombstone uses that
/// instance's clock for `since` and Redis's for the release, so clocks apart by more than the
/// time between a release and a new quarantine of the same plugin can misjudge it.
/// Loop thread only.
final class ClusterQuarantine {
    let redis: RedisConnection
    let keys: ClusterKeys
    let instance: String
    /// Runs with a snapshot newer than any applied before: the cluster's whole quarantine and
    /// its tombstones (plugin → release time, ms).
    var onSnapshot: ((_ entries: [String: String], _ released: [String: Int64]) -> Void)?
    /// Runs with the name of a plugin another instance (or this one) released.
    var onReleased: ((String) -> Void)?
    /// The newest epoch applied (a snapshot or a release announcement).
    private(set) var epoch: Int64 = 0

    init(redis: RedisConnection, keys: ClusterKeys, instance: String) {
        self.redis = redis
        self.keys = keys
        self.instance = instance
    }

    static func key(_ keys: ClusterKeys) -> String { keys.prefix + "quarantine" }
    static func releasedKey(_ keys: ClusterKeys) -> String { keys.prefix + "quarantine:released" }
    static func epochKey(_ keys: ClusterKeys) -> String { keys.prefix + "quarantine:epoch" }
    static func channel(_ keys: ClusterKeys) -> String { keys.prefix + "quarantine.changed" }
    /// The announcement of a release: this prefix, the epoch, a space, then the plugin's name.
    static let releasedPrefix = "released "

    /// KEYS: hash, tombstones, epoch. ARGV: (name, reason, since in ms) triples. Adds each entry
    /// not covered by a tombstone at or after its `since`; returns {epoch, hash, tombstones, stale names}.
    static let addScript = """
        if redis.replicate_commands then redis.replicate_commands() end
        local stale = {}
        local added = 0
        for i = 1, #ARGV, 3 do
          local released = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '-1')
          if tonumber(ARGV[i + 2]) > released then
            added = added + redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1])
          else
            stale[#stale + 1] = ARGV[i]
          end
        end
        if added > 0 then redis.call('INCR', KEYS[3]) end
        return {tonumber(redis.call('GET', KEYS[3]) or '0'), redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2]), stale}
        """
    /// KEYS: hash, tombstones, epoch. The snapshot {epoch, hash, tombstones}, read atomically.
    static let snapshotScript = """
        return {tonumber(redis.call('GET', KEYS[3]) or '0'), redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
        """
    /// KEYS: hash, tombstones, epoch. ARGV: name, channel, "1" when the caller's own file holds it.
    /// When the hash or the caller holds it: removes it, writes the tombstone (Redis `TIME`), moves
    /// the epoch and announces `released <epoch> <name>`. Returns {removed from the hash, released at all}.
    static let releaseScript = """
        if redis.replicate_commands then redis.replicate_commands() end
        local removed = redis.call('HDEL', KEYS[1], ARGV[1])
        if removed == 0 and ARGV[3] ~= '1' then return {0, 0} end
        local now = redis.call('TIME')
        redis.call('HSET', KEYS[2], ARGV[1], tostring(tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)))
        local epoch = redis.call('INCR', KEYS[3])
        redis.call('PUBLISH', ARGV[2], 'released ' .. epoch .. ' ' .. ARGV[1])
        return {removed, 1}
        """

    /// Shares `local` (plugin → (reason, since)) and hands back the cluster's snapshot and the
    /// local names a release made stale; nil when Redis failed.
    func exchange(_ local: [String: (reason: String, since: Date)],
                  completion: @escaping ((entries: [String: String], released: [String: Int64], stale: [String])?) -> Void) {
        var arguments = ["EVAL", Self.addScript, "3", Self.key(keys), Self.releasedKey(keys), Self.epochKey(keys)]
        for (name, entry) in local.sorted(by: { $0.key < $1.key }) {
            let since = Quarantine.timestamp(entry.since)
            arguments += [name, "\(entry.reason) (quarantined on \(instance) since \(since))", "\(Int64(entry.since.timeIntervalSince1970 * 1000))"]
        }
        redis.send(arguments.map { Array($0.utf8) }) { [weak self] result in
            guard let self, case .success(let reply) = result, let parts = reply.array, parts.count == 4,
                  let snapshot = Self.snapshot(parts) else { return completion(nil) }
            epoch = max(epoch, snapshot.epoch)
            let stale = parts[3].array?.compactMap(\.string) ?? []
            if local.count > stale.count {
                redis.send("PUBLISH", Self.channel(keys), "quarantined") { _ in }
            }
            completion((snapshot.entries, snapshot.released, stale))
        }
    }

    /// The cluster's whole quarantine as an atomic snapshot; nil when Redis failed.
    func fetch(_ completion: @escaping ((epoch: Int64, entries: [String: String], released: [String: Int64])?) -> Void) {
        redis.send("EVAL", Self.snapshotScript, "3", Self.key(keys), Self.releasedKey(keys), Self.epochKey(keys)) { result in
            guard case .success(let reply) = result, let parts = reply.array else { return completion(nil) }
            completion(Self.snapshot(parts))
        }
    }

    private static func snapshot(_ parts: [RedisReply]) -> (epoch: Int64, entries: [String: String], released: [String: Int64])? {
        guard parts.count >= 3, let epoch = parts[0].integer, let entries = parts[1].array, let released = parts[2].array else { return nil }
        return (epoch, pairs(entries), pairs(released).compactMapValues { Int64($0) })
    }

    private static func pairs(_ list: [RedisReply]) -> [String: String] {
        var all: [String: String] = [:]
        var index = 0
        while index + 1 < list.count {
            if let name = list[index].string, let value = list[index + 1].string { all[name] = value }
            index += 2
        }
        return all
    }

    /// Releases `name` in the cluster when the hash holds it or `heldLocally` (this instance's
    /// file holds it); nothing changes otherwise. The result: (removed from the hash, released at
    /// all), or the reason Redis could not be reached.
    func release(_ name: String, heldLocally: Bool, completion: @escaping (Result<(removed: Bool, released: Bool), RedisFailure>) -> Void) {
        redis.send("EVAL", Self.releaseScript, "3", Self.key(keys), Self.releasedKey(keys), Self.epochKey(keys),
                   name, Self.channel(keys), heldLocally ? "1" : "0") { result in
            switch result {
            case .success(.array(let parts)) where parts.count == 2:
                completion(.success((parts[0].integer == 1, parts[1].integer == 1)))
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
            let rest = message.dropFirst(Self.releasedPrefix.count)
            guard let space = rest.firstIndex(of: " "), let released = Int64(rest[..<space]) else { return refresh() }
            epoch = max(epoch, released)
            onReleased?(String(rest[rest.index(after: space)...]))
        } else {
            refresh()
        }
    }

    /// Reads the snapshot again (after an announcement or a reconnect) and applies it when it
    /// is not older than what was applied already.
    func refresh() {
        fetch { [weak self] snapshot in
            guard let self, let snapshot, snapshot.epoch >= epoch else { return }
            epoch = snapshot.epoch
            onSnapshot?(snapshot.entries, snapshot.released)
        }
    }
}
