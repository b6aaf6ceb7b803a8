import CLibUV
import CPlexusShims
import Foundation
import Logging

/// The master of `plexus serve --supervise`: binds the listening socket, runs the plugins in a
/// worker process that inherits it, and when the worker dies from a signal (or its loop stalls
/// past the watchdog, or its memory runs away) names the plugin that was running, restarts the
/// worker at once and quarantines a plugin blamed too often. It reloads to a new worker
/// generation on SIGHUP or a plugins directory change. It never loads plugin code.
public final class Supervisor {
    /// The descriptor the worker finds the listening socket at.
    public static let workerListenFD: Int32 = 3

    let config: RuntimeConfig
    let logger: Logger
    /// `plexus worker` and its options, without the supervisor's own (`--listen-fd` and the rest).
    let workerArguments: [String]
    /// The master's libuv loop: its tick and the plugins directory watch.
    let loop = EventLoop()
    private var listenFD: Int32 = -1
    var stopping = false
    private var history: [String: [(date: Date, crash: Quarantine.Crash)]] = [:]
    /// Checks new plugin files in a throw-away process before a worker loads them.
    private lazy var preflight = PluginPreflight(pluginsDirectory: config.pluginsDirectory, dataDirectory: config.dataDirectory, logger: logger)

    /// One worker process and its shared record (each generation has its own).
    final class WorkerProcess {
        let pid: pid_t
        let record: UnsafeMutablePointer<plexus_blame_record>
        let recordPath: String
        let started = Date()
        let generation: Int
        /// The memory recycle this generation was started to replace.
        let replaces: WorkerRecycle?
        /// Why the master killed it (watchdog, memory), for the blame line; nil until then.
        var killCause: String?
        /// Set when the master kills it past the memory hard limit, for the generation that replaces it.
        var hardKill: WorkerRecycle?
        /// The RSS (MiB) at which the master decided to recycle it for memory; nil while it is not.
        var recyclingAt: UInt64?
        /// The previous RSS sample (MiB).
        var lastRSS: UInt64 = 0
        /// The generation's shared counters, added to the carry when it is released.
        var counters: (region: CounterRegion, carry: CounterCarry)?
        /// The master's copies of its connections (nil when the handover could not be set up).
        var connections: ConnectionKeeper?
        /// The generation's access log ring: what it had not written when it ended is written by the master.
        var accessLog: (ring: AccessLogRing, destination: AccessLogSettings.Destination, logger: Logger)?
        init(pid: pid_t, record: UnsafeMutablePointer<plexus_blame_record>, recordPath: String, generation: Int, replaces: WorkerRecycle?) {
            self.pid = pid
            self.record = record
            self.recordPath = recordPath
            self.generation = generation
            self.replaces = replaces
        }
        private var released = false
        /// Gives back what the worker shared with the master, once (later calls do nothing).
        func release() {
            guard !released else { return }
            released = true
            if let counters { counters.carry.absorb(counters.region) }
            connections?.close()
            if let accessLog {
                AccessLogRecovery.recover(accessLog.ring, into: accessLog.destination, worker: pid, logger: accessLog.logger)
            }
            munmap(record, MemoryLayout<plexus_blame_record>.size)
            unlink(recordPath)
        }
    }

    /// The worker serving now.
    var current: WorkerProcess!
    /// A reload's new generation, not ready yet, and why it was started.
    var candidate: (worker: WorkerProcess, reason: String)?
    /// Previous generations draining after SIGTERM.
    var retired: [WorkerProcess] = []
    /// A reload asked for while another was in progress (or the reason of the next one).
    var pendingReload: String?
    private var generation = 0
    /// Generations recycled for memory since start, by reason (for the workers' metric).
    var recycleTotals: [String: Int] = [:]
    /// When the memory ceiling is sampled next, and when a graceful recycle may be decided next.
    var nextRSSSample = Date()
    var nextRecycleCheck = Date()
    /// The exit code once the serving worker stopped during shutdown (others may still drain).
    private var stoppedCode: Int32?
    /// What systemd is told (`Type=notify`), when `$NOTIFY_SOCKET` is set.
    let systemd = SystemdNotifier.fromEnvironment().map(SystemdServiceState.init)
    /// The counts of ended worker generations, for the serving worker to add to its own.
    private lazy var counterCarry = CounterCarry(dataDirectory: config.dataDirectory)

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
        _ = plexus_raise_open_file_limit()  // the master holds a copy of every connection of its workers
        try FileManager.default.createDirectory(at: config.dataDirectory, withIntermediateDirectories: true)
        // The master holds the data directory's lock for its workers (they do not take it).
        let dataLock = try DataDirectoryLock(directory: config.dataDirectory)
        defer { withExtendedLifetime(dataLock) {} }
        Self.removeLeftovers(in: config.dataDirectory, logger: logger)
        let address = try bind()
        plexus_signal_count_install(SIGINT)
        plexus_signal_count_install(SIGTERM)
        plexus_hup_install()
        plexus_usr1_install()
        let pidFile = Self.pidFile(in: config.dataDirectory)
        try? "\(getpid())\n".write(to: pidFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: pidFile) }
        logger.notice("supervisor listening", metadata: ["listening": "\(address)", "watchdog_ms": "\(config.supervisor.watchdogMilliseconds)"])
        // The tick: each turn waits up to 10 ms in libuv (fs events of the plugins directory wake it sooner).
        let tick = LoopTimer(loop: loop)
        tick.start(afterMilliseconds: 10, repeatingMilliseconds: 10) {}
        let watch = config.supervisor.watchPlugins ? PluginsWatch(loop: loop, directory: config.pluginsDirectory, logger: logger) : nil
        defer {
            watch?.close()
            tick.close()
            loop.close()
        }
        current = try spawn(reload: false)
        var lastBeat: UInt64 = 0
        var lastChange = Date()
        while true {
            uv_run(loop.uv, UV_RUN_ONCE)
            var number: Int32 = 0
            var count = plexus_signal_count_take(&number)
            if count > 0 && !stopping {
                stopping = true
                systemd?.stopping()
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
                    worker.release()
                }
                return 1
            }
            if plexus_hup_take() > 0 && !stopping { requestReload("SIGHUP") }
            if plexus_usr1_take() > 0 { forwardReopen() }

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
                    if signaled, let cause = old.killCause {
                        let blamed = crashed(old, cause: cause, restarting: false, next: "generation \(current.generation) keeps serving")
                        endConnections(of: old, blaming: blamed.plugin)
                        if old.hardKill != nil { recycleTotals[WorkerRecycle.Reason.memoryHardLimit.rawValue, default: 0] += 1 }
                        if blamed.quarantined, let plugin = blamed.plugin, !stopping {
                            // The serving generation started before the verdict and still runs the plugin.
                            requestReload("plugin '\(plugin)' quarantined")
                        }
                    }
                    logger.notice("previous worker generation stopped", metadata: ["worker": "\(old.pid)", "generation": "\(old.generation)", "status": "\(described)"])
                    old.release()
                    continue
                }
                if let pending = candidate, pending.worker.pid == reaped {
                    candidate = nil
                    if signaled { crashed(pending.worker, cause: pending.worker.killCause ?? described, restarting: false) }
                    if pending.worker.hardKill != nil { recycleTotals[WorkerRecycle.Reason.memoryHardLimit.rawValue, default: 0] += 1 }
                    rollback(pending.worker, reaped: true, "the new worker died from \(pending.worker.killCause ?? described) before it was ready")
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
                    current.release()
                    for old in retired { kill(old.pid, SIGKILL) }
                    return exitStatus == 0 ? 1 : exitStatus
                }
                let cause = current.killCause ?? Self.signalName(signalNumber)
                if let pending = candidate {
                    // The reload's generation was started from the same plugins a restart would load.
                    candidate = nil
                    abandon(pending.worker)
                    pendingReload = nil
                }
                let blamed = crashed(current, cause: cause, restarting: true)
                let adopted = handOver(current, blaming: blamed.plugin)
                var recycled = current.hardKill
                if recycled != nil {
                    recycled?.plugin = blamed.plugin
                    recycleTotals[WorkerRecycle.Reason.memoryHardLimit.rawValue, default: 0] += 1
                }
                current.release()
                current = try spawn(reload: false, replacing: recycled, adopting: adopted)
                lastBeat = 0
                lastChange = Date()
            }
            // The worker's crash handler flags a fatal signal before the Swift runtime writes the
            // backtrace (which takes most of a second): serve from a new worker at once and let the
            // old one finish its report; it is blamed when it is reaped.
            let flagged = Int32(bitPattern: plexus_crash_signal(current.record))
            if flagged != 0 && !stopping && current.killCause == nil {
                let crashedWorker = current!
                if let pending = candidate {
                    candidate = nil
                    abandon(pending.worker)
                    pendingReload = nil
                }
                // Blamed now (the record names the code that was running), so the next worker
                // already leaves out a plugin this crash quarantines.
                let blamed = crashed(crashedWorker, cause: Self.signalName(flagged), restarting: true,
                                     next: "a new worker starts while this one writes its backtrace")
                let adopted = handOver(crashedWorker, blaming: blamed.plugin)
                retired.append(crashedWorker)
                current = try spawn(reload: false, adopting: adopted)
                lastBeat = 0
                lastChange = Date()
            }
            if config.supervisor.maxRSSMegabytes > 0 && Date() >= nextRSSSample { checkMemory(now: Date()) }
            systemd?.tick(servingReady: plexus_blame_ready(current.record) == 1, reloadInProgress: candidate != nil)
            if stopping {
                if let stoppedCode, retired.isEmpty {
                    // The serving worker's access-log ring and shared files: recovered and removed
                    // on the way out (the loop reads its crash record until here).
                    current.release()
                    return stoppedCode
                }
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
                    if let recycled = current.replaces { recycleTotals[recycled.reason.rawValue, default: 0] += 1 }
                    systemd?.reloadEnded("serving generation \(pending.worker.generation)")
                    lastBeat = 0
                    lastChange = Date()
                    logger.notice("reload complete: generation \(pending.worker.generation) serving; the previous worker drains",
                                  metadata: ["reason": "\(pending.reason)", "worker": "\(pending.worker.pid)", "previous": "\(old.pid)",
                                             "ready_ms": "\(Int(waited * 1000))"])
                    ReloadOutcome(serving: true, generation: current.generation, startedAt: current.started, reason: "").publish(dataDirectory: config.dataDirectory)
                } else if state == 2 {
                    candidate = nil
                    rollback(pending.worker, reaped: false, "the new worker is not ready: \(FixedCString.text(&pending.worker.record.pointee.problems))")
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
            if let reason = watch?.check(now: now) { requestReload(reason) }

            let watchdog = config.supervisor.watchdogMilliseconds
            guard watchdog > 0, current.killCause == nil else { continue }
            let beat = plexus_blame_heartbeat(current.record)
            if beat != lastBeat || beat == 0 {
                lastBeat = beat
                lastChange = Date()
            } else if Date().timeIntervalSince(lastChange) * 1000 > Double(watchdog) {
                current.killCause = "SIGKILL (watchdog: loop stalled for more than \(watchdog) ms)"
                logger.warning("watchdog: worker loop stalled for \(watchdog) ms; killing it", metadata: ["worker": "\(current.pid)"])
                kill(current.pid, SIGKILL)
            }
        }
    }

    /// Every worker process not reaped yet: serving, starting, draining.
    var liveWorkers: [WorkerProcess] {
        (stoppedCode == nil ? [current!] : []) + (candidate.map { [$0.worker] } ?? []) + retired
    }

    /// Asks for a reload; one already in progress finishes first.
    func requestReload(_ reason: String, replacing recycled: WorkerRecycle? = nil) {
        if candidate != nil {
            pendingReload = pendingReload ?? reason
        } else {
            startReload(reason, replacing: recycled)
        }
    }

    private func startReload(_ reason: String, replacing recycled: WorkerRecycle? = nil) {
        do {
            let worker = try spawn(reload: true, replacing: recycled)
            candidate = (worker, reason)
            systemd?.reloadStarted(reason)
            logger.notice("reload: starting worker generation \(worker.generation)", metadata: ["reason": "\(reason)", "worker": "\(worker.pid)"])
        } catch {
            logger.error("reload rolled back: \(error)")
            ReloadOutcome(serving: false, generation: generation, startedAt: Date(), reason: "\(error)").publish(dataDirectory: config.dataDirectory)
        }
    }

    /// Kills a new generation that will not serve; the current one goes on.
    private func rollback(_ worker: WorkerProcess, reaped: Bool, _ reason: String) {
        if !reaped { abandon(worker) } else { worker.release() }
        if worker.replaces != nil { current.recyclingAt = nil }  // still too big: decided again at the next check
        logger.error("reload rolled back: \(reason)", metadata: ["worker": "\(worker.pid)", "serving": "\(current.pid)"])
        ReloadOutcome(serving: false, generation: worker.generation, startedAt: worker.started, reason: reason).publish(dataDirectory: config.dataDirectory)
        systemd?.reloadEnded("reload rolled back: \(reason)")
    }

    /// SIGKILLs and reaps a worker that never served.
    private func abandon(_ worker: WorkerProcess) {
        kill(worker.pid, SIGKILL)
        var status: Int32 = 0
        waitpid(worker.pid, &status, 0)
        worker.release()
    }

    /// A worker died from `cause`: blame, maybe quarantine, and log one line. Returns the plugin
    /// blamed and whether it is quarantined now.
    @discardableResult
    private func crashed(_ worker: WorkerProcess, cause: String, restarting: Bool, next: String? = nil) -> (plugin: String?, quarantined: Bool) {
        let culprit = BlameCulprit.read(worker.record, pid: worker.pid)
        let plugin = culprit?.plugin ?? "", what = culprit?.what ?? ""
        let lived = Date().timeIntervalSince(worker.started)
        let next = next ?? (restarting ? "restarting" : "the previous generation keeps serving")
        guard culprit != nil else {
            logger.error("worker \(worker.pid) died from \(cause) with no plugin code running; \(next)")
            if restarting && lived < 1 { usleep(500_000) }  // no culprit to quarantine: do not spin
            return (nil, false)
        }
        let crash = Quarantine.Crash(at: Quarantine.timestamp(), what: what, signal: cause)
        let now = Date()
        var crashes = (history[plugin] ?? []).filter { now.timeIntervalSince($0.date) <= Double(config.supervisor.quarantineWindowSeconds) }
        crashes.append((now, crash))
        history[plugin] = crashes
        logger.error("worker \(worker.pid) crashed in plugin '\(plugin)' (\(what)) from \(cause); \(next)",
                     metadata: ["plugin": "\(plugin)", "hook": "\(what)", "signal": "\(cause)", "crashes": "\(crashes.count)"])
        let limit = max(1, config.supervisor.quarantineAfter)
        guard crashes.count >= limit else { return (plugin, false) }
        let reason = "crashed the worker \(crashes.count) times within \(config.supervisor.quarantineWindowSeconds) s (last: \(what), \(cause))"
        do {
            try Quarantine.add(plugin, .init(reason: reason, since: Quarantine.timestamp(), crashes: crashes.map(\.crash)), dataDirectory: config.dataDirectory)
            history[plugin] = nil
            logger.error("plugin '\(plugin)' quarantined: \(reason)", metadata: ["plugin": "\(plugin)", "file": "\(Quarantine.file(in: config.dataDirectory).path)"])
            return (plugin, true)
        } catch {
            logger.error("plugin '\(plugin)' cannot be quarantined: \(error)")
        }
        return (plugin, false)
    }

    /// Starts a worker generation; `recycled` is the memory recycle it replaces, for it to publish.
    private func spawn(reload: Bool, replacing recycled: WorkerRecycle? = nil, adopting adopted: [Int32] = []) throws -> WorkerProcess {
        preflight.checkNewFiles()
        generation += 1
        let recordPath = config.dataDirectory.appendingPathComponent("supervisor.\(generation).record").path
        let record = try Blame.map(path: recordPath, create: true)
        memset(record, 0, MemoryLayout<plexus_blame_record>.size)
        record.pointee.magic = Blame.magic
        let counters = sharedCounters(generation: generation)
        defer { counters?.closeDescriptor() }
        var accessLogRing: AccessLogRing?
        if config.accessLog.isEnabled {
            do { accessLogRing = try AccessLogRing.shared(capacity: config.accessLog.bufferBytes) } catch {
                logger.error("access log records of worker generation \(generation) are lost if it crashes: \(error)")
            }
        }
        defer { accessLogRing?.closeDescriptor() }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var totals = recycleTotals
        if let recycled, recycled.reason == .memoryCeiling { totals[recycled.reason.rawValue, default: 0] += 1 }  // counted once it serves
        let report = RecycleReport(recycled: recycled, totals: totals)
        let keeper = ConnectionKeeper.prepare(adopting: adopted, logger: logger)
        var inherited = keeper?.inherited ?? (sources: [], targets: [], arguments: [])
        if let ring = accessLogRing {
            inherited.sources.append(ring.descriptor)
            inherited.targets.append(AccessLogRing.workerFD)
            inherited.arguments += ["--access-log-ring-fd", "\(AccessLogRing.workerFD)"]
        }
        if let counters {
            inherited.sources.append(counters.descriptor)
            inherited.targets.append(CounterRegion.workerFD)
            inherited.arguments += ["--counter-region-fd", "\(CounterRegion.workerFD)"]
        }
        let arguments = [executable] + workerArguments + ["--listen-fd", "\(Self.workerListenFD)", "--record", recordPath, "--master-pid", "\(getpid())"]
            + (reload ? ["--reload"] : []) + (report == RecycleReport() ? [] : ["--recycles", report.argument]) + inherited.arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        let pid = plexus_spawn_with_fds(executable, &cArguments, [listenFD] + inherited.sources, [Self.workerListenFD] + inherited.targets,
                                        Int32(1 + inherited.sources.count))
        guard pid > 0 else {
            keeper?.close()
            munmap(record, MemoryLayout<plexus_blame_record>.size)
            unlink(recordPath)
            throw RuntimeError.plugins("cannot start a worker (\(executable)): \(String(cString: strerror(-pid)))")
        }
        logger.info("worker started", metadata: ["worker": "\(pid)", "generation": "\(generation)"])
        keeper?.started(loop: loop)
        let worker = WorkerProcess(pid: pid, record: record, recordPath: recordPath, generation: generation, replaces: recycled)
        worker.connections = keeper
        worker.counters = counters.map { ($0, counterCarry) }
        worker.accessLog = accessLogRing.map { ($0, config.accessLog.destination, logger) }
        return worker
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
}
