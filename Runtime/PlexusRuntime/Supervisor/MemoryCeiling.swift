import Foundation
import Logging

/// `[supervisor] max_rss_mb`: the master samples every worker's resident memory.
///
/// Above the ceiling, the serving worker is recycled gracefully: a new generation starts and the
/// old one drains. A worker that cannot drain (a plugin allocating in a loop on the loop thread
/// never returns to it) is killed with SIGKILL once, while being recycled, draining or not yet
/// ready, its RSS is still growing past twice the ceiling; the plugin in its blame record is
/// blamed as for a crash, and quarantined as often. That kill also applies while the master stops.
extension Supervisor {
    /// How often the RSS is sampled: a tight allocation loop gains a few GB per second.
    static let rssSampleInterval: TimeInterval = 0.05
    /// How often a graceful recycle may be decided (a ceiling below a fresh worker's size would otherwise churn).
    static let recycleCheckInterval: TimeInterval = 1

    /// Samples the workers' RSS; recycles or kills as above.
    func checkMemory(now: Date) {
        nextRSSSample = now.addingTimeInterval(Self.rssSampleInterval)
        let limit = config.supervisor.maxRSSMegabytes
        let hard = limit * 2
        for worker in liveWorkers where worker.killCause == nil {
            guard let rss = Self.residentMegabytes(of: worker.pid) else { continue }
            defer { worker.lastRSS = rss }
            let recycling = worker.recyclingAt != nil || worker !== current || stopping  // being replaced, draining, or not serving yet
            if recycling && rss > hard && rss > worker.lastRSS {
                worker.killCause = "SIGKILL (memory: RSS \(rss) MB still growing past \(hard) MB, twice max_rss_mb)"
                worker.hardKill = WorkerRecycle(reason: .memoryHardLimit, rssMegabytes: rss, limitMegabytes: limit, generation: worker.generation)
                logger.error("worker RSS \(rss) MB is still growing past twice max_rss_mb (\(hard) MB): killing it",
                             metadata: ["worker": "\(worker.pid)", "generation": "\(worker.generation)"])
                kill(worker.pid, SIGKILL)
                continue
            }
            guard !stopping, worker === current, worker.recyclingAt == nil, rss > limit, rss > hard || now >= nextRecycleCheck else { continue }
            nextRecycleCheck = now.addingTimeInterval(Self.recycleCheckInterval)
            worker.recyclingAt = rss
            guard candidate == nil, pendingReload == nil else {
                logger.warning("worker RSS \(rss) MB is above max_rss_mb \(limit): the reload in progress replaces it",
                               metadata: ["worker": "\(worker.pid)"])
                continue
            }
            logger.warning("worker RSS \(rss) MB is above max_rss_mb \(limit): recycling it", metadata: ["worker": "\(worker.pid)"])
            requestReload("memory ceiling (\(rss) MB > \(limit) MB)",
                          replacing: WorkerRecycle(reason: .memoryCeiling, rssMegabytes: rss, limitMegabytes: limit, generation: worker.generation))
        }
    }

    /// The resident set of `pid` in MiB, from `/proc/PID/statm` (cheaper to read than `status`).
    static func residentMegabytes(of pid: pid_t) -> UInt64? {
        let fd = open("/proc/\(pid)/statm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        let fields = String(decoding: buffer[..<count], as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = UInt64(fields[1]) else { return nil }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }
}
