import CPlexusABI
import Foundation
import Logging

/// The plugins of one runtime: discovered from a directory, checked, started one by one in
/// dependency order, and stopped in reverse. Loop thread only.
public final class PluginGroup {
    /// Every plugin file found, in directory order, including the failed ones.
    public private(set) var plugins: [PluginInstance] = []
    private var startOrder: [PluginInstance] = []
    let services: PluginServices
    let directory: URL
    let cacheDirectory: URL
    let startTimeout: UInt64
    let stopTimeout: UInt64
    /// Plugins the supervisor quarantined (name → reason): not initialised or started. In cluster
    /// mode, those quarantined on other instances too (added before the plugins load).
    var quarantined: [String: String]
    /// Plugin files found to crash the process that loads them (file name → diagnosis): not loaded.
    let crashingFiles: [String: String]

    init(services: PluginServices, directory: URL, cacheDirectory: URL, startTimeout: UInt64, stopTimeout: UInt64,
         quarantined: [String: String] = [:], crashingFiles: [String: String] = [:]) {
        self.services = services
        self.directory = directory
        self.cacheDirectory = cacheDirectory
        self.startTimeout = startTimeout
        self.stopTimeout = stopTimeout
        self.quarantined = quarantined
        self.crashingFiles = crashingFiles
    }

    /// Loads every `*.so` (and `*.native.toml`, see ``NativePlugin``) in the directory, checks descriptors, names and dependencies.
    func load() throws {
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "so" || NativePlugin.isManifest($0) }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw RuntimeError.plugins("plugins directory \(directory.path) cannot be read: \(error.localizedDescription)")
        }
        var seen: [String: PluginInstance] = [:]
        for file in files {
            let plugin = PluginInstance(file: file, services: services)
            plugins.append(plugin)
            if let diagnosis = crashingFiles[file.lastPathComponent] {
                plugin.fail(PluginLoadError(.crashesLoader, "\(file.lastPathComponent): not loaded: \(diagnosis)"))
                continue
            }
            if let reason = quarantined[file.lastPathComponent] {
                // Blamed while it was being loaded (by its file name, no descriptor was read): not even dlopen'd.
                plugin.fail(PluginLoadError(.quarantined, "quarantined: \(reason); fix: replace the file, then `plexus plugin release \(file.lastPathComponent)`"))
                continue
            }
            do {
                // Marked while loading: the dynamic loader and the entry point can crash the process.
                plugin.image = try Blame.around(plugin, "loading the file (dlopen and the entry point)") {
                    NativePlugin.isManifest(file) ? try NativePlugin.load(file, host: plugin.host)
                        : try PluginImage.load(file, privateCopyIn: cacheDirectory, host: plugin.host)
                }
                plugin.manifest = plugin.image!.manifest
                if let first = seen[plugin.name] {
                    plugin.manifest = nil
                    plugin.fail(PluginLoadError(.duplicateName, "\(file.lastPathComponent): duplicate plugin name '\(first.name)', already loaded from \(first.file.lastPathComponent); fix: remove one of the two files"))
                    continue
                }
                seen[plugin.name] = plugin
                plugin.logger[metadataKey: "plugin"] = "\(plugin.name)"
                if let reason = quarantined[plugin.name] {
                    plugin.fail(PluginLoadError(.quarantined, "quarantined: \(reason); fix: repair the plugin, then `plexus plugin release \(plugin.name)`"))
                    continue
                }
                plugin.move(to: .loaded, "descriptor checked: \(plugin.manifest!.name) \(plugin.manifest!.version), ABI \(plugin.manifest!.abiMajor).\(plugin.manifest!.abiMinor), \(plugin.manifest!.toolchain)")
            } catch let error as PluginLoadError {
                plugin.fail(error)
            }
        }
        startOrder = DependencyResolver.resolve(plugins)
    }

    /// Initialises and starts every plugin as soon as its dependencies have settled (running or
    /// failed), so a slow plugin delays only its dependents; calls `completion` when all have settled.
    func start(completion: @escaping () -> Void) {
        startCompletion = completion
        unsettled = startOrder.count
        launchReady()
        if unsettled == 0 { finishStart() }
    }

    private var launched = Set<ObjectIdentifier>()
    private var unsettled = 0
    private var startCompletion: (() -> Void)?

    private func launchReady() {
        for plugin in startOrder where !launched.contains(ObjectIdentifier(plugin)) {
            let dependencies = plugin.manifest!.dependencies.compactMap { dependency in startOrder.first { $0.name == dependency.name } }
            guard dependencies.allSatisfy({ $0.status.state == .running || $0.status.state == .failed }) else { continue }
            launched.insert(ObjectIdentifier(plugin))
            start(plugin) { [unowned self] in
                unsettled -= 1
                launchReady()
                if unsettled == 0 { finishStart() }
            }
        }
    }

    private func finishStart() {
        let completion = startCompletion
        startCompletion = nil
        completion?()
    }

    private func start(_ plugin: PluginInstance, then: @escaping () -> Void) {
        for dependency in plugin.manifest!.dependencies where dependency.required {
            if let other = plugins.first(where: { $0.manifest?.name == dependency.name }), other.status.state != .running {
                plugin.fail(PluginLoadError(.dependencyFailed, "plugin '\(plugin.name)' needs '\(dependency.name)', which is \(other.status.state.rawValue): \(other.status.reason)"))
                return then()
            }
        }
        do {
            let values = try configuration(for: plugin)
            if let keys = plugin.manifest?.configKeys {
                try PluginConfigKeys(keys).check(values, plugin: plugin.name, file: directory.appendingPathComponent("\(plugin.name).toml").path)
            }
            plugin.config = PluginConfigValues(values)
        } catch let error as PluginLoadError {
            plugin.fail(error)
            return then()
        } catch {
            plugin.fail(PluginLoadError(.initFailed, "plugin '\(plugin.name)': \(error)"))
            return then()
        }
        let descriptor = plugin.descriptor!.pointee
        var message = [CChar](repeating: 0, count: 1024)
        let status = message.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var error = plexus_error(message: buffer.baseAddress, capacity: buffer.count)
            return Blame.around(plugin, "on_init") { descriptor.on_init?(descriptor.ctx, plugin.host, &error) ?? Int32(PLEXUS_OK.rawValue) }
        }
        if let collision = plugin.routeErrors.first {
            abandon(plugin, PluginLoadError(plugin.routeErrors.contains { $0.contains("collides") } ? .routeCollision : .invalidRoute,
                                            "plugin '\(plugin.name)': route refused: \(collision)"), destroy: true)
            return then()
        }
        guard status == Int32(PLEXUS_OK.rawValue) else {
            abandon(plugin, PluginLoadError(.initFailed, "plugin '\(plugin.name)' failed in on_init: \(Self.text(message, or: "no message"))"), destroy: true)
            return then()
        }
        plugin.move(to: .initialized, "on_init succeeded")
        plugin.move(to: .starting, "on_start called")
        let timeout = LoopTimer(loop: services.loop)
        plugin.onStartComplete = { [unowned self, unowned plugin] result in
            timeout.close()
            switch result {
            case .success:
                if let problem = plugin.routeErrors.first {
                    abandon(plugin, PluginLoadError(problem.contains("collides") ? .routeCollision : .invalidRoute, "plugin '\(plugin.name)': route refused: \(problem)"), destroy: false)
                } else {
                    plugin.move(to: .running, "started")
                    checkStorage(of: plugin)
                    plugin.logger.info("plugin running", metadata: ["version": "\(plugin.manifest!.version)", "routes": "\(plugin.routes.count)"])
                }
            case .failure(let error):
                abandon(plugin, error, destroy: true)
            }
            then()
        }
        timeout.start(afterMilliseconds: startTimeout) { [unowned self, unowned plugin] in
            guard plugin.onStartComplete != nil else { return }
            plugin.onStartComplete = nil
            timeout.close()
            abandon(plugin, PluginLoadError(.startTimeout, "plugin '\(plugin.name)' did not finish starting within \(startTimeout) ms; fix: make on_start return promptly or raise plugins.start_timeout_ms"), destroy: false)
            then()
        }
        message = [CChar](repeating: 0, count: 1024)
        let started = message.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var error = plexus_error(message: buffer.baseAddress, capacity: buffer.count)
            return Blame.around(plugin, "on_start") { descriptor.on_start?(descriptor.ctx, &error) ?? Int32(PLEXUS_OK.rawValue) }
        }
        if started != Int32(PLEXUS_PENDING.rawValue), let complete = plugin.onStartComplete {
            plugin.onStartComplete = nil
            complete(started == Int32(PLEXUS_OK.rawValue) ? .success(())
                     : .failure(PluginLoadError(.startFailed, "plugin '\(plugin.name)' failed to start: \(Self.text(message, or: "on_start returned an error"))")))
        }
    }

    /// Marks `plugin` failed, drops its routes and timers, and (unless it may still be running code) destroys it.
    private func abandon(_ plugin: PluginInstance, _ error: PluginLoadError, destroy: Bool) {
        plugin.fail(error)
        services.routes.remove(plugin)
        release(plugin)
        if destroy, let descriptor = plugin.descriptor?.pointee { Blame.around(plugin, "on_destroy") { descriptor.on_destroy?(descriptor.ctx) } }
    }

    /// Stops running plugins in reverse start order, then destroys them, then closes every
    /// plugin's storage (its child: the database file is closed cleanly); calls `completion` at the end.
    func stop(completion: @escaping () -> Void) {
        let running = startOrder.filter { $0.status.state == .running }.reversed()
        stopNext(Array(running)[...]) { [unowned self] in closeStorage(of: plugins[...], completion: completion) }
    }

    /// Stops one running plugin because it is quarantined now (cluster mode: by another
    /// instance) and marks it failed with `reason`; its routes answer 503 from then on.
    func stopQuarantined(_ name: String, reason: String) {
        guard let plugin = plugins.first(where: { $0.status.state == .running && $0.name == name }) else { return }
        stopNext([plugin][...]) { [unowned plugin] in
            plugin.fail(PluginLoadError(.quarantined, "quarantined: \(reason); fix: repair the plugin, then `plexus plugin release \(name)`"))
        }
    }

    /// Closes the storage of each plugin that used it, one after the other.
    private func closeStorage(of rest: ArraySlice<PluginInstance>, completion: @escaping () -> Void) {
        guard let plugin = rest.first else { return completion() }
        guard let storage = plugin.createdStorage else { return closeStorage(of: rest.dropFirst(), completion: completion) }
        storage.close { [unowned self] in closeStorage(of: rest.dropFirst(), completion: completion) }
    }

    private func stopNext(_ rest: ArraySlice<PluginInstance>, completion: @escaping () -> Void) {
        guard let plugin = rest.first else {
            completion()
            return
        }
        let next = rest.dropFirst()
        let descriptor = plugin.descriptor!.pointee
        plugin.move(to: .stopping, "runtime is shutting down")
        services.responses?.stopping(plugin)
        let timeout = LoopTimer(loop: services.loop)
        plugin.onStopComplete = { [unowned self, unowned plugin] in
            timeout.close()
            release(plugin)
            plugin.move(to: .stopped, "stopped")
            Blame.around(plugin, "on_destroy") { descriptor.on_destroy?(descriptor.ctx) }
            stopNext(next, completion: completion)
        }
        timeout.start(afterMilliseconds: stopTimeout) { [unowned self, unowned plugin] in
            guard plugin.onStopComplete != nil else { return }
            plugin.onStopComplete = nil
            timeout.close()
            release(plugin)
            plugin.fail(PluginLoadError(.startTimeout, "plugin '\(plugin.name)' did not stop within \(stopTimeout) ms"))
            stopNext(next, completion: completion)
        }
        if let onStop = descriptor.on_stop {
            Blame.around(plugin, "on_stop") { onStop(descriptor.ctx) }
        } else {
            let complete = plugin.onStopComplete
            plugin.onStopComplete = nil
            complete?()
        }
    }

    /// Opens an existing plugin database now, so its integrity check runs at start and a corrupt
    /// file is reported in the log before the plugin first needs it.
    private func checkStorage(of plugin: PluginInstance) {
        let file = URL(fileURLWithPath: services.dataDirectory).appendingPathComponent("plugins/\(plugin.name)/storage.sqlite")
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        plugin.storage.withEngine { _ in }
    }

    /// Drops everything the runtime holds for `plugin`: timers, subscriptions, services.
    private func release(_ plugin: PluginInstance) {
        services.responses?.stopped(plugin)
        plugin.cancelTimers()
        services.events.unsubscribeAll(owner: plugin.name)
        services.serviceRegistry.removeAll(of: plugin)
    }

    /// `plugins.d/<name>.toml`, flattened; empty when there is no such file.
    private func configuration(for plugin: PluginInstance) throws -> [String: String] {
        let file = directory.appendingPathComponent("\(plugin.name).toml")
        guard FileManager.default.fileExists(atPath: file.path) else { return [:] }
        return try TOMLFile.flatten(contentsOf: file)
    }

    private static func text(_ buffer: [CChar], or fallback: String) -> String {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? fallback : String(decoding: bytes, as: UTF8.self)
    }
}
