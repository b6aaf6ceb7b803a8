import CPlexusShims
import Foundation

/// What a supervised worker (`plexus worker`) gets from its master.
public struct WorkerSettings {
    /// The listening socket the master bound.
    public var listenFD: Int32
    /// Plugins not to start (name → reason), read from `<data>/quarantine.json`.
    public var quarantined: [String: String]
    /// A reload generation: when not ready after start-up, report it and do not accept connections.
    public var holdUnlessReady = false
    /// Memory recycles the master reports: the one this generation replaces, and the totals.
    public var recycles = RecycleReport()
    /// This generation's shared counters (nil when the master made none) and the master's file of
    /// earlier generations' totals.
    var counters: CounterRegion?
    var carriedCounters: URL
    /// This generation's access log ring, shared with the master (nil when the master made none).
    var accessLogRing: AccessLogRing?
    /// The worker's end of the master's connection handover channel and the shared connection
    /// table's descriptor (``ConnectionHandover``); nil when the master passed none.
    public var handover: (channelFD: Int32, tableFD: Int32)?

    /// Prepares this process as the master's worker: dies with the master, maps the shared
    /// record at `recordPath`, reads the quarantine file.
    public init(listenFD: Int32, recordPath: String, masterPID: pid_t, config: RuntimeConfig) throws {
        _ = plexus_set_parent_death_signal(SIGKILL)
        if getppid() != masterPID { _exit(1) }  // the master died before the death signal was set
        self.listenFD = listenFD
        try Blame.attach(path: recordPath)
        quarantined = Quarantine.load(dataDirectory: config.dataDirectory).mapValues(\.reason)
        carriedCounters = CounterCarry.file(in: config.dataDirectory)
    }

    /// Maps the counter region the master passed at `fd` (``CounterRegion/workerFD``, closed
    /// here). Without it the worker's counts are its own and end with it.
    public mutating func attachCounterRegion(fd: Int32) throws {
        counters = try CounterRegion(attaching: fd)
    }

    /// Maps the access log ring the master passed at `fd` (``AccessLogRing/workerFD``, closed
    /// here). Without it the worker keeps its records in a ring of its own, which a crash loses.
    public mutating func attachAccessLogRing(fd: Int32) throws {
        accessLogRing = try AccessLogRing(attaching: fd)
    }
}

extension Runtime {
    /// Starts the connection handover with the master (before the listener accepts): names the
    /// plugins in the shared table, registers every accepted connection, adopts those the master
    /// hands over. Without it the worker serves as before (a crash drops its connections).
    func startHandover() {
        guard let fds = worker?.handover else { return }
        do {
            let handover = try ConnectionHandover(channelFD: fds.channelFD, tableFD: fds.tableFD, logger: logger)
            handover.name(group.plugins)
            server.handover = handover
            handover.start(loop: loop) { [unowned self] fd, slot in server.adopt(fd: fd, slot: slot) }
        } catch {
            logger.error("connection handover off: \(error)")
        }
    }

    /// Bumps the shared heartbeat from a loop timer, so the master sees a loop that is stuck.
    func startHeartbeat() {
        let watchdog = config.supervisor.watchdogMilliseconds
        let timer = LoopTimer(loop: loop)
        let interval = max(10, min(500, (watchdog == 0 ? 1000 : watchdog) / 5))
        timer.start(afterMilliseconds: interval, repeatingMilliseconds: interval) { [unowned self] in
            Blame.beat()
            reportServingReadiness(onlyChanges: true)
        }
        timer.unref()
        heartbeat = timer
        Blame.beat()
    }

    /// What the master reported, published once the plugins have started: `system.plugin.quarantined`
    /// for every plugin this worker did not start because of quarantine, `system.worker.recycled`
    /// when this generation replaces one recycled for its memory, and the recycle totals as
    /// `plexus_worker_recycles_total`.
    func publishSupervisorEvents() {
        guard let worker else { return }
        for plugin in group.plugins {
            guard let reason = worker.quarantined[plugin.name], plugin.failure?.kind == .quarantined else { continue }
            publish(.pluginQuarantined(SystemEvent.PluginFile(plugin: plugin.name, file: plugin.file.lastPathComponent, reason: reason)))
        }
        for reason in WorkerRecycle.Reason.allCases {
            // The master's own totals, given to every worker: not carried from one generation to the next.
            metrics.counter("plexus_worker_recycles_total", [("reason", reason.rawValue)], help: "", carried: false)
                .increment(by: Int64(worker.recycles.totals[reason.rawValue] ?? 0))
        }
        if let recycled = worker.recycles.recycled {
            publish(.workerRecycled(recycled))
        }
    }
}
