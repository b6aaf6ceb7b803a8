import Foundation

/// The supervisor's quarantine shared by the instances of a cluster: the hash `<prefix>quarantine`
/// (plugin → reason). At start, before any plugin loads, an instance adds its own quarantined
/// plugins (`<data>/quarantine.json`) and takes on every other instance's, so a plugin
/// quarantined on one instance is not started by another (from that instance's next start or
/// reload). `plexus plugin release NAME` clears the local file only: in a cluster, also
/// `HDEL <prefix>quarantine NAME`.
enum ClusterQuarantine {
    static func key(_ keys: ClusterKeys) -> String { keys.prefix + "quarantine" }

    /// Shares `local` (plugin → reason) and hands back the cluster's whole quarantine; nil when Redis failed.
    static func exchange(_ local: [String: String], instance: String, redis: RedisConnection, keys: ClusterKeys,
                         completion: @escaping ([String: String]?) -> Void) {
        for (name, reason) in local.sorted(by: { $0.key < $1.key }) {
            redis.send("HSETNX", key(keys), name, "\(reason) (quarantined on \(instance) at \(ISO8601DateFormatter().string(from: Date())))") { _ in }
        }
        redis.send("HGETALL", key(keys)) { result in
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
}
