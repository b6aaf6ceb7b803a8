import CPlexusABI

/// Request/reply between plugins: a plugin offers a named service answered by exactly one
/// handler in the process; others call it with a timeout (needs a runtime with ABI 1.1).
@PluginActor
public final class Services {
    let driver: any ServiceDriver

    init(driver: any ServiceDriver) { self.driver = driver }

    /// Offers `name`; the handler's result is the reply, a thrown error becomes a failed reply.
    public func register(_ name: String, _ handler: @escaping @PluginActor ([UInt8]) async throws -> [UInt8]) throws {
        try driver.register(name, handler)
    }

    /// Calls `name` and returns its reply, or throws when there is no such service, the call
    /// times out, or the handler failed.
    public func call(_ name: String, payload: [UInt8], timeout: Duration = .seconds(5)) async throws -> [UInt8] {
        try await driver.call(name, payload: payload, timeout: max(timeout, .milliseconds(1)))
    }

    /// Calls `name` with a timeout in milliseconds (see ``call(_:payload:timeout:)``).
    @available(*, deprecated, message: "use call(_:payload:timeout:) with a Duration, e.g. .seconds(1)")
    public func call(_ name: String, payload: [UInt8], timeoutMilliseconds: UInt64) async throws -> [UInt8] {
        try await driver.call(name, payload: payload, timeout: .milliseconds(Int64(clamping: timeoutMilliseconds)))
    }
}

/// Services over the host vtable.
@PluginActor
final class HostServiceDriver: ServiceDriver {
    let bridge: HostBridge
    private var handlers: [ServiceBox] = []

    init(bridge: HostBridge) { self.bridge = bridge }

    func register(_ name: String, _ handler: @escaping @PluginActor ([UInt8]) async throws -> [UInt8]) throws {
        guard bridge.has(\.service_register) else { throw PluginError.unsupported("services (runtime ABI 1.0)") }
        let box = ServiceBox(bridge: bridge, handler: handler)
        var message = [CChar](repeating: 0, count: 256)
        let status = name.withCString { nameC in
            message.withUnsafeMutableBufferPointer { buffer in
                var error = plexus_error(message: buffer.baseAddress, capacity: buffer.count)
                return bridge.host.pointee.service_register(bridge.host, nameC, ServiceBox.called, Unmanaged.passUnretained(box).toOpaque(), &error)
            }
        }
        guard status == Int32(PLEXUS_OK.rawValue) else {
            throw PluginError.serviceFailed(name, String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)).withLastStatus()
        }
        handlers.append(box)
    }

    func call(_ name: String, payload: [UInt8], timeout: Duration) async throws -> [UInt8] {
        let timeoutMilliseconds = timeout.hostMilliseconds
        guard bridge.has(\.service_call) else { throw PluginError.unsupported("services (runtime ABI 1.0)") }
        let bridge = self.bridge
        return try await withCheckedThrowingContinuation { continuation in
            let box = Unmanaged.passRetained(ReplyBox(service: name, continuation: continuation)).toOpaque()
            name.withCString { nameC in
                payload.withUnsafeBytes { bytes in
                    let raw = plexus_bytes(data: bytes.baseAddress?.assumingMemoryBound(to: CChar.self), length: bytes.count)
                    bridge.host.pointee.service_call(bridge.host, nameC, raw, timeoutMilliseconds, ReplyBox.replied, box)
                }
            }
        }
    }
}

/// A service handler kept alive for the runtime.
@PluginActor
final class ServiceBox {
    let bridge: HostBridge
    let handler: @PluginActor ([UInt8]) async throws -> [UInt8]

    init(bridge: HostBridge, handler: @escaping @PluginActor ([UInt8]) async throws -> [UInt8]) {
        self.bridge = bridge
        self.handler = handler
    }

    nonisolated static let called: plexus_service_handler = { user, token, payload in
        let box = Unmanaged<ServiceBox>.fromOpaque(user!).takeUnretainedValue()
        let bytes = payload.bytes
        PluginActor.runOnLoop { box.answer(token, bytes) }
    }

    func answer(_ token: UInt64, _ payload: [UInt8]) {
        Task { @PluginActor in
            let (status, reply): (Int32, [UInt8])
            do {
                (status, reply) = (Int32(PLEXUS_OK.rawValue), try await handler(payload))
            } catch {
                (status, reply) = (Int32(PLEXUS_ERROR.rawValue), Array("\(error)".utf8))
            }
            reply.withUnsafeBytes { bytes in
                bridge.host.pointee.service_reply(bridge.host, token, status,
                                                  plexus_bytes(data: bytes.baseAddress?.assumingMemoryBound(to: CChar.self), length: bytes.count))
            }
        }
    }
}

/// Resumes a `call` when the reply or the failure arrives.
final class ReplyBox: @unchecked Sendable {
    let service: String
    let continuation: CheckedContinuation<[UInt8], Error>

    init(service: String, continuation: CheckedContinuation<[UInt8], Error>) {
        self.service = service
        self.continuation = continuation
    }

    static let replied: plexus_reply_cb = { user, status, payload in
        let box = Unmanaged<ReplyBox>.fromOpaque(user!).takeRetainedValue()
        if status == Int32(PLEXUS_OK.rawValue) {
            box.continuation.resume(returning: payload.bytes)
        } else {
            box.continuation.resume(throwing: PluginError.serviceFailed(box.service, payload.string).withLastStatus())
        }
    }
}
