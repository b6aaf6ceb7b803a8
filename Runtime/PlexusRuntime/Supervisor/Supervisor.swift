import CPlexusShims
import Foundation
import Logging

/// The master of `plexus serve --supervise`: binds the listening socket, runs the plugins in a
/// worker process that inherits it, and when the worker dies from a signal (or its loop stalls
/// past the watchdog) names the plugin that was running, restarts the worker at once and
/// quarantines a plugin blamed too often. It never loads plugin code.
public final class Supervisor {
    /// The descriptor the worker finds the listening socket at.
    public static let workerListenFD: Int32 = 3

    let config: RuntimeConfig
    let logger: Logger
    /// `plexus worker` and its options, without the supervisor's own (`--listen-fd` and the rest).
    let workerArguments: [String]
    private var listenFD: Int32 = -1
    private var stopping = false
    private var history: [String: [(date: Date, crash: Quarantine.Crash)]] = [:]

    /// One worker process and its shared record (each generation has its own).
    final class WorkerProcess {
        let pid: pid_t
        let record: UnsafeMutablePointer<plexus_blame_record>
        let recordPath: String
        let started = Date()
        let generation: Int
        init(pid: pid_t, record: UnsafeMutablePointer<plexus_blame_record>, recordPath: String, generation: Int) {
            self.pid = pid
            self.record = record
            self.recordPath = recordPath
            self.generation = generation
        }
        func release() {
            munmap(record, MemoryLayout<plexus_blame_record>.size)
            unlink(recordPath)
        }
    }

    /// The worker serving now.
    private var current: WorkerProcess!
    /// A reload's new generation, not ready yet, and why it was started.
    private var candidate: (worker: WorkerProcess, reason: String)?
    /// Previous generations draining after SIGTERM.
    private var retired: [WorkerProcess] = []
    /// A reload asked for while another was in progress (or the reason of the next one).
    private var pendingReload: String?
    private var generation = 0
    /// The exit code once the serving worker stopped during shutdown (others may still drain).
    private var stoppedCode: Int32?

    public init(config: RuntimeConfig, logger: Logger, workerArguments: [String]) {
        self.config = config
        self.logger = logger
        self.workerArguments = workerArguments
    }

    /// `<data>/supervisor.pid`: the master's pid, for `plexus reload`.
    public static func pidFile(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("supervisor.pid") }

    /// Runs until the worker stopped after a signal; returns the exit code.
    public func run() throws -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        try FileManager.default.createDirectory(at: config.dataDirectory, withIntermediateDirectories: true)
        let address = try bind()
        plexus_signal_count_install(SIGINT)
        plexus_signal_count_install(SIGTERM)
        plexus_hup_install()
        let pidFile = Self.pidFile(in: config.dataDirectory)
        try? "\(getpid())\n".write(to: pidFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: pidFile) }
        logger.notice("supervisor listening", metadata: ["listening": "\(address)", "watchdog_ms": "\(config.supervisor.watchdogMilliseconds)"])
        current = try spawn(reload: false)
        var lastBeat: UInt64 = 0
        var lastChange = Date()
        var watchdogFired = false
        var pluginsSnapshot = pluginsListing()
        var pluginsChanged: Date?
        var nextPoll = Date().addingTimeInterval(0.5)
        var nextRSS = Date().addingTimeInterval(1)
        while true {
            usleep(10_000)
            var number: Int32 = 0
            var count = plexus_signal_count_take(&number)
            if count > 0 && !stopping {
                stopping = true
                count -= 1
                logger.notice("signal \(number): stopping the worker", metadata: ["worker": "\(current.pid)"])
                close(listenFD)
                if let candidate { abandon(candidate.worker) }
                candidate = nil
                kill(current.pid, number)
            }
            if count > 0 {
                logger.warning("second signal \(number): exiting at once")
                for worker in [current!] + retired {
                    kill(worker.pid, SIGKILL)
                    var status: Int32 = 0
                    waitpid(worker.pid, &status, 0)
                }
                return 1
            }
            if plexus_hup_take() > 0 && !stopping { requestReload("SIGHUP") }

            // Reap every worker that ended.
            while true {
                var status: Int32 = 0
                let reaped = waitpid(-1, &status, WNOHANG)
                guard reaped > 0 else { break }
                let signaled = (status & 0x7F) != 0 && (status & 0x7F) != 0x7F
                let signalNumber = status & 0x7F
                let exitStatus = (status >> 8) & 0xFF
                let described = signaled ? Self.signalName(signalNumber) : "exit status \(exitStatus)"
                if let index = retired.firstIndex(where: { $0.pid == reaped }) {
                    let old = retired.remove(at: index)
                    logger.notice("previous worker generation stopped", metadata: ["worker": "\(old.pid)", "generation": "\(old.generation)", "status": "\(described)"])
                    old.release()
                    continue
                }
                if let pending = candidate, pending.worker.pid == reaped {
                    candidate = nil
                    if signaled { crashed(pending.worker, cause: described, restarting: false) }
                    rollback(pending.worker, reaped: true, "the new worker died from \(described) before it was ready")
                    continue
                }
                guard reaped == current.pid else { continue }
                if stopping {
                    logger.notice("worker stopped", metadata: ["worker": "\(current.pid)", "status": "\(signaled ? "signal \(signalNumber)" : "\(exitStatus)")"])
                    stoppedCode = signaled ? 1 : exitStatus
                    continue
                }
                guard signaled else {
                    logger.error("worker exited with status \(exitStatus); supervisor stops too", metadata: ["worker": "\(current.pid)"])
                    for old in retired { kill(old.pid, SIGKILL) }
                    return exitStatus == 0 ? 1 : exitStatus
                }
                let cause = watchdogFired
                    ? "SIGKILL (watchdog: loop stalled for more than \(config.supervisor.watchdogMilliseconds) ms)"
                    : Self.signalName(signalNumber)
                if let pending = candidate {
                    // The reload's generation was started from the same plugins a restart would load.
                    candidate = nil
                    abandon(pending.worker)
                    pendingReload = nil
                }
                crashed(current, cause: cause, restarting: true)
                current.release()
                watchdogFired = false
                current = try spawn(reload: false)
                lastBeat = 0
                lastChange = Date()
            }
            if stopping {
                if let stoppedCode, retired.isEmpty { return stoppedCode }
                continue
            }

            // A reload's new generation: promote it once ready, roll back when it fails or is late.
            if let pending = candidate {
                let state = plexus_blame_ready(pending.worker.record)
                let waited = Date().timeIntervalSince(pending.worker.started)
                if state == 1 {
                    candidate = nil
                    let old = current!
                    kill(old.pid, SIGTERM)
                    retired.append(old)
                    current = pending.worker
                    lastBeat = 0
                    lastChange = Date()
                    watchdogFired = false
                    logger.notice("reload complete: generation \(pending.worker.generation) serving; the previous worker drains",
                                  metadata: ["reason": "\(pending.reason)", "worker": "\(pending.worker.pid)", "previous": "\(old.pid)",
                                             "ready_ms": "\(Int(waited * 1000))"])
                } else if state == 2 {
                    candidate = nil
                    rollback(pending.worker, reaped: false, "the new worker is not ready: \(Self.text(&pending.worker.record.pointee.problems))")
                } else if waited * 1000 > Double(config.supervisor.reloadTimeoutMilliseconds) {
                    candidate = nil
                    rollback(pending.worker, reaped: false, "the new worker was not ready within \(config.supervisor.reloadTimeoutMilliseconds) ms")
                }
            }
            if candidate == nil, let reason = pendingReload {
                pendingReload = nil
                startReload(reason)
            }

            let now = Date()
            if config.supervisor.watchPlugins && now >= nextPoll {
                let listing = pluginsListing()
                if listing != pluginsSnapshot {
                    pluginsSnapshot = listing
                    pluginsChanged = now
                    nextPoll = now.addingTimeInterval(0.3)  // debounce: wait until it holds still
                } else if pluginsChanged != nil {
                    pluginsChanged = nil
                    requestReload("plugins directory changed")
                    nextPoll = now.addingTimeInterval(0.5)
                } else {
                    nextPoll = now.addingTimeInterval(0.5)
                }
            }
            if config.supervisor.maxRSSMegabytes > 0 && now >= nextRSS {
                nextRSS = now.addingTimeInterval(1)
                if candidate == nil, pendingReload == nil, let rss = Self.residentMegabytes(of: current.pid), rss > config.supervisor.maxRSSMegabytes {
                    logger.warning("worker RSS \(rss) MB is above max_rss_mb \(config.supervisor.maxRSSMegabytes): recycling it",
                                   metadata: ["worker": "\(current.pid)"])
                    requestReload("memory ceiling (\(rss) MB > \(config.supervisor.maxRSSMegabytes) MB)")
                }
            }

            let watchdog = config.supervisor.watchdogMilliseconds
            guard watchdog > 0, !watchdogFired else { continue }
            let beat = plexus_blame_heartbeat(current.record)
            if beat != lastBeat || beat == 0 {
                lastBeat = beat
                lastChange = Date()
            } else if Date().timeIntervalSince(lastChange) * 1000 > Double(watchdog) {
                watchdogFired = true
                logger.warning("watchdog: worker loop stalled for \(watchdog) ms; killing it", metadata: ["worker": "\(current.pid)"])
                kill(current.pid, SIGKILL)
            }
        }
    }

    /// Asks for a reload; one already in progress finishes first.
    private func requestReload(_ reason: String) {
        if candidate != nil {
            pendingReload = pendingReload ?? reason
        } else {
            startReload(reason)
        }
    }

    private func startReload(_ reason: String) {
        do {
            let worker = try spawn(reload: true)
            candidate = (worker, reason)
            logger.notice("reload: starting worker generation \(worker.generation)", metadata: ["reason": "\(reason)", "worker": "\(worker.pid)"])
        } catch {
            logger.error("reload rolled back: \(error)")
        }
    }

    /// Kills a new generation that will not serve; the current one goes on.
    private func rollback(_ worker: WorkerProcess, reaped: Bool, _ reason: String) {
        if !reaped { abandon(worker) } else { worker.release() }
        logger.error("reload rolled back: \(reason)", metadata: ["worker": "\(worker.pid)", "serving": "\(current.pid)"])
    }

    /// SIGKILLs and reaps a worker that never served.
    private func abandon(_ worker: WorkerProcess) {
        kill(worker.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(worker.pid, &status, 0)
        worker.release()
    }

    /// The plugins directory's entries as names, sizes and modification times.
    private func pluginsListing() -> [String] {
        let directory = config.pluginsDirectory.path
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.sorted().map { name in
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0 else { return name }
            return "\(name) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        }
    }

    /// VmRSS of `pid` in MiB, from /proc.
    static func residentMegabytes(of pid: pid_t) -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = UInt64(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kilobytes / 1024
    }

    /// A worker died from `cause`: blame, maybe quarantine, and log one line.
    private func crashed(_ worker: WorkerProcess, cause: String, restarting: Bool) {
        let record = worker.record
        let active = record.pointee.active != 0
        let plugin = active ? Self.text(&record.pointee.plugin) : ""
        let what = active ? Self.text(&record.pointee.what) : ""
        let lived = Date().timeIntervalSince(worker.started)
        let next = restarting ? "restarting" : "the previous generation keeps serving"
        guard active, !plugin.isEmpty else {
            logger.error("worker \(worker.pid) died from \(cause) with no plugin code running; \(next)")
            if restarting && lived < 1 { usleep(500_000) }  // no culprit to quarantine: do not spin
            return
        }
        let crash = Quarantine.Crash(at: Quarantine.timestamp(), what: what, signal: cause)
        let now = Date()
        var crashes = (history[plugin] ?? []).filter { now.timeIntervalSince($0.date) <= Double(config.supervisor.quarantineWindowSeconds) }
        crashes.append((now, crash))
        history[plugin] = crashes
        logger.error("worker \(worker.pid) crashed in plugin '\(plugin)' (\(what)) from \(cause); \(next)",
                     metadata: ["plugin": "\(plugin)", "hook": "\(what)", "signal": "\(cause)", "crashes": "\(crashes.count)"])
        let limit = max(1, config.supervisor.quarantineAfter)
        guard crashes.count >= limit else { return }
        let reason = "crashed the worker \(crashes.count) times within \(config.supervisor.quarantineWindowSeconds) s (last: \(what), \(cause))"
        do {
            try Quarantine.add(plugin, .init(reason: reason, since: Quarantine.timestamp(), crashes: crashes.map(\.crash)), dataDirectory: config.dataDirectory)
            history[plugin] = nil
            logger.error("plugin '\(plugin)' quarantined: \(reason)", metadata: ["plugin": "\(plugin)", "file": "\(Quarantine.file(in: config.dataDirectory).path)"])
        } catch {
            logger.error("plugin '\(plugin)' cannot be quarantined: \(error)")
        }
    }

    private func spawn(reload: Bool) throws -> WorkerProcess {
        generation += 1
        let recordPath = config.dataDirectory.appendingPathComponent("supervisor.\(generation).record").path
        let record = try Blame.map(path: recordPath, create: true)
        memset(record, 0, MemoryLayout<plexus_blame_record>.size)
        record.pointee.magic = Blame.magic
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let arguments = [executable] + workerArguments + ["--listen-fd", "\(Self.workerListenFD)", "--record", recordPath, "--master-pid", "\(getpid())"]
            + (reload ? ["--reload"] : [])
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        let pid = plexus_spawn_with_fd(executable, &cArguments, listenFD, Self.workerListenFD)
        guard pid > 0 else {
            munmap(record, MemoryLayout<plexus_blame_record>.size)
            unlink(recordPath)
            throw RuntimeError.plugins("cannot start a worker (\(executable)): \(String(cString: strerror(-pid)))")
        }
        logger.info("worker started", metadata: ["worker": "\(pid)", "generation": "\(generation)"])
        return WorkerProcess(pid: pid, record: record, recordPath: recordPath, generation: generation)
    }

    /// Binds and listens on the configured address; returns `HOST:PORT` with the real port.
    private func bind() throws -> String {
        let host = config.host, port = config.port
        let six = host.contains(":")
        var fd = socket(six ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RuntimeError.listen("socket: \(String(cString: strerror(errno)))") }
        if fd == Self.workerListenFD {  // keep descriptor 3 free for the dup2 in the worker
            let moved = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            close(fd)
            fd = moved
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var status: Int32
        if six {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw RuntimeError.listen("'\(host)' is not an IP address") }
            status = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw RuntimeError.listen("'\(host)' is not an IP address") }
            status = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        }
        guard status == 0 else { throw RuntimeError.listen("cannot bind \(host):\(port): \(String(cString: strerror(errno)))") }
        guard listen(fd, 511) == 0 else { throw RuntimeError.listen("cannot listen on \(host):\(port): \(String(cString: strerror(errno)))") }
        listenFD = fd
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let boundPort = withUnsafePointer(to: &storage) { pointer -> UInt16 in
            six ? pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
                : pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
        return six ? "[\(host)]:\(boundPort)" : "\(host):\(boundPort)"
    }

    static func signalName(_ number: Int32) -> String {
        switch number {
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGFPE: "SIGFPE"
        case SIGILL: "SIGILL"
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGTRAP: "SIGTRAP"
        default: "signal \(number)"
        }
    }

    private static func text<T>(_ tuple: inout T) -> String {
        withUnsafeBytes(of: &tuple) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
