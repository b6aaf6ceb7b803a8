import CPlexusABI
import Foundation
import Logging
import PlexusEventLog
import PlexusAuth
import PlexusPolicy
import PlexusStorage

/// The runtime's record of one plugin: its file, state, descriptor, config, routes and timers,
/// and the host vtable it was handed. Loop thread only.
public final class PluginInstance {
    /// The `.so` file as found in the plugins directory.
    public let file: URL
    public internal(set) var status = PluginStatus()
    public internal(set) var manifest: PluginManifestInfo? {
        didSet { name = manifest?.name ?? file.lastPathComponent }
    }
    /// The most recent failure, when the state is `failed`.
    public internal(set) var failure: PluginLoadError?
    /// Routes the plugin registered, in order.
    public internal(set) var routes: [RegisteredRoute] = []

    var image: PluginImage?
    var config = PluginConfigValues()
    var timers: [UInt64: LoopTimer] = [:]
    var nextTimerID: UInt64 = 1
    var routeErrors: [String] = []
    var logger: Logger
    let services: PluginServices
    /// Called once when a pending start completes (or times out).
    var onStartComplete: ((Result<Void, PluginLoadError>) -> Void)?
    var onStopComplete: (() -> Void)?

    /// The plugin's own database, opened on first use.
    var storage: PluginStorage {
        if let storage = createdStorage { return storage }
        let storage = PluginStorage(pluginName: name, dataDirectory: services.dataDirectory, postgres: services.postgres,
                                    loop: services.loop, logger: logger)
        storage.metrics = services.metrics
        storage.onChanges = { [unowned self] changes in services.publishChanges(of: name, changes) }
        createdStorage = storage
        services.changeFeeds?.register(storage)
        return storage
    }
    /// The plugin's storage if anything has used it (the group closes it at shutdown).
    private(set) var createdStorage: PluginStorage?

    /// The vtable handed to the plugin; allocated once and never freed (the plugin may keep it).
    let host: UnsafeMutablePointer<plexus_host>

    init(file: URL, services: PluginServices) {
        self.file = file
        name = file.lastPathComponent
        self.services = services
        self.logger = services.logger
        logger[metadataKey: "plugin"] = "\(file.lastPathComponent)"
        host = .allocate(capacity: 1)
        host.initialize(to: PluginHostTable.make(runtimeVersion: services.runtimeVersion, loop: services.loop))
        host.pointee.storage_dialect = PluginHostTable.storageDialect(postgres: services.postgres != nil)
        host.pointee.host_private = Unmanaged.passUnretained(self).toOpaque()
    }

    /// The file's name, computed once (the blame record and logs use it).
    lazy var fileName = file.lastPathComponent

    /// The plugin's name, or its file name before the descriptor was read (kept, not rebuilt on
    /// every read: the request path reads it).
    public private(set) var name: String

    var descriptor: UnsafePointer<plexus_plugin>? { image?.descriptor }

    /// The plugin's `on_request_abandoned` hook (ABI 1.6), nil when its descriptor is older or
    /// leaves it NULL: then abandoned requests are not told and their bulkhead slots are freed at once.
    var abandonHook: (hook: @convention(c) (UnsafeMutableRawPointer?, UInt64, Int32) -> Void, ctx: UnsafeMutableRawPointer?)? {
        guard let descriptor, Int(descriptor.pointee.struct_size) >= Self.abandonHookEnd,
              let hook = descriptor.pointee.on_request_abandoned else { return nil }
        return (hook, descriptor.pointee.ctx)
    }

    private static let abandonHookEnd = MemoryLayout<plexus_plugin>.offset(of: \.on_request_abandoned)! + MemoryLayout<UnsafeRawPointer>.size

    func move(to state: PluginState, _ reason: String) {
        status.move(to: state, reason)
        logger.debug("plugin state", metadata: ["state": "\(state.rawValue)", "reason": "\(reason)"])
    }

    /// Failed or stopped: a plugin whose code may still run (a start that timed out) gets no new
    /// routes, timers, subscriptions or services.
    var isRetired: Bool { status.state == .failed || status.state == .stopped }

    func fail(_ error: PluginLoadError) {
        failure = error
        status.move(to: .failed, error.message)
        logger.error("plugin failed: \(error.message)")
    }

    /// Stops and frees every timer of this plugin.
    func cancelTimers() {
        for timer in timers.values { timer.close() }
        timers.removeAll()
    }

    static func from(_ host: UnsafePointer<plexus_host>?) -> PluginInstance {
        Unmanaged<PluginInstance>.fromOpaque(host!.pointee.host_private).takeUnretainedValue()
    }
}

/// A route as registered by a plugin. Immutable: what the stages keep per route (breaker,
/// metric handles) lives in their own tables, keyed by ``id``.
public final class RegisteredRoute {
    /// The route's id in the ``RouteRegistry`` (dense, never reused).
    let id: Int
    public let method: String
    public let pattern: RoutePattern
    public let maxBodyBytes: UInt64
    let handler: plexus_route_handler
    let context: UnsafeMutableRawPointer?
    unowned(unsafe) let plugin: PluginInstance
    /// How the supervisor's blame record names this route, built once.
    let blameLabel: String
    /// Who may call, as declared at registration.
    let policy: RoutePolicy

    init(id: Int, method: String, pattern: RoutePattern, maxBodyBytes: UInt64, handler: @escaping plexus_route_handler,
         context: UnsafeMutableRawPointer?, plugin: PluginInstance, policy: RoutePolicy = RoutePolicy()) {
        self.id = id
        self.policy = policy
        self.method = method
        self.pattern = pattern
        self.maxBodyBytes = maxBodyBytes
        self.handler = handler
        self.context = context
        self.plugin = plugin
        blameLabel = "route \(method) \(pattern)"
    }
}

/// What the host vtable needs from the rest of the runtime.
final class PluginServices {
    let loop: EventLoop
    let logger: Logger
    let runtimeVersion: String
    let routes: RouteRegistry
    /// The event bus, live and durable.
    let events: EventRouter
    let serviceRegistry: ServiceRegistry
    /// Every plugin's off-loop work (`queue_work`), bounded per plugin on the shared pool.
    let offLoop: OffLoopScheduler
    /// Answers requests; set by the HTTP server.
    var responses: ResponseSink?
    /// Where plugin databases live (`<data>/plugins/<name>/storage.sqlite`).
    var dataDirectory = "data"
    /// `[cluster] postgres`: plugin storage on PostgreSQL instead (nil: SQLite files).
    var postgres: PostgresSettings?
    /// With PostgreSQL: which plugins' change logs this instance needs (the router tells it every subscription).
    var changeFeeds: ChangeFeedDemand?
    var metrics: RuntimeMetrics?
    /// The run-time tenant directory (ABI 1.6), shared with the gateway's tenant stage.
    var tenantDirectory = TenantDirectory()
    /// The gateway's key store and directory, for `tenant_key_create` (set once the gateway opens).
    var keys: (store: APIKeyStore, directory: APIKeyDirectory)?
    /// The runtime's audit log, for `audit_record` (set once the gateway opens; nil without it).
    var audit: AuditTrail?
    /// Each plugin's audit records in the current second: a plugin recording in a loop is refused
    /// beyond ``PluginHostTable/maxAuditRecordsPerSecond`` instead of growing the log's buffer.
    var auditWindows: [String: (second: Int, count: Int)] = [:]

    /// Publishes committed storage changes as `storage.<plugin>.<table>.<operation>` (payload: table, operation, rowid).
    func publishChanges(of plugin: String, _ changes: [StorageChange]) {
        for change in changes {
            let payload = "{\"operation\":\"\(change.operation)\",\"rowid\":\(change.rowID),\"table\":\"\(change.table)\"}"
            let topic = "storage.\(plugin).\(change.table).\(change.operation)"
            guard (try? Topic.validate(topic)) != nil else { continue }
            events.publish(EventEnvelope(topic: topic, source: plugin, contentType: "application/json", payload: Data(payload.utf8)),
                           durable: false) { _ in }
        }
    }

    init(loop: EventLoop, logger: Logger, runtimeVersion: String, routes: RouteRegistry, events: EventRouter,
         offLoopThreadsPerPlugin: Int? = nil) {
        self.loop = loop
        offLoop = OffLoopScheduler(loop: loop, threadsPerOwner: offLoopThreadsPerPlugin)
        self.logger = logger
        self.runtimeVersion = runtimeVersion
        self.routes = routes
        self.events = events
        self.serviceRegistry = ServiceRegistry(loop: loop)
    }
}

/// Receives a plugin's answer to a request.
protocol ResponseSink: AnyObject {
    func respond(token: UInt64, from plugin: PluginInstance, _ response: UnsafePointer<plexus_response>)
    /// `plugin` is about to stop: requests still waiting for it are answered and the plugin told.
    func stopping(_ plugin: PluginInstance)
    /// `plugin` stopped or failed: whatever its requests still held is given back.
    func stopped(_ plugin: PluginInstance)
    /// Whether `plugin` holds a request of `tenant` now (a tenant-scoped audit record must come from one).
    func isServing(_ plugin: PluginInstance, tenant: String) -> Bool
}
