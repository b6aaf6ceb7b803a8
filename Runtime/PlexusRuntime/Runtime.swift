import CLibUV
import Foundation
import Logging
import PlexusEventLog
import PlexusPolicy
import PlexusStorage

/// One Plexus process: the loop, the plugins and the HTTP server, wired together at
/// construction and run until a signal asks it to stop.
///
/// The parts are services of one ``ServiceGroup`` (see ``lifecycle``), started in this order
/// and stopped in reverse: the event log, the gateway's stores (audit log, API keys), the
/// gateway, the plugins (each plugin's storage with it), the HTTP server, health checks, alerts
/// and the sweepers. Start-up binds the port before any plugin runs; shutdown (SIGINT/SIGTERM)
/// stops accepting, drains in-flight requests within the grace period, stops plugins in
/// reverse order, closes every store, exits 0. A second signal exits at once.
public final class Runtime {
    /// The runtime's version.
    public static let version = "0.1.0"
    /// How long a store may take to close at shutdown before the group goes on without it.
    static let storeCloseTimeoutMilliseconds: UInt64 = 10_000

    public let config: RuntimeConfig
    let logger: Logger
    let loop = EventLoop()
    let group: PluginGroup
    let server: HTTPServer
    let metrics = RuntimeMetrics(version: Runtime.version)
    let events: EventRouter
    let health: HealthMonitor
    let loopLag: LoopLagMonitor
    /// Cluster mode on Redis (`[cluster] redis`): nil when this instance is alone.
    let cluster: RedisCluster?
    /// A supervised worker's settings (`plexus worker`); nil for a plain `plexus serve`.
    let worker: WorkerSettings?
    /// `plexus serve --no-supervise` under systemd (`Type=notify`): what it is told, from `$NOTIFY_SOCKET`.
    let systemd: SystemdNotifier?
    private let gatewaySweep: LoopTimer
    private var startupComplete = false
    private var signals: [UnsafeMutablePointer<uv_signal_t>] = []
    private var shuttingDown = false
    private let startedAt = DispatchTime.now()
    var heartbeat: LoopTimer?
    var systemdLink: (state: SystemdServiceState, timer: LoopTimer)?
    /// A serving worker's readiness as last written to the shared record (nil before it serves).
    var reportedReadiness: Bool?
    /// The gateway, once its stores are open (the `audit log and API keys` service).
    var gateway: Gateway?
    /// The data directory's lock, held for the process's life (not by a supervised worker: its master holds it).
    private var dataLock: DataDirectoryLock?
    /// The address bound before start-up (not for a worker: it inherits the master's socket).
    private var boundAddress: String?
    /// A reload generation that was not ready at start-up: it does not take connections.
    private var holdingConnections = false

    /// Every part of the runtime, in start order.
    private lazy var lifecycle = ServiceGroup(loop: loop, logger: logger, entries: clusterServices + [
        .init(service: LoopServiceClosures("event log", startNow: { [unowned self] in try openEventLog() },
                                           stop: { [unowned self] done in events.close(completion: done) }),
              startTimeout: 0, stopTimeout: Self.storeCloseTimeoutMilliseconds),
        .init(service: LoopServiceClosures("audit log and API keys", startNow: { [unowned self] in try openGatewayStores() },
                                           stop: { [unowned self] done in closeGatewayStores(done) }),
              startTimeout: 0, stopTimeout: Self.storeCloseTimeoutMilliseconds),
    ] + clusterGatewayServices + [
        .init(service: LoopServiceClosures("gateway", startNow: { [unowned self] in attachGateway() },
                                           stopNow: { [unowned self] in gateway?.resilience.circuitChanged = nil }),
              startTimeout: 0, stopTimeout: 0),
        // Each plugin has its own start and stop time limits inside the group.
        .init(service: LoopServiceClosures("plugins", start: { [unowned self] done in startPlugins(done) },
                                           stop: { [unowned self] done in group.stop(completion: done) }),
              startTimeout: 0, stopTimeout: 0),
        .init(service: LoopServiceClosures("HTTP server", startNow: { [unowned self] in try startServing() },
                                           stop: { [unowned self] done in server.drain(completion: done) }),
              startTimeout: 0, stopTimeout: config.limits.shutdownGraceMilliseconds + 1_000),
        .init(service: LoopServiceClosures("health checks", startNow: { [unowned self] in health.start() },
                                           stopNow: { [unowned self] in health.stop() }),
              startTimeout: 0, stopTimeout: 0),
        .init(service: LoopServiceClosures("alerts", startNow: { [unowned self] in alerts.start() },
                                           stopNow: { [unowned self] in alerts.stop() }),
              startTimeout: 0, stopTimeout: 0),
        .init(service: LoopServiceClosures("sweepers", startNow: { [unowned self] in startSweepers() },
                                           stopNow: { [unowned self] in stopSweepers() }),
              startTimeout: 0, stopTimeout: 0),
    ])

    private lazy var alerts = AlertEvaluator(rules: config.alerts, loop: loop, measure: { [unowned self] in
        [
            "loop_lag_ms": Double(loopLag.lastLagMilliseconds),
            "rss_mb": Double(RuntimeMetrics.residentBytes()) / 1_048_576,
            "failed_plugins": Double(group.plugins.filter { $0.status.state == .failed }.count),
            "failing_plugins": Double(health.reports.values.filter { $0.status == "failing" }.count),
        ]
    }, report: { [unowned self] measure, severity, value, threshold in
        logger.log(level: severity == "critical" || severity == "error" ? .error : .warning, "alert \(measure) \(severity)",
                   metadata: ["value": "\(value)", "threshold": "\(threshold.map { "\($0)" } ?? "-")"])
        publish(.alert(SystemEvent.Alert(measure: measure, severity: severity, value: value, threshold: threshold)))
    })

    /// Wires the runtime together; nothing runs until ``run()``.
    public init(config: RuntimeConfig, logger: Logger, launch: RuntimeLaunch = RuntimeLaunch()) {
        self.config = config
        self.logger = logger
        worker = launch.worker
        systemd = launch.systemd
        let registry = RouteRegistry()
        events = EventRouter(loop: loop, logger: logger)
        cluster = config.clusterRedis.map { [loop] in
            RedisCluster(settings: $0, loop: loop, logger: logger, maxAttempts: config.busMaxAttempts, maxAgeSeconds: config.busRetentionSeconds)
        }
        let services = PluginServices(loop: loop, logger: logger, runtimeVersion: Self.version, routes: registry, events: events,
                                      offLoopThreadsPerPlugin: config.offLoopThreadsPerPlugin)
        group = PluginGroup(services: services, directory: config.pluginsDirectory,
                            cacheDirectory: config.dataDirectory.appendingPathComponent("plugin-cache"),
                            startTimeout: config.startTimeoutMilliseconds, stopTimeout: config.stopTimeoutMilliseconds,
                            quarantined: launch.worker?.quarantined ?? [:], crashingFiles: launch.crashingPluginFiles)
        server = HTTPServer(loop: loop, limits: config.limits, logger: logger, routes: registry, metrics: metrics)
        services.responses = server.pipeline.plugins
        services.dataDirectory = config.dataDirectory.path
        services.postgres = config.clusterPostgres
        if config.clusterPostgres != nil {
            // The change logs run while someone subscribes to their topics (issue 21).
            let demand = ChangeFeedDemand()
            demand.lookup = { [unowned group] name in group.plugins.first { $0.name == name && !$0.isRetired }?.storage }
            services.changeFeeds = demand
            events.changeFeeds = demand
        }
        services.metrics = metrics
        services.tenantDirectory = TenantDirectory(publishers: Set(config.gateway.tenantDirectoryPlugins))
        health = HealthMonitor(loop: loop, group: group, logger: logger, intervalMilliseconds: config.healthIntervalMilliseconds,
                               timeoutMilliseconds: config.healthTimeoutMilliseconds)
        loopLag = LoopLagMonitor(loop: loop)
        gatewaySweep = LoopTimer(loop: loop)
        AdminEndpoints.install(on: registry, group: group)
        events.declaredTopics = { [unowned group] in
            group.plugins.compactMap(\.manifest).map { (name: $0.name, topics: $0.publishes.map(\.topic)) }
        }
        ObservabilityEndpoints.install(on: registry, detailsPublic: config.observabilityPublic, readiness: { [unowned self] in readiness },
                                       group: group, health: health, loopLag: loopLag, metrics: metrics, events: events)
        EventEndpoints.install(on: server, events: events, group: group, logger: logger,
                               sseHeartbeatMilliseconds: config.sseHeartbeatMilliseconds, wsPingMilliseconds: config.wsPingMilliseconds)
        health.onTransition = { [unowned self] plugin, previous, report in
            metrics.setPluginHealth(plugin, report.status)
            publish(.pluginHealth(SystemEvent.PluginHealth(plugin: plugin, from: previous ?? "unknown", to: report.status, detail: report.detail)))
        }
        loopLag.onSample = { [unowned self] lag in metrics.recordLoopLag(milliseconds: lag, max: loopLag.maxLagMilliseconds) }
    }

    /// Runs until shutdown; returns the process exit code (0 after a graceful shutdown). Throws
    /// what kept a service from starting, once the services already started have stopped.
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
        if worker == nil {
            dataLock = try DataDirectoryLock(directory: config.dataDirectory)
            server.acceptsConnections = false
            boundAddress = try server.listen(host: config.host, port: config.port)
        }
        PluginCache.removeStaleCopies(in: config.dataDirectory.appendingPathComponent("plugin-cache"))
        installSignalHandlers()
        var startFailure: ServiceGroup.StartFailure?
        loop.execute { [self] in
            lifecycle.start { [self] failure in
                if let failure {
                    logger.critical("start-up failed", metadata: ["service": "\(failure.service)", "error": "\(failure.reason)"])
                    startFailure = failure
                    finishShutdown()
                    return
                }
                guard !holdingConnections else { return }
                let millis = (DispatchTime.now().uptimeNanoseconds - startedAt.uptimeNanoseconds) / 1_000_000
                let running = group.plugins.filter { $0.status.state == .running }.count
                logger.notice("ready", metadata: ["address": "\(boundAddress ?? "")", "plugins_running": "\(running)",
                                                  "plugins_failed": "\(group.plugins.count - running)", "startup_ms": "\(millis)"])
            }
        }
        loop.run()
        loop.close()
        if let startFailure { throw startFailure.error ?? startFailure }
        return 0
    }

    /// The `event log` service's start: the durable event log, opened before anything can publish.
    private func openEventLog() throws {
        do {
            events.durablePatterns = try config.durableTopics.map { try TopicPattern($0) }
            events.changeFeeds?.durablePatterns = events.durablePatterns
        } catch {
            throw RuntimeError.config("bus.durable_topics: \(error)")
        }
        var configuration = EventLogConfiguration(durability: config.busFsyncEveryCommit ? .full : .normal)
        configuration.retry = RetryPolicy(maxAttempts: max(1, config.busMaxAttempts))
        configuration.retention = RetentionPolicy(maxAge: config.busRetentionSeconds > 0 ? .seconds(Int64(config.busRetentionSeconds)) : nil,
                                                  maxCount: config.busRetentionMaxEvents > 0 ? config.busRetentionMaxEvents : nil,
                                                  maxBytes: config.busRetentionMaxBytes > 0 ? config.busRetentionMaxBytes : nil)
        if let cluster {
            events.useStore(cluster.store)
            events.replication = cluster
            events.metrics = metrics
            events.bus.metrics = metrics
            return
        }
        let path = config.dataDirectory.appendingPathComponent("events.sqlite").path
        do {
            try events.openLog(at: path, configuration: configuration)
        } catch {
            throw RuntimeError.config("durable event log \(path) cannot be opened: \(error)")
        }
        events.metrics = metrics
        events.bus.metrics = metrics
    }

    /// Where the API keys and the audit log live when not in this instance's SQLite files: with
    /// `[cluster] postgres` and without Redis, on PostgreSQL, shared by every instance. (With Redis
    /// the instances keep their own key tables in step through it, share one admin key
    /// (``ClusterKeyShare``), and mirror their audit records to it.)
    private var sharedKeyDatabase: PostgresSettings? { cluster == nil ? config.clusterPostgres : nil }

    /// The `audit log and API keys` service's start: opens the gateway's stores (blocking, before
    /// anything is served) and makes sure the admin key exists.
    private func openGatewayStores() throws {
        let gateway = try Gateway.open(settings: config.gateway, dataDirectory: config.dataDirectory, logger: logger,
                                       tenantDirectory: group.services.tenantDirectory, postgres: sharedKeyDatabase)
        self.gateway = gateway
        group.services.keys = (gateway.keyStore, gateway.keys)
        group.services.audit = gateway.trail
        // In cluster mode the admin key is the installation's, from Redis (`clusterGatewayServices`).
        if cluster == nil {
            try AdminKey.ensure(in: config.dataDirectory, store: gateway.keyStore, directory: gateway.keys, adminRole: config.gateway.auth.adminRole,
                                keyName: sharedKeyDatabase == nil ? AdminKey.keyName : AdminKey.keyName(sharedBy: config.dataDirectory), logger: logger)
        }
    }

    /// The `audit log and API keys` service's stop: writes the pending audit records and closes both files.
    private func closeGatewayStores(_ done: @escaping () -> Void) {
        guard let gateway else { return done() }
        let audit = gateway.audit, keyStore = gateway.keyStore
        loop.async({
            await audit.close()
            await keyStore.close()
        }, then: { (_: Result<Void, Error>) in done() })
    }

    /// The `gateway` service's start: puts the gateway in front of every route.
    private func attachGateway() {
        guard let gateway else { return }
        server.pipeline.attach(gateway)
        server.pipeline.writer.setSecurityHeaders(config.gateway.securityHeaders, hsts: config.gateway.hsts)
        gateway.resilience.circuitChanged = { [unowned self, unowned gateway] route, from, to, reason in
            let name = "\(route.method) \(route.pattern)"
            logger.warning("circuit \(to.rawValue)", metadata: ["plugin": "\(route.plugin.name)", "route": "\(name)", "from": "\(from.rawValue)", "reason": "\(reason)"])
            for state in CircuitState.allCases {
                metrics.gauge("plexus_circuit_state", [("plugin", route.plugin.name), ("route", name), ("state", state.rawValue)],
                              help: "1 for the current state of a route's circuit breaker").set(Int64(state == to ? 1 : 0))
            }
            metrics.counter("plexus_circuit_transitions_total", [("plugin", route.plugin.name), ("route", name), ("to", to.rawValue)],
                            help: "Circuit breaker state changes").increment()
            publish(.circuit(to, SystemEvent.Circuit(plugin: route.plugin.name, route: name, from: from.rawValue, to: to.rawValue, reason: reason)))
            gateway.record(to == .open ? .circuitOpen : to == .closed ? .circuitClose : AuditAction(rawValue: "circuit.half_open"),
                           outcome: .success, exchange: nil, target: "\(route.plugin.name) \(name)", detail: reason)
        }
        GatewayEndpoints.install(on: server.pipeline.registry, loop: loop, gateway: gateway, supervised: worker != nil)
        QuarantineEndpoints.install(on: server.pipeline.registry, dataDirectory: config.dataDirectory, gateway: gateway, shared: cluster?.quarantine)
    }

    /// The `plugins` service's start: loads every plugin file, then starts them in dependency order.
    private func startPlugins(_ done: @escaping (Error?) -> Void) {
        do { try group.load() } catch { return done(error) }
        startSystemdNotifications()
        if worker != nil { startHeartbeat() }
        group.start { [self] in
            for plugin in group.plugins where plugin.status.state == .failed {
                publish(.pluginFailed(SystemEvent.PluginFile(plugin: plugin.name, file: plugin.file.lastPathComponent, reason: plugin.status.reason)))
            }
            publishSupervisorEvents()
            done(nil)
        }
    }

    /// The `HTTP server` service's start: mounts the plugins' routes and accepts connections
    /// (a reload generation that is not ready does not: the master rolls it back).
    private func startServing() throws {
        server.pipeline.mount()
        startupComplete = true
        if let worker, worker.holdUnlessReady, case let state = readiness, !state.ready {
            logger.error("not ready; not accepting connections", metadata: ["problems": "\(state.problems.joined(separator: "; "))"])
            Blame.reportReady(false, problems: state.problems.joined(separator: "; "))
            holdingConnections = true
            return
        }
        startHandover()
        if let worker { boundAddress = try server.listen(inheritedFD: worker.listenFD) }
        server.startAccepting()
        if worker != nil {
            server.drainLingerMilliseconds = 1_000
            reportServingReadiness()
        }
    }

    /// The `sweepers` service's start: the loop-lag sampler and the gateway's once-a-second sweep.
    private func startSweepers() {
        loopLag.start()
        guard let gateway else { return }
        gatewaySweep.start(afterMilliseconds: 1_000, repeatingMilliseconds: 1_000) { [unowned gateway] in
            gateway.sweep(now: Date().timeIntervalSince1970)
            gateway.keys.refresh()
        }
        gatewaySweep.unref()
    }

    private func stopSweepers() {
        loopLag.stop()
        gatewaySweep.stop()
    }

    /// Publishes a runtime event (source `plexus`, JSON payload, not durable).
    func publish(_ event: SystemEvent) {
        events.publish(EventEnvelope(topic: event.topic, source: "plexus", contentType: "application/json", payload: event.payload),
                       durable: false) { _ in }
    }

    /// Begins a graceful shutdown (loop thread): every service stops, in reverse start order.
    public func shutdown() {
        guard !shuttingDown else { return }
        shuttingDown = true
        stopSystemdNotifications()
        logger.notice("shutting down", metadata: ["in_flight": "\(server.inFlight)"])
        lifecycle.stop { [self] in
            logger.notice("stopped")
            finishShutdown()
        }
    }

    /// Closes the signal handlers and stops the loop once every service has stopped.
    private func finishShutdown() {
        // Every request has been answered: the access log's last records are written now.
        server.pipeline.accessLog.accessLog?.close()
        for handle in signals {
            uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { $0?.deallocate() }
        }
        signals.removeAll()
        loop.stop()
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
