import CPlexusABI
import Foundation

/// Request/reply services between plugins: each name is answered by exactly one handler; a call
/// either gets the reply or fails (no such service, timeout, handler error). Loop thread only.
final class ServiceRegistry {
    struct Service {
        unowned(unsafe) let plugin: PluginInstance
        let handler: plexus_service_handler
        let user: UnsafeMutableRawPointer?
    }

    private struct PendingCall {
        let service: String
        /// The calling plugin, whose `reply` runs marked as its code in the blame record.
        unowned(unsafe) let caller: PluginInstance?
        let reply: plexus_reply_cb
        let user: UnsafeMutableRawPointer?
        let timer: LoopTimer
    }

    private let loop: EventLoop
    private var services: [String: Service] = [:]
    /// The other instances' services (cluster mode; nil: this process only).
    var remote: (any RemoteServices)?
    private var pending: [UInt64: PendingCall] = [:]
    private var nextToken: UInt64 = 1

    init(loop: EventLoop) { self.loop = loop }

    /// Registers `name`, or returns why not.
    func register(_ name: String, _ service: Service) -> HostCallFailure? {
        guard !name.isEmpty, name.utf8.count <= 128 else { return HostCallFailure(PLEXUS_E_INVALID_ARGUMENT, "service name must be 1 to 128 bytes") }
        if let existing = services[name] {
            return HostCallFailure(PLEXUS_E_ALREADY_EXISTS, "service '\(name)' is already offered by plugin '\(existing.plugin.name)'")
        }
        services[name] = service
        remote?.offered(name)
        return nil
    }

    /// The services offered here now, by name.
    var offeredNames: [String] { services.keys.sorted() }

    /// Drops every service of `plugin`, failing its in-flight calls' replies as they time out.
    func removeAll(of plugin: PluginInstance) {
        for (name, service) in services where service.plugin === plugin { remote?.withdrawn(name) }
        services = services.filter { $0.value.plugin !== plugin }
    }

    /// Calls `name` for `caller`; `reply` runs exactly once, on the loop, marked as `caller`'s code.
    /// Neither the service's handler nor `reply` runs before this returns (the ABI's promise that
    /// no callback fires inside the host call that registered it, even for a plugin calling its
    /// own service or a handler that answers at once).
    /// `localOnly`: answered by this process's plugins even in a cluster (a call another instance sent here).
    func call(_ name: String, caller: PluginInstance? = nil, payload: [UInt8], timeoutMilliseconds: UInt64, localOnly: Bool = false,
              reply: @escaping plexus_reply_cb, user: UnsafeMutableRawPointer?) {
        let local = services[name].map { $0.plugin.status.state == .running } ?? false
        if !localOnly, let remote, remote.take(name, local: local, payload: payload, timeoutMilliseconds: timeoutMilliseconds, reply: { result in
            Self.marked(caller, "service \(name) reply") {
                switch result {
                case .success(let bytes):
                    HostCallStatus.set(PLEXUS_OK)
                    bytes.withUnsafeBytes { raw in
                        reply(user, Int32(PLEXUS_OK.rawValue), plexus_bytes(data: raw.baseAddress?.assumingMemoryBound(to: CChar.self), length: raw.count))
                    }
                case .failure(let failure):
                    let status = failure.kind == .notFound ? PLEXUS_E_NOT_FOUND : failure.kind == .timeout ? PLEXUS_E_TIMEOUT : PLEXUS_E_REMOTE_FAILED
                    Self.fail(reply, user, status, failure.message)
                }
            }
        }) {
            return
        }
        guard let service = services[name], service.plugin.status.state == .running else {
            loop.execute { Self.marked(caller, "service \(name) reply") { Self.fail(reply, user, PLEXUS_E_NOT_FOUND, "no running plugin offers service '\(name)'") } }
            return
        }
        let token = nextToken
        nextToken += 1
        let timer = LoopTimer(loop: loop)
        pending[token] = PendingCall(service: name, caller: caller, reply: reply, user: user, timer: timer)
        timer.start(afterMilliseconds: max(timeoutMilliseconds, 1)) { [unowned self] in
            guard let call = pending.removeValue(forKey: token) else { return }
            call.timer.close()
            Self.marked(call.caller, "service \(name) reply") {
                Self.fail(call.reply, call.user, PLEXUS_E_TIMEOUT, "service '\(name)' did not answer within \(timeoutMilliseconds) ms")
            }
        }
        loop.execute { [unowned self] in
            // The handler's plugin may have stopped meanwhile: then the call times out like any unanswered one.
            guard pending[token] != nil, services[name]?.plugin === service.plugin, service.plugin.status.state == .running else { return }
            payload.withUnsafeBytes { bytes in
                Blame.around(service.plugin, "service \(name)") {
                    service.handler(service.user, token, plexus_bytes(data: bytes.baseAddress?.assumingMemoryBound(to: CChar.self), length: bytes.count))
                }
            }
        }
    }

    /// Delivers a handler's answer; late or duplicate answers are ignored.
    func reply(token: UInt64, status: Int32, payload: plexus_bytes) {
        guard let call = pending.removeValue(forKey: token) else { return }
        call.timer.close()
        // Copied now (the caller of service_reply may free it), delivered after service_reply returns.
        let bytes = payload.data.map { Array(UnsafeRawBufferPointer(start: $0, count: payload.length)) } ?? []
        let succeeded = status == Int32(PLEXUS_OK.rawValue)
        loop.execute {
            Self.marked(call.caller, "service \(call.service) reply") {
                HostCallStatus.set(succeeded ? PLEXUS_OK : PLEXUS_E_REMOTE_FAILED)
                bytes.withUnsafeBytes { raw in
                    call.reply(call.user, succeeded ? Int32(PLEXUS_OK.rawValue) : Int32(PLEXUS_ERROR.rawValue),
                               plexus_bytes(data: raw.baseAddress?.assumingMemoryBound(to: CChar.self), length: raw.count))
                }
            }
        }
    }

    /// Runs `body` marked as `caller`'s `what` in the blame record (unmarked without a caller).
    private static func marked(_ caller: PluginInstance?, _ what: @autoclosure () -> String, _ body: () -> Void) {
        guard let caller else { return body() }
        Blame.around(caller, what(), body)
    }

    private static func fail(_ reply: plexus_reply_cb, _ user: UnsafeMutableRawPointer?, _ status: plexus_status, _ message: String) {
        HostCallStatus.set(status)
        var text = message
        text.withUTF8 { bytes in
            reply(user, Int32(PLEXUS_ERROR.rawValue), plexus_bytes(data: UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self), length: bytes.count))
        }
    }
}
