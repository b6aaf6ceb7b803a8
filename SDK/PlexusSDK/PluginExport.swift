import CPlexusABI
#if canImport(Glibc)
import Glibc
#endif

/// Turns a Swift ``Plugin`` type into the C descriptor the runtime loads.
///
/// Every plugin exports exactly one symbol, and its whole body is one call:
///
/// ```swift
/// @_cdecl("plexus_plugin_entry_v1")
/// public func plexusPluginEntry(_ host: UnsafeRawPointer?) -> UnsafeRawPointer? {
///     PluginExport.descriptor(for: HelloPlugin.self, host: host)
/// }
/// ```
///
/// Link the plugin with `SDK/exports.map` (see "Writing a plugin") so only that symbol is exported.
public enum PluginExport {
    /// Builds (once) and returns the descriptor for `type`, bound to `host`.
    ///
    /// Returns `nil` when the host speaks another ABI major: the runtime then reports the mismatch.
    public static func descriptor<P: Plugin>(for type: P.Type, host rawHost: UnsafeRawPointer?) -> UnsafeRawPointer? {
        guard let rawHost else { return nil }
        let host = rawHost.assumingMemoryBound(to: plexus_host.self)
        guard host.pointee.abi_major == UInt32(PLEXUS_ABI_MAJOR) else { return nil }
        // Before anything that leans on the Swift runtime's layout (actors, executors, metadata):
        // a runtime built by another Swift gets a bare descriptor it refuses, naming both compilers.
        if HostBridge(host: host).has(\.swift_compiler), host.pointee.swift_compiler != 0, host.pointee.swift_compiler != swiftCompiler {
            return UnsafeRawPointer(bareDescriptor)
        }
        if let existing = exported { return UnsafeRawPointer(existing) }
        LoopExecutor.shared.bind(host: host)
        let manifest = PluginActor.runOnLoop { P.manifest }
        let holder = PluginHolder(bridge: HostBridge(host: host), name: manifest.name) { context in try P(context: context) }
        let descriptor = makeDescriptor(manifest, ctx: Unmanaged.passRetained(holder).toOpaque())
        exported = descriptor
        return UnsafeRawPointer(descriptor)
    }

    nonisolated(unsafe) private static var exported: UnsafeMutablePointer<plexus_plugin>?

    /// A descriptor with no hooks that says only which ABI and Swift compiler built the plugin.
    nonisolated(unsafe) static let bareDescriptor: UnsafeMutablePointer<plexus_plugin> = {
        let descriptor = UnsafeMutablePointer<plexus_plugin>.allocate(capacity: 1)
        descriptor.initialize(to: plexus_plugin())
        descriptor.pointee.struct_size = UInt32(MemoryLayout<plexus_plugin>.size)
        descriptor.pointee.abi_major = UInt32(PLEXUS_ABI_MAJOR)
        descriptor.pointee.abi_minor = UInt32(PLEXUS_ABI_MINOR)
        descriptor.pointee.name = UnsafePointer(strdup("swift-plugin"))
        descriptor.pointee.version = UnsafePointer(strdup("0.0.0"))
        descriptor.pointee.toolchain = UnsafePointer(strdup(swiftToolchain))
        descriptor.pointee.swift_compiler = swiftCompiler
        return descriptor
    }()

    private static func makeDescriptor(_ manifest: PluginManifest, ctx: UnsafeMutableRawPointer) -> UnsafeMutablePointer<plexus_plugin> {
        let dependencies = UnsafeMutablePointer<plexus_dependency>.allocate(capacity: max(manifest.dependencies.count, 1))
        for (index, dependency) in manifest.dependencies.enumerated() {
            dependencies[index] = plexus_dependency(
                struct_size: UInt32(MemoryLayout<plexus_dependency>.size),
                name: strdup(dependency.name), version_range: strdup(dependency.versionRange),
                required: dependency.required ? 1 : 0)
        }
        let descriptor = UnsafeMutablePointer<plexus_plugin>.allocate(capacity: 1)
        descriptor.initialize(to: plexus_plugin())
        descriptor.pointee.struct_size = UInt32(MemoryLayout<plexus_plugin>.size)
        descriptor.pointee.abi_major = UInt32(PLEXUS_ABI_MAJOR)
        descriptor.pointee.abi_minor = UInt32(PLEXUS_ABI_MINOR)
        descriptor.pointee.name = UnsafePointer(strdup(manifest.name))
        descriptor.pointee.version = UnsafePointer(strdup(manifest.version))
        descriptor.pointee.description = UnsafePointer(strdup(manifest.description))
        descriptor.pointee.sdk_version = UnsafePointer(strdup(plexusSDKVersion))
        descriptor.pointee.toolchain = UnsafePointer(strdup(swiftToolchain))
        descriptor.pointee.swift_compiler = swiftCompiler
        descriptor.pointee.dependencies = UnsafePointer(dependencies)
        descriptor.pointee.dependency_count = UInt32(manifest.dependencies.count)
        descriptor.pointee.ctx = ctx
        let topics = UnsafeMutablePointer<plexus_topic_decl>.allocate(capacity: max(manifest.publishes.count, 1))
        for (index, topic) in manifest.publishes.enumerated() {
            topics[index] = plexus_topic_decl(struct_size: UInt32(MemoryLayout<plexus_topic_decl>.size), topic: strdup(topic.topic),
                                              schema_version: UInt32(clamping: topic.schemaVersion), description: strdup(topic.description))
        }
        descriptor.pointee.publishes = UnsafePointer(topics)
        descriptor.pointee.publish_count = UInt32(manifest.publishes.count)
        if let keys = manifest.configKeys {
            // The SDK itself reads `log_level` (the plugin logger's level).
            let declared = keys.contains(PluginManifest.logLevelKey) ? keys : keys + [PluginManifest.logLevelKey]
            let list = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: declared.count)
            for (index, key) in declared.enumerated() { list[index] = UnsafePointer(strdup(key)) }
            descriptor.pointee.config_keys = UnsafePointer(list)
            descriptor.pointee.config_key_count = UInt32(declared.count)
            descriptor.pointee.config_keys_declared = 1
        }
        descriptor.pointee.on_init = { ctx, _, error in
            PluginHolder.from(ctx).initialize(error: error!)
        }
        descriptor.pointee.on_start = { ctx, _ in
            PluginHolder.from(ctx).start()
        }
        descriptor.pointee.on_stop = { ctx in
            PluginHolder.from(ctx).stop()
        }
        descriptor.pointee.on_health = { ctx, health in
            PluginHolder.from(ctx).health(into: health!)
        }
        descriptor.pointee.on_destroy = { ctx in
            PluginHolder.from(ctx).destroy()
        }
        descriptor.pointee.on_request_abandoned = { ctx, token, _ in
            PluginHolder.from(ctx).abandoned(token)
        }
        return descriptor
    }

    /// The compiler that built this copy of the SDK, as text for people.
    static var swiftToolchain: String { "Swift \(swiftCompiler / 100).\(swiftCompiler % 100)" }

    /// The compiler that built this copy of the SDK, as major * 100 + minor: the descriptor's
    /// `swift_compiler` (ABI 1.4), which the runtime compares with its own at load.
    public static var swiftCompiler: UInt32 {
        #if compiler(>=6.5)
        605
        #elseif compiler(>=6.4)
        604
        #elseif compiler(>=6.3)
        603
        #elseif compiler(>=6.2)
        602
        #elseif compiler(>=6.1)
        601
        #else
        600
        #endif
    }
}

/// The plugin's side of the C context pointer: the instance and what it was given.
final class PluginHolder: @unchecked Sendable {
    let bridge: HostBridge
    let name: String
    private let make: @PluginActor (PluginContext) throws -> any Plugin
    private var context: PluginContext?
    private var instance: (any Plugin)?
    /// The `async` handlers running now (cancelled when the runtime gives up on their request).
    private var running: RunningHandlers?

    init(bridge: HostBridge, name: String, make: @escaping @PluginActor (PluginContext) throws -> any Plugin) {
        self.bridge = bridge
        self.name = name
        self.make = make
    }

    static func from(_ ctx: UnsafeMutableRawPointer?) -> PluginHolder {
        Unmanaged<PluginHolder>.fromOpaque(ctx!).takeUnretainedValue()
    }

    func initialize(error: UnsafeMutablePointer<plexus_error>) -> Int32 {
        nonisolated(unsafe) let errorOut = error
        return PluginActor.runOnLoop {
            let drivers = HostDrivers(bridge: bridge)
            running = (drivers.routes as? HostRouteDriver)?.running
            let context = PluginContext(drivers: drivers, pluginName: name)
            PluginMetricsFactory.bootstrapIfUnset(driver: drivers.metrics)
            do {
                instance = try make(context)
                self.context = context
                return Int32(PLEXUS_OK.rawValue)
            } catch let failure {
                write("\(failure)", to: errorOut)
                return Int32(PLEXUS_ERROR.rawValue)
            }
        }
    }

    func start() -> Int32 {
        Task { @PluginActor in
            guard let instance else {
                bridge.host.pointee.start_complete(bridge.host, Int32(PLEXUS_ERROR.rawValue), "start called before a successful init")
                return
            }
            do {
                try await instance.start()
                bridge.host.pointee.start_complete(bridge.host, Int32(PLEXUS_OK.rawValue), nil)
            } catch {
                "\(error)".withCString { bridge.host.pointee.start_complete(bridge.host, Int32(PLEXUS_ERROR.rawValue), $0) }
            }
        }
        return Int32(PLEXUS_PENDING.rawValue)
    }

    func stop() {
        Task { @PluginActor in
            await instance?.stop()
            context?.timers.cancelAll()
            context?.bus.cancelAll()
            bridge.host.pointee.stop_complete(bridge.host)
        }
    }

    /// The runtime gave up on request `token` (ABI 1.6): its handler's task is cancelled; the
    /// handler's answer, sent when it ends, is dropped by the runtime and frees its bulkhead slot.
    func abandoned(_ token: UInt64) {
        PluginActor.runOnLoop { running?.cancel(token) }
    }

    func health(into health: UnsafeMutablePointer<plexus_health>) {
        let report = PluginActor.runOnLoop { instance?.health() ?? HealthReport(status: .failing, detail: "not initialised") }
        health.pointee.status = report.status.rawValue
        write(report.detail, to: &health.pointee.detail)
    }

    func destroy() {
        PluginActor.runOnLoop {
            context?.timers.cancelAll()
            instance = nil
            context = nil
        }
    }

    private func write(_ message: String, to error: UnsafeMutablePointer<plexus_error>) {
        guard let buffer = error.pointee.message, error.pointee.capacity > 0 else { return }
        let bytes = Array(message.utf8.prefix(error.pointee.capacity - 1))
        bytes.withUnsafeBufferPointer { source in
            UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress!, byteCount: bytes.count)
        }
        buffer[bytes.count] = 0
    }
}
