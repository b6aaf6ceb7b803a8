import Foundation

/// A worker generation the master replaced because of its memory (`[supervisor] max_rss_mb`),
/// handed to the generation that replaces it, which publishes it as `system.worker.recycled`.
public struct WorkerRecycle: Codable, Sendable, Equatable {
    public enum Reason: String, Codable, Sendable, CaseIterable {
        /// Above `max_rss_mb`: a new generation was started and the old one drained.
        case memoryCeiling = "memory_ceiling"
        /// Still growing past twice `max_rss_mb` while being recycled: killed with SIGKILL. A
        /// generation already replaced (draining) is killed the same way, blamed and counted,
        /// but not reported twice: its replacement published `memoryCeiling` for it.
        case memoryHardLimit = "memory_hard_limit"
    }

    public var reason: Reason
    /// The resident memory measured when the master acted.
    public var rssMegabytes: UInt64
    /// `max_rss_mb`.
    public var limitMegabytes: UInt64
    /// The generation recycled.
    public var generation: Int
    /// The plugin blamed (a hard-limit kill with plugin code running).
    public var plugin: String?

    enum CodingKeys: String, CodingKey {
        case reason, generation, plugin
        case rssMegabytes = "rss_mb"
        case limitMegabytes = "limit_mb"
    }
}

/// What the master tells a worker it starts about memory recycles (`plexus worker --recycles JSON`).
public struct RecycleReport: Codable, Sendable, Equatable {
    /// The recycle this generation replaces, if it was started for one.
    public var recycled: WorkerRecycle?
    /// Since the master started, by reason: generations recycled gracefully, workers killed past the hard limit (this one's included).
    public var totals: [String: Int] = [:]

    public init(recycled: WorkerRecycle? = nil, totals: [String: Int] = [:]) {
        self.recycled = recycled
        self.totals = totals
    }

    /// The command-line form.
    var argument: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Reads the command-line form.
    public init(argument: String) throws {
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(argument.utf8))
        } catch {
            throw RuntimeError.config("--recycles: \(error)")
        }
    }
}
