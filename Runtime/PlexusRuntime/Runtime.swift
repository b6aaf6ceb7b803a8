import CLibUV
import Foundation
import Logging
import PlexusEventLog
import PlexusPolicy

/// One Plexus process: the loop, the plugins and the HTTP server, wired together and run
/// until a signal asks it to stop.
///
/// Start-up: load and check every plugin, start them in dependency order, freeze their routes,
/// then listen. Shutdown (SIGINT/SIGTERM): stop accepting, drain in-flight requests within the
/// grace period, stop plugins in reverse order, exit 0. A second signal exits at once.
public final class Runtime {
    /// The runtime's version.
    public static let version = "0.1.0"

    public let config: RuntimeConfig
    let logger: Logger
    let loop = EventLoop()
    let group: PluginGroup
    let server: HTTPServer
    let metrics = RuntimeMetrics(version: Runtime.version)
    let events: EventRouter
    let health: HealthMonitor
    let loopLag: LoopLagMonitor
    private var startupComplete = false
    private var alerts: AlertEvaluator?
    private var signals: [UnsafeMutablePointer<uv_signal_t>] = []
    private var shuttingDown = false
    private var exitCode: Int32 = 0
    private let startedAt = DispatchTime.now()
    /// Called on the loop thread with the bound address once the runtime serves.
    public var onReady: ((String) -> Void)?
    /// A supervised worker's settings (`plexus worker`); nil for a plain `plexus serve`.
    public var worker: WorkerSettings?
    /// Plugin files not to load because loading them crashed a check process (file name → diagnosis).
    public var crashingPluginFiles: [String: String] = [:]
    var heartbeat: LoopTimer?
    /// `plexus serve --no-supervise` under systemd (`Type=notify`): what it is told, from `$NOTIFY_SOCKET`.
    public var systemd: SystemdNotifier?
    var systemdLink: (state: SystemdServiceState, timer: LoopTimer)?
    /// A serving worker's readiness as last written to the shared record (nil before it serves).
    var reportedReadiness: Bool?
    private var gatewayTimer: LoopTimer?
    /// The data directory's lock, held for the process's life (not by a supervised worker: its master holds it).
    private var dataLock: DataDirectoryLock?

    public init(config: RuntimeConfig, logger: Logger) {
        self.config = config
        self.logger = logger
        let registry = RouteRegistry()
        events = EventRouter(loop: loop, logger: logger)
        let services = PluginServices(loop: loop, logger: logger, runtimeVersion: Self.version, routes: registry, events: events)
        group = PluginGroup(services: services, directory: config.pluginsDirectory,
                            cacheDirectory: config.dataDirectory.appendingPathComponent("plugin-cache"),
                            startTimeout: config.startTimeoutMilliseconds, stopTimeout: config.stopTimeoutMilliseconds)
        server = HTTPServer(loop: loop, limits: config.limits, logger: logger)
        services.responses = server
        services.dataDirectory = config.dataDirectory.path
        services.metrics = metrics
        server.metrics = metrics
        health = HealthMonitor(loop: loop, group: group, logger: logger, intervalMilliseconds: config.healthIntervalMilliseconds,
                               timeoutMilliseconds: config.healthTimeoutMilliseconds)
        loopLag = LoopLagMonitor(loop: loop)
        AdminEndpoints.install(on: server, group: group)
        ObservabilityEndpoints.install(on: server, runtime: self)
        EventEndpoints.install(on: server, runtime: self)
    }

    /// Runs until shutdown; returns the process exit code.
    public func run() throws -> Int32 {
        signal(SIGPIPE, SIG_IGN)
        // A file-size limit must turn into a "disk full" error for the writer, not kill the process.
        signal(SIGXFSZ, SIG_IGN)
        try FileManager.default.createDirectory(at: config.dataDirectory, withIntermediateDirectories: true)
        if let counters = worker?.counters, let carried = worker?.carriedCounters { metrics.attach(region: counters, carriedFile: carried) }
        metrics.registerKnownSeries(supervised: worker != nil)
        metrics.bootstrapSwiftMetrics()
        try startAccessLog()
        // Alone on the data directory and the port before any plugin runs: a second instance or a
        // taken port stops here with exit 1. Connections wait in the backlog until start-up is done.
        let boundAddress: String?
        if worker == nil {
            dataLock = try DataDirectoryLock(directory: config.dataDirectory)
            server.acceptsConnections = false
            boundAddress = try server.listen(host: config.host, port: config.port)
        } else {
            boundAddress = nil
        }
        PluginCache.removeStaleCopies(in: config.dataDirectory.appendingPathComponent("plugin-cache"))
        try openEventLog()
        try startGateway()
        group.quarantined = worker?.quarantined ?? [:]
        group.crashingFiles = crashingPluginFiles
        try group.load()
        installSignalHandlers()
        startSystemdNotifications()
        if worker != nil { startHeartbeat() }
        loop.execute { [self] in
            group.start { [self] in
                server.mount(group.services.routes.liveRoutes())
                startupComplete = true
                loopLag.onSample = { [unowned self] lag in metrics.recordLoopLag(milliseconds: lag, max: loopLag.maxLagMilliseconds) }
                loopLag.start()
                health.onTransition = { [unowned self] plugin, previous, report in
                    metrics.setPluginHealth(plugin, report.status)
                    publishSystemEvent("system.plugin.health", ["plugin": plugin, "from": previous ?? "unknown", "to": report.status, "detail": report.detail])
                }
                health.start()
                for plugin in group.plugins where plugin.status.state == .failed {
                    publishSystemEvent("system.plugin.failed", ["plugin": plugin.name, "file": plugin.file.lastPathComponent, "reason": plugin.status.reason])
                }
                publishSupervisorEvents()
                startAlerts()
                if let worker, worker.holdUnlessReady, case let state = readiness, !state.ready {
                    // A reload generation that is not ready must not take connections: the master rolls back.
                    logger.error("not ready; not accepting connections", metadata: ["problems": "\(state.problems.joined(separator: "; "))"])
                    Blame.reportReady(false, problems: state.problems.joined(separator: "; "))
                    return
                }
                do {
                    startHandover()
                    let address = try worker.map { try server.listen(inheritedFD: $0.listenFD) } ?? boundAddress ?? ""
                    server.startAccepting()
                    if worker != nil {
                        server.drainLingerMilliseconds = 1_000
                        reportServingReadiness()
                    }
                    let millis = (DispatchTime.now().uptimeNanoseconds - startedAt.uptimeNanoseconds) / 1_000_000
                    let running = group.plugins.filter { $0.status.state == .running }.count
                    logger.notice("ready", metadata: ["address": "\(address)", "plugins_running": "\(running)",
                                                      "plugins_failed": "\(group.plugins.count - running)", "startup_ms": "\(millis)"])
                    onReady?(address)
                } catch {
                    logger.critical("\(error)")
                    exitCode = 1
                    shutdown()
                }
            }
        }
        loop.run()
        loop.close()
        return exitCode
    }

    /// Opens the gateway's stores (API keys, audit), makes sure the admin key exists, and puts
    /// the gateway in front of every route.
    private func startGateway() throws {
        let gateway = try Gateway.open(settings: config.gateway, dataDirectory: config.dataDirectory, logger: logger)
        try AdminKey.ensure(in: config.dataDirectory, store: gateway.keyStore, directory: gateway.keys, adminRole: config.gateway.auth.adminRole, logger: logger)
        server.gateway = gateway
        server.setSecurityHeaders(config.gateway.securityHeaders, hsts: config.gateway.hsts)
        gateway.circuitChanged = { [unowned self, unowned gateway] route, from, to, reason in
            let name = "\(route.method) \(route.pattern)"
            logger.warning("circuit \(to.rawValue)", metadata: ["plugin": "\(route.plugin.name)", "route": "\(name)", "from": "\(from.rawValue)", "reason": "\(reason)"])
            for state in CircuitState.allCases {
                metrics.gauge("plexus_circuit_state", [("plugin", route.plugin.name), ("route", name), ("state", state.rawValue)],
                              help: "1 for the current state of a route's circuit breaker").set(Int64(state == to ? 1 : 0))
            }
            metrics.counter("plexus_circuit_transitions_total", [("plugin", route.plugin.name), ("route", name), ("to", to.rawValue)],
                            help: "Circuit breaker state changes").increment()
            publishSystemEvent("system.circuit.\(to.rawValue)", ["plugin": route.plugin.name, "route": name, "from": from.rawValue, "to": to.rawValue, "reason": reason])
            gateway.record(to == .open ? .circuitOpen : to == .closed ? .circuitClose : AuditAction(rawValue: "circuit.half_open"),
                           outcome: .success, exchange: nil, target: "\(route.plugin.name) \(name)", detail: reason)
        }
        GatewayEndpoints.install(on: server, runtime: self, gateway: gateway)
        let sweep = LoopTimer(loop: loop)
        sweep.start(afterMilliseconds: 1_000, repeatingMilliseconds: 1_000) { [unowned gateway] in
            gateway.sweep(now: Date().timeIntervalSince1970)
            gateway.keys.refresh()
        }
        sweep.unref()
        gatewayTimer = sweep
    }

    /// Publishes a runtime event (topic under `system.`, JSON payload, source `plexus`).
    func publishSystemEvent(_ topic: String, _ payload: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data()
        events.publish(EventEnvelope(topic: topic, source: "plexus", contentType: "application/json", payload: data), durable: false) { _ in }
    }

    private func startAlerts() {
        let evaluator = AlertEvaluator(rules: config.alerts, loop: loop, measure: { [unowned self] in
            [
                "loop_lag_ms": Double(loopLag.lastLagMilliseconds),
                "rss_mb": Double(RuntimeMetrics.residentBytes()) / 1_048_576,
                "failed_plugins": Double(group.plugins.filter { $0.status.state == .failed }.count),
                "failing_plugins": Double(health.reports.values.filter { $0.status == "failing" }.count),
            ]
        }, report: { [unowned self] measure, severity, value, threshold in
            var payload: [String: Any] = ["measure": measure, "severity": severity, "value": value]
            if let threshold { payload["threshold"] = threshold }
            logger.log(level: severity == "critical" || severity == "error" ? .error : .warning, "alert \(measure) \(severity)",
                       metadata: ["value": "\(value)", "threshold": "\(threshold.map { "\($0)" } ?? "-")"])
            publishSystemEvent("system.alert", payload)
        })
        alerts = evaluator
        evaluator.start()
    }

    private func openEventLog() throws {
        do {
            events.durablePatterns = try config.durableTopics.map { try TopicPattern($0) }
        } catch {
            throw RuntimeError.config("bus.durable_topics: \(error)")
        }
        var configuration = EventLogConfiguration(durability: config.busFsyncEveryCommit ? .full : .normal)
        configuration.retry = RetryPolicy(maxAttempts: max(1, config.busMaxAttempts))
        configuration.retention = RetentionPolicy(maxAge: config.busRetentionSeconds > 0 ? .seconds(Int64(config.busRetentionSeconds)) : nil,
                                                  maxCount: config.busRetentionMaxEvents > 0 ? config.busRetentionMaxEvents : nil,
                                                  maxBytes: config.busRetentionMaxBytes > 0 ? config.busRetentionMaxBytes : nil)
        let path = config.dataDirectory.appendingPathComponent("events.sqlite").path
        do {
            try events.openLog(at: path, configuration: configuration)
        } catch {
            throw RuntimeError.config("durable event log \(path) cannot be opened: \(error)")
        }
        events.metrics = metrics
        events.bus.metrics = metrics
    }

    /// Begins a graceful shutdown (loop thread).
    public func shutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        stopSystemdNotifications()
        logger.notice("shutting down", metadata: ["in_flight": "\(server.inFlight)"])
        health.stop()
        loopLag.stop()
        alerts?.stop()
        server.drain { [self] in
            group.stop { [self] in
                events.close()
                server.accessLog?.close()
                for handle in signals {
                    uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
                }
                signals.removeAll()
                logger.notice("stopped")
                loop.stop()
            }
        }
    }

    private func installSignalHandlers() {
        for number in [SIGINT, SIGTERM] {
            let handle = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: 1)
            uv_signal_init(loop.uv, handle)
            handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
            uv_signal_start(handle, { handle, number in
                let runtime = Unmanaged<Runtime>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
                if runtime.shuttingDown {
                    runtime.logger.warning("second signal \(number): exiting at once")
                    _exit(1)
                }
                runtime.shutdown()
            }, number)
            uv_unref(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self))
            signals.append(handle)
        }
    }

    /// Whether the runtime is ready: start-up finished and every required plugin runs and is not failing.
    var readiness: (ready: Bool, problems: [String]) {
        guard startupComplete, !shuttingDown else { return (false, [shuttingDown ? "shutting down" : "starting"]) }
        var problems: [String] = []
        for name in config.requiredPlugins {
            guard let plugin = group.plugins.first(where: { $0.manifest?.name == name }) else {
                problems.append("required plugin '\(name)' is not installed")
                continue
            }
            if plugin.status.state != .running {
                problems.append("required plugin '\(name)' is \(plugin.status.state.rawValue): \(plugin.status.reason)")
            } else if health.reports[name]?.status == "failing" {
                problems.append("required plugin '\(name)' is failing: \(health.reports[name]?.detail ?? "")")
            }
        }
        return (problems.isEmpty, problems)
    }

    /// A snapshot of every plugin, as the admin endpoint shows it.
    public var pluginSummaries: [PluginSummary] { group.plugins.map(PluginSummary.init) }
}

/// Private copies of plugin files left by processes that no longer exist.
enum PluginCache {
    static func removeStaleCopies(in directory: URL) {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for file in files {
            guard let pid = file.split(separator: "-").first.flatMap({ pid_t($0) }) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(file))
            }
        }
    }
}
