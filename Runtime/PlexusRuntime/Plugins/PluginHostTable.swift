import CPlexusABI
import Foundation
import Logging

/// The host vtable handed to plugins: each entry finds its ``PluginInstance`` through
/// `host_private` and forwards to the runtime service behind it.
///
/// Every entry keeps the contract written at the top of `plexus_abi.h`: it copies its inputs
/// before it returns, never runs a callback before it has returned (see ``CallbackGate``), and
/// sets the thread's ``HostCallStatus`` (ABI 1.4) before it returns.
enum PluginHostTable {
    static func make(runtimeVersion: String, loop: EventLoop) -> plexus_host {
        var host = plexus_host()
        host.struct_size = UInt32(MemoryLayout<plexus_host>.size)
        host.abi_major = UInt32(PLEXUS_ABI_MAJOR)
        host.abi_minor = UInt32(PLEXUS_ABI_MINOR)
        host.runtime_version = UnsafePointer(strdup(runtimeVersion))
        host.uv_loop = UnsafeMutableRawPointer(loop.uv)
        host.log = { host, level, message in
            defer { HostCallStatus.set(PLEXUS_OK) }
            let plugin = PluginInstance.from(host)
            let text = message.map { String(cString: $0) } ?? ""
            plugin.logger.log(level: PluginHostTable.logLevel(level), "\(text)", metadata: ["plugin": "\(plugin.name)"])
        }
        host.config_get = { host, key in
            guard let key else {
                HostCallStatus.set(PLEXUS_E_INVALID_ARGUMENT)
                return nil
            }
            let value = PluginInstance.from(host).config.cString(String(cString: key))
            HostCallStatus.set(value == nil ? PLEXUS_E_NOT_FOUND : PLEXUS_OK)
            return value
        }
        host.route_add = { host, spec, error in
            let plugin = PluginInstance.from(host)
            let problem: HostCallFailure?
            if let spec, Int(spec.pointee.struct_size) >= MemoryLayout<plexus_route_spec>.offset(of: \.route_ctx)! + 8 {
                var copy = plexus_route_spec()
                withUnsafeMutableBytes(of: &copy) { target in
                    target.copyMemory(from: UnsafeRawBufferPointer(start: spec, count: min(Int(spec.pointee.struct_size), target.count)))
                }
                problem = plugin.status.state == .running
                    ? HostCallFailure(PLEXUS_E_WRONG_STATE, "routes can only be added during on_init and on_start")
                    : plugin.isRetired ? HostCallFailure(PLEXUS_E_WRONG_STATE, "plugin '\(plugin.name)' has failed or stopped")
                    : plugin.services.routes.add(copy, for: plugin)
            } else {
                problem = HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "route spec is missing or too small")
            }
            guard let problem else {
                HostCallStatus.set(PLEXUS_OK)
                return Int32(PLEXUS_OK.rawValue)
            }
            plugin.routeErrors.append(problem.description)
            return PluginHostTable.fail(problem, to: error)
        }
        host.respond = { host, token, response in
            let plugin = PluginInstance.from(host)
            guard let response else { return HostCallStatus.set(PLEXUS_E_INVALID_ARGUMENT) }
            HostCallStatus.set(PLEXUS_OK)
            plugin.services.responses?.respond(token: token, from: plugin, response)
        }
        host.timer_start = { host, timeout, repeating, callback, user in
            let plugin = PluginInstance.from(host)
            guard let callback else {
                HostCallStatus.set(PLEXUS_E_INVALID_ARGUMENT)
                return 0
            }
            guard !plugin.isRetired else {
                HostCallStatus.set(PLEXUS_E_WRONG_STATE)
                return 0
            }
            HostCallStatus.set(PLEXUS_OK)
            let id = plugin.nextTimerID
            plugin.nextTimerID += 1
            let timer = LoopTimer(loop: plugin.services.loop)
            plugin.timers[id] = timer
            nonisolated(unsafe) let user = user
            timer.start(afterMilliseconds: timeout, repeatingMilliseconds: repeating) { [unowned plugin] in
                if repeating == 0, let timer = plugin.timers.removeValue(forKey: id) { timer.close() }
                Blame.around(plugin, "timer \(id)") { callback(user) }
            }
            return id
        }
        host.timer_stop = { host, id in
            defer { HostCallStatus.set(PLEXUS_OK) }
            PluginInstance.from(host).timers.removeValue(forKey: id)?.close()
        }
        host.queue_work = { host, work, after, user in
            let plugin = PluginInstance.from(host)
            guard let work else {
                HostCallStatus.set(PLEXUS_E_INVALID_ARGUMENT)
                return Int32(PLEXUS_ERROR.rawValue)
            }
            nonisolated(unsafe) let user = user
            let owner = plugin.name, file = plugin.fileName
            // Each plugin has its own bound on the shared pool (`[plugins] offloop_threads_per_plugin`).
            plugin.services.offLoop.enqueue(owner: owner, work: {
                Blame.offLoop(plugin: owner, file: file, what: "queue_work (off-loop work)") { work(user) }
            }, after: { ran in
                guard let after else { return }
                Blame.mark(name: owner, what: "queue_work completion")
                defer { Blame.clear() }
                HostCallStatus.set(ran ? PLEXUS_OK : PLEXUS_E_CANCELLED)
                after(user, ran ? Int32(PLEXUS_OK.rawValue) : Int32(PLEXUS_ERROR.rawValue))
            })
            HostCallStatus.set(PLEXUS_OK)
            return Int32(PLEXUS_OK.rawValue)
        }
        host.post = { host, callback, user in
            guard let callback else { return HostCallStatus.set(PLEXUS_E_INVALID_ARGUMENT) }
            HostCallStatus.set(PLEXUS_OK)
            // Any thread: only immutable fields (`services`, `loop`) and the loop's locked queue are touched.
            let plugin = PluginInstance.from(host)
            guard Blame.record != nil else { return plugin.services.loop.post(callback, user) }
            let owner = plugin.name
            nonisolated(unsafe) let user = user
            plugin.services.loop.execute {
                Blame.mark(name: owner, what: "post callback")
                defer { Blame.clear() }
                callback(user)
            }
        }
        host.start_complete = { host, status, message in
            // Set on return: completing a start may run other plugins' hooks on this thread.
            defer { HostCallStatus.set(PLEXUS_OK) }
            let plugin = PluginInstance.from(host)
            let text = message.map { String(cString: $0) } ?? "on_start reported an error"
            let complete = plugin.onStartComplete
            plugin.onStartComplete = nil
            complete?(status == Int32(PLEXUS_OK.rawValue) ? .success(()) : .failure(PluginLoadError(.startFailed, "plugin '\(plugin.name)' failed to start: \(text)")))
        }
        host.stop_complete = { host in
            defer { HostCallStatus.set(PLEXUS_OK) }
            let plugin = PluginInstance.from(host)
            let complete = plugin.onStopComplete
            plugin.onStopComplete = nil
            complete?()
        }
        installBus(into: &host)
        installStorage(into: &host)
        installMetrics(into: &host)
        installAlerts(into: &host)
        installTenants(into: &host)
        installAudit(into: &host)
        host.last_status = { _ in HostCallStatus.current }
        host.status_text = { _, status in plexus_strerror(status) }
        host.swift_compiler = SwiftToolchainCheck.runtimeCompiler
        return host
    }

    /// Reports `failure` the ABI 1.0 way (message, PLEXUS_ERROR) and the ABI 1.4 way (last_status).
    static func fail(_ failure: HostCallFailure, to error: UnsafeMutablePointer<plexus_error>?) -> Int32 {
        HostCallStatus.set(failure.status)
        write(failure.description, to: error)
        return Int32(PLEXUS_ERROR.rawValue)
    }

    static func write(_ message: String, to error: UnsafeMutablePointer<plexus_error>?) {
        guard let error, let buffer = error.pointee.message, error.pointee.capacity > 0 else { return }
        let bytes = Array(message.utf8.prefix(error.pointee.capacity - 1))
        for (index, byte) in bytes.enumerated() { buffer[index] = CChar(bitPattern: byte) }
        buffer[bytes.count] = 0
    }

    static func logLevel(_ level: Int32) -> Logger.Level {
        switch level {
        case ..<1: .trace
        case 1: .debug
        case 2: .info
        case 3: .notice
        case 4: .warning
        case 5: .error
        default: .critical
        }
    }
}
