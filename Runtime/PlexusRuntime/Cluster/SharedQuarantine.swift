import CHiredis
import Foundation

/// Redis could not be reached or refused a command of ``SharedQuarantine`` (not a configuration error).
public struct SharedQuarantineError: Error, CustomStringConvertible {
    public let description: String
}

/// The cluster's quarantine for commands that run without a loop.
public enum SharedQuarantine {
    /// `plexus plugin release NAME --config …` in cluster mode: releases `name` in Redis with
    /// ``ClusterQuarantine/releaseScript`` (one atomic script: the hash entry removed, the
    /// tombstone and epoch moved, the release announced to every running instance) when Redis's
    /// hash holds it or `heldLocally` (the local file holds it); nothing changes otherwise.
    /// hiredis's blocking client, with the connect timeout and the command timeout as its read
    /// timeout. Returns whether it was released in the cluster; throws when Redis cannot be
    /// reached, does not answer in time or refuses (then nothing was released).
    public static func release(_ name: String, heldLocally: Bool, settings: ClusterRedisSettings) throws -> Bool {
        guard let context = redisConnectWithTimeout(settings.host, Int32(settings.port), timeval(milliseconds: settings.connectTimeoutMilliseconds)) else {
            throw SharedQuarantineError(description: "cluster.redis: hiredis could not allocate a context; nothing was released")
        }
        defer { redisFree(context) }
        guard context.pointee.err == 0 else {
            throw SharedQuarantineError(description: "cluster.redis: Redis at \(settings.host):\(settings.port) is unreachable (\(errorText(context))); nothing was released")
        }
        // A Redis that accepts the connection but does not answer fails at the command timeout.
        _ = redisSetTimeout(context, timeval(milliseconds: settings.commandTimeoutMilliseconds))
        let keys = ClusterKeys(prefix: settings.prefix)
        var commands: [[String]] = []
        if let password = settings.password { commands.append(["AUTH", password]) }
        if settings.database != 0 { commands.append(["SELECT", "\(settings.database)"]) }
        commands.append(["EVAL", ClusterQuarantine.releaseScript, "3", ClusterQuarantine.key(keys), ClusterQuarantine.releasedKey(keys),
                         ClusterQuarantine.epochKey(keys), name, ClusterQuarantine.channel(keys), heldLocally ? "1" : "0"])
        var released = false
        for command in commands {
            released = try run(context, command)
        }
        return released
    }

    /// Runs one command; for the release script, whether it released (its reply's second
    /// integer); throws with Redis's error.
    private static func run(_ context: UnsafeMutablePointer<redisContext>, _ command: [String]) throws -> Bool {
        var storage = command.map { strdup($0) }
        defer { storage.forEach { free($0) } }
        let lengths = command.map { $0.utf8.count }
        let raw = storage.withUnsafeMutableBufferPointer { argv in
            argv.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: argv.count) { pointer in
                redisCommandArgv(context, Int32(command.count), pointer, lengths)
            }
        }
        guard let raw else {
            throw SharedQuarantineError(description: "cluster.redis: \(command[0]) got no answer: \(errorText(context)); "
                                        + (command[0] == "EVAL" ? "the release may or may not have been made in Redis (check GET /admin/quarantine)" : "nothing was released"))
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        if reply.pointee.type == REDIS_REPLY_ERROR {
            let text = reply.pointee.str.map { String(cString: $0) } ?? "error"
            throw SharedQuarantineError(description: "cluster.redis: Redis refused \(command[0]): \(text); nothing was released")
        }
        guard reply.pointee.type == REDIS_REPLY_ARRAY, reply.pointee.elements == 2, let items = reply.pointee.element,
              let second = items[1] else { return false }
        return second.pointee.type == REDIS_REPLY_INTEGER && second.pointee.integer == 1
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

private extension timeval {
    init(milliseconds: UInt64) {
        self.init(tv_sec: Int(milliseconds / 1000), tv_usec: Int(milliseconds % 1000) * 1000)
    }
}
