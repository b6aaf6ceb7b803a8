import CHiredis
import Foundation

/// The cluster's quarantine for commands that run without a loop.
public enum SharedQuarantine {
    /// `plexus plugin release NAME --config …` in cluster mode: removes `name` from the cluster's
    /// quarantine in Redis and announces the release to every running instance (hiredis's
    /// blocking client; the command has no loop). Returns whether Redis had it; throws with the
    /// reason when Redis cannot be reached or refuses.
    public static func release(_ name: String, settings: ClusterRedisSettings) throws -> Bool {
        let seconds = Int(settings.connectTimeoutMilliseconds / 1000), micro = Int(settings.connectTimeoutMilliseconds % 1000) * 1000
        guard let context = redisConnectWithTimeout(settings.host, Int32(settings.port), timeval(tv_sec: seconds, tv_usec: micro)) else {
            throw RuntimeError.config("cluster.redis: hiredis could not allocate a context")
        }
        defer { redisFree(context) }
        guard context.pointee.err == 0 else {
            throw RuntimeError.config("cluster.redis: Redis at \(settings.host):\(settings.port) is unreachable (\(errorText(context))); nothing was released")
        }
        let keys = ClusterKeys(prefix: settings.prefix)
        var commands: [[String]] = []
        if let password = settings.password { commands.append(["AUTH", password]) }
        if settings.database != 0 { commands.append(["SELECT", "\(settings.database)"]) }
        commands.append(["HDEL", ClusterQuarantine.key(keys), name])
        commands.append(["PUBLISH", ClusterQuarantine.channel(keys), ClusterQuarantine.releasedPrefix + name])
        var removed = false
        for command in commands {
            let reply = try run(context, command)
            if command[0] == "HDEL" { removed = reply > 0 }
        }
        return removed
    }

    /// Runs one command; its integer reply (0 for others), or throws with Redis's error.
    private static func run(_ context: UnsafeMutablePointer<redisContext>, _ command: [String]) throws -> Int64 {
        var storage = command.map { strdup($0) }
        defer { storage.forEach { free($0) } }
        let lengths = command.map { $0.utf8.count }
        let raw = storage.withUnsafeMutableBufferPointer { argv in
            argv.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: argv.count) { pointer in
                redisCommandArgv(context, Int32(command.count), pointer, lengths)
            }
        }
        guard let raw else {
            throw RuntimeError.config("cluster.redis: \(command[0]) failed: \(errorText(context)); nothing may have been released")
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        if reply.pointee.type == REDIS_REPLY_ERROR {
            let text = reply.pointee.str.map { String(cString: $0) } ?? "error"
            throw RuntimeError.config("cluster.redis: Redis refused \(command[0]): \(text)")
        }
        return reply.pointee.type == REDIS_REPLY_INTEGER ? reply.pointee.integer : 0
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
